"""Delivery behaviour with a clock the test controls: retries, backoff, health, filters, rotation.

The outbox and the dispatcher are driven through their services with an explicit `now`,
the way the beat tasks drive them with the real clock; receivers are real local HTTP servers.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from standardwebhooks import Webhook

from events.models import Event
from events.services import event_dispatch, event_emit
from projects.models import Project
from renderowl.tenancy import tenant_context
from tests.conftest import Tenant
from tests.webhooks.receiver import Receiver, Reply
from webhooks.delivery import backoff_delay, deliveries_lease_due, delivery_attempt, retry_after_delay
from webhooks.fanout import deliveries_create
from webhooks.models import Attempt, Delivery, WebhookEndpoint
from webhooks.signing import standard_webhooks_secret

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


@pytest.fixture
def acme(loopback):
    return Tenant("Acme")


def register(tenant, url, **body):
    response = tenant.client.post("/v1/webhooks", {"url": url, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def emit(tenant, project_id, type="render.completed", now=None, **kwargs):
    """Emit an event as a state change would, and create its deliveries as fan-out would (left for run_due)."""
    with tenant_context(tenant.id):
        event = event_emit(
            type=type, organization_id=tenant.id, project_id=project_id, data={"id": "rnd_test", "status": "completed"},
            publish=False, **kwargs,
        )
    with tenant_context(tenant.id):
        deliveries_create(event=event, now=now or timezone.now())
    return event


def run_due(now):
    """What the dispatcher and the workers do at `now`: lease every due delivery and attempt it."""
    attempts = []
    for delivery_id, token, organization_id in deliveries_lease_due(now=now):
        attempts.append(
            delivery_attempt(organization_id=organization_id, delivery_id=delivery_id, lease_token=token, now=now)
        )
    return attempts


def delivery_of(tenant, event):
    with tenant_context(tenant.id):
        return Delivery.objects.select_related("endpoint").get(event=event)


def endpoint_of(tenant, endpoint_id):
    with tenant_context(tenant.id):
        return WebhookEndpoint.objects.get(pk=endpoint_id)


def test_an_event_rolled_back_with_its_change_is_never_recorded(acme):
    project = acme.create_project(name="P")
    with pytest.raises(RuntimeError):
        with tenant_context(acme.id):
            event_emit(type="render.queued", organization_id=acme.id, project_id=project["id"], data={})
            raise RuntimeError("the state change failed")
    with tenant_context(acme.id):
        assert not Event.objects.exists()


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError, match="Unknown event type"):
        event_emit(type="render.exploded", organization_id=None, project_id=None, data={})


def test_a_500_then_200_is_retried_with_the_same_id_and_fresh_signatures(acme):
    project = acme.create_project(name="P")
    now = timezone.now()
    with Receiver(Reply(status=500)) as flaky:
        register(acme, flaky.url)
        event = emit(acme, project["id"], now=now)

        run_due(now)
        assert run_due(now + timedelta(seconds=30)) == []  # not due before the backoff
        run_due(now + timedelta(minutes=2))

        first, second = flaky.received
    delivery = delivery_of(acme, event)
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    verifier = Webhook(standard_webhooks_secret(project["webhookSecret"]))
    for request in (first, second):
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert verifier.verify(request.body, headers)["id"] == event.id
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event.id
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    assert first.body == second.body


def test_a_receiver_that_never_answers_fails_after_six_attempts_and_marks_the_endpoint_failing(acme, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    project = acme.create_project(name="P")
    now = timezone.now()
    with Receiver(default=Reply(delay=2)) as silent:
        endpoint = register(acme, silent.url)
        event = emit(acme, project["id"], now=now)
        for minutes in (0, 2, 5, 10, 20, 40, 80):
            run_due(now + timedelta(minutes=minutes))
        assert len(silent.received) == 6

    delivery = delivery_of(acme, event)
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == ("failed", 6, None)
    with tenant_context(acme.id):
        errors = list(delivery.attempts.values_list("error", flat=True))
    assert all("Timeout" in error for error in errors)
    health = endpoint_of(acme, endpoint["id"])
    assert (health.status, health.consecutive_failures) == ("failing", 1)
    assert acme.client.get(f"/v1/webhooks/{endpoint['id']}").json()["status"] == "failing"


def test_the_retry_schedule_spans_about_thirty_minutes():
    assert [backoff_delay(n, rng=type("Mid", (), {"uniform": staticmethod(lambda a, b: 1.0)})).seconds // 60 for n in range(1, 6)] == [1, 2, 4, 8, 16]
    lowest = sum((backoff_delay(n, rng=type("Low", (), {"uniform": staticmethod(lambda a, b: a)})) for n in range(1, 6)), timedelta())
    highest = sum((backoff_delay(n, rng=type("High", (), {"uniform": staticmethod(lambda a, b: b)})) for n in range(1, 6)), timedelta())
    assert timedelta(minutes=24) <= lowest < highest <= timedelta(minutes=38)


def test_retry_after_is_parsed_as_seconds_or_a_date():
    now = timezone.now()
    assert retry_after_delay("120", now=now) == timedelta(seconds=120)
    assert retry_after_delay(None, now=now) is None
    assert retry_after_delay("soon", now=now) is None
    http_date = (now + timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert timedelta(minutes=4) < retry_after_delay(http_date, now=now) <= timedelta(minutes=5)


def test_retry_after_on_429_is_honoured_within_the_budget(acme):
    project = acme.create_project(name="P")
    now = timezone.now()
    with Receiver(Reply(status=429, headers={"Retry-After": "600"}), Reply(status=503, headers={"Retry-After": "86400"})) as busy:
        register(acme, busy.url)
        event = emit(acme, project["id"], now=now)
        run_due(now)
        waited = delivery_of(acme, event).next_attempt_at - now
        assert timedelta(seconds=600) <= waited < timedelta(seconds=605)  # asked 600 s, more than the backoff
        later = now + timedelta(seconds=605)
        run_due(later)
    delivery = delivery_of(acme, event)
    budget_end = delivery.created_at + timedelta(minutes=35)
    # Asked for a day: waits until the retry budget ends, not a day, and not the 2-minute backoff.
    assert budget_end - timedelta(seconds=5) <= delivery.next_attempt_at <= budget_end + timedelta(seconds=5)


def test_410_gone_disables_the_endpoint_at_once(acme):
    project = acme.create_project(name="P")
    with Receiver(Reply(status=410)) as gone:
        endpoint = register(acme, gone.url)
        event = emit(acme, project["id"])
        run_due(timezone.now())
        emit(acme, project["id"])  # later events skip a disabled endpoint
        run_due(timezone.now())
        assert len(gone.received) == 1
    assert delivery_of(acme, event).status == "failed"
    health = endpoint_of(acme, endpoint["id"])
    assert (health.status, health.disabled_reason) == ("disabled", "The receiver answered 410 Gone.")


def test_redirects_are_failures_and_are_not_followed(acme):
    project = acme.create_project(name="P")
    with Receiver(default=Reply(status=200)) as target:
        with Receiver(Reply(status=302, headers={"Location": target.url})) as redirecting:
            register(acme, redirecting.url)
            event = emit(acme, project["id"])
            (attempt,) = run_due(timezone.now())
        assert target.received == []
    assert (attempt.response_status, attempt.succeeded) == (302, False)
    assert delivery_of(acme, event).status == "pending"


def test_a_run_of_failed_deliveries_disables_the_endpoint_and_success_heals_it(acme, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES = 2
    project = acme.create_project(name="P")
    now = timezone.now()
    with Receiver(default=Reply(status=500)) as failing:
        endpoint = register(acme, failing.url)
        for _ in range(2):
            emit(acme, project["id"], now=now)
            for minutes in (0, 2, 5, 10, 20, 40):
                run_due(now + timedelta(minutes=minutes))
            now += timedelta(hours=1)
    health = endpoint_of(acme, endpoint["id"])
    assert (health.status, health.consecutive_failures) == ("disabled", 2)
    assert "2 deliveries in a row" in health.disabled_reason

    with Receiver() as healthy:
        reenabled = acme.client.patch(f"/v1/webhooks/{endpoint['id']}", {"url": healthy.url, "enabled": True}, format="json")
        assert (reenabled.json()["status"], reenabled.json()["consecutiveFailures"]) == ("active", 0)
        emit(acme, project["id"])
        run_due(timezone.now())
        assert len(healthy.received) == 1


def test_filters_by_type_wildcard_and_project(acme):
    first, second = acme.create_project(name="A"), acme.create_project(name="B")
    with Receiver() as all_events, Receiver() as renders, Receiver() as completed_a, Receiver() as disabled:
        register(acme, all_events.url)
        register(acme, renders.url, events=["render.*"])
        register(acme, completed_a.url, events=["render.completed"], projectIds=[first["id"]])
        register(acme, disabled.url, enabled=False)
        emit(acme, first["id"], "render.completed")
        emit(acme, second["id"], "render.completed")
        emit(acme, first["id"], "asset.ready")
        run_due(timezone.now())
        counts = [len(r.received) for r in (all_events, renders, completed_a, disabled)]
    assert counts == [3, 2, 1, 0]


def test_dispatching_twice_creates_no_duplicate_deliveries(acme):
    project = acme.create_project(name="P")
    with Receiver() as receiver:
        register(acme, receiver.url)
        with tenant_context(acme.id):
            event = event_emit(type="render.queued", organization_id=acme.id, project_id=project["id"], data={})
        with tenant_context(acme.id):
            assert event_dispatch(event_id=event.id) is not None
        with tenant_context(acme.id):
            assert event_dispatch(event_id=event.id) is None
            assert Delivery.objects.filter(event=event).count() == 1


def test_target_urls_get_the_same_signed_delivery(acme):
    project = acme.create_project(name="P")
    with Receiver() as adhoc:
        event = emit(acme, project["id"], target_urls=[adhoc.url])
        run_due(timezone.now())
        (request,) = adhoc.received
    assert request.headers["X-Renderowl-Id"] == event.id
    Webhook(standard_webhooks_secret(project["webhookSecret"])).verify(
        request.body, {k.lower(): v for k, v in request.headers.items()}
    )


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(acme):
    project = acme.create_project(name="P")
    rotated = acme.client.post(f"/v1/projects/{project['id']}/webhook-secret/rotate")
    assert rotated.status_code == 200
    new_secret = rotated.json()["webhookSecret"]
    assert new_secret != project["webhookSecret"]
    assert "webhookSecret" not in acme.client.get(f"/v1/projects/{project['id']}").json()
    with Receiver() as receiver:
        register(acme, receiver.url)
        emit(acme, project["id"])
        run_due(timezone.now())
        later = timezone.now() + timedelta(hours=25)
        emit(acme, project["id"], now=later)
        run_due(later)
        during, after = receiver.received
    assert len(during.headers["webhook-signature"].split()) == 2
    for secret in (project["webhookSecret"], new_secret):
        Webhook(standard_webhooks_secret(secret)).verify(during.body, {k.lower(): v for k, v in during.headers.items()})
    assert len(after.headers["webhook-signature"].split()) == 1
    assert after.headers["X-Renderowl-Signature"] == after.headers["webhook-signature"]


def test_the_send_time_guard_refuses_loopback_when_it_is_not_allowed(acme, settings):
    project = acme.create_project(name="P")
    with Receiver() as receiver:
        register(acme, receiver.url)
        event = emit(acme, project["id"])
        settings.OUTBOUND_ALLOW_LOOPBACK = False
        (attempt,) = run_due(timezone.now())
        assert receiver.received == []
    assert attempt.error.startswith("blocked:") and attempt.response_status is None
    assert delivery_of(acme, event).status == "pending"


def test_tenants_never_see_each_others_events_deliveries_or_attempts(acme):
    other = Tenant("Other")
    project = acme.create_project(name="P")
    with Receiver() as receiver:
        register(acme, receiver.url)
        event = emit(acme, project["id"])
        run_due(timezone.now())
    with tenant_context(acme.id):
        assert (Event.objects.count(), Delivery.objects.count(), Attempt.objects.count()) == (1, 1, 1)
    with tenant_context(other.id):  # unscoped ORM queries: only row-level security stands in the way
        assert (Event.objects.count(), Delivery.objects.count(), Attempt.objects.count()) == (0, 0, 0)
        assert WebhookEndpoint.objects.count() == 0
        assert not Event.objects.filter(pk=event.id).exists()


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, body=b"nul\x00byte"),
        Reply(status=503, headers={"Retry-After": "99999999999999999999"}),
        Reply(status=429, headers={"Retry-After": "\u00b2".encode().decode("latin-1")}),
        Reply(status=429, headers={"Retry-After": "Sat, 31 Dec 9999 23:59:59 GMT"}),
    ],
    ids=["nul-in-body", "huge-retry-after", "non-ascii-retry-after", "far-future-date"],
)
def test_hostile_replies_are_recorded_and_retried_on_schedule(acme, reply):
    project = acme.create_project(name="P")
    now = timezone.now()
    with Receiver(reply) as hostile:
        register(acme, hostile.url)
        event = emit(acme, project["id"], now=now)
        (attempt,) = run_due(now)
    delivery = delivery_of(acme, event)
    assert (delivery.status, delivery.attempt_count, delivery.lease_token) == ("pending", 1, "")
    assert attempt.response_status == reply.status and "\x00" not in attempt.response_body
    assert now + timedelta(seconds=47) < delivery.next_attempt_at <= delivery.created_at + timedelta(minutes=36)


def test_a_manual_retry_of_a_pending_delivery_keeps_its_automatic_retries_and_health(acme, worked):
    project = acme.create_project(name="P")
    now = timezone.now()
    with Receiver(default=Reply(status=500)) as down:
        endpoint = register(acme, down.url)
        event = emit(acme, project["id"], now=now)
        run_due(now)
        delivery = delivery_of(acme, event)
        path = f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery.id}"
        assert worked(lambda: acme.client.post(f"{path}/retry")).status_code == 202
        retried = acme.client.get(path).json()
        assert (retried["status"], retried["attemptCount"]) == ("pending", 2)
        assert [a["manual"] for a in retried["attempts"]] == [False, True]
        for minutes in (2, 5, 10, 20, 40, 80):
            run_due(now + timedelta(minutes=minutes))
        assert len(down.received) == 7  # six automatic attempts and the manual one
    health = endpoint_of(acme, endpoint["id"])
    assert (health.status, health.consecutive_failures) == ("failing", 1)


def test_retries_go_to_the_endpoints_current_url(acme, worked):
    project = acme.create_project(name="P")
    with Receiver(default=Reply(status=500)) as old, Receiver() as new:
        endpoint = register(acme, old.url)
        event = emit(acme, project["id"])
        run_due(timezone.now())
        acme.client.patch(f"/v1/webhooks/{endpoint['id']}", {"url": new.url}, format="json")
        delivery = delivery_of(acme, event)
        path = f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery.id}"
        worked(lambda: acme.client.post(f"{path}/retry"))
        retried = acme.client.get(path).json()
        assert (len(old.received), len(new.received)) == (1, 1)
    assert (retried["status"], retried["url"]) == ("succeeded", new.url)


def test_a_410_to_a_test_event_leaves_the_endpoint_enabled(acme, worked):
    project = acme.create_project(name="P")
    with Receiver(Reply(status=410)) as gone:
        endpoint = register(acme, gone.url, projectIds=[project["id"]])
        worked(lambda: acme.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json"))
        assert len(gone.received) == 1
    assert endpoint_of(acme, endpoint["id"]).status == "active"


def test_duplicate_target_urls_become_one_delivery(acme):
    project = acme.create_project(name="P")
    with Receiver() as adhoc:
        emit(acme, project["id"], target_urls=[adhoc.url, adhoc.url])
        run_due(timezone.now())
        assert len(adhoc.received) == 1


def test_registration_errors_do_not_reveal_internal_addresses(acme, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    resolves = acme.client.post("/v1/webhooks", {"url": "http://localhost/hook"}, format="json").json()
    unknown = acme.client.post("/v1/webhooks", {"url": "http://no-such-host.invalid/hook"}, format="json").json()
    assert resolves["detail"] == unknown["detail"]
    assert "127.0.0.1" not in resolves["detail"]


def test_deliveries_of_a_project_purged_for_good_are_closed_unsent(acme):
    project = acme.create_project(name="P")
    with Receiver() as receiver:
        register(acme, receiver.url)
        event = emit(acme, project["id"])
        Project.objects.using("owner").filter(pk=project["id"]).delete()  # what purgedeleted does, later
        assert run_due(timezone.now()) == [None]
        assert receiver.received == []
    assert delivery_of(acme, event).status == "failed"


def test_a_manual_attempt_requeued_by_the_dispatcher_stays_manual(acme):
    project = acme.create_project(name="P")
    with Receiver(default=Reply(status=500)) as down:
        endpoint = register(acme, down.url, projectIds=[project["id"]])
        queued = acme.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json").json()
        # The queued message is lost (no worker here); once the lease runs out the dispatcher hands it on.
        later = timezone.now() + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 1)
        run_due(later)
    delivery = acme.client.get(f"/v1/webhooks/{endpoint['id']}/deliveries/{queued['id']}").json()
    assert [attempt["manual"] for attempt in delivery["attempts"]] == [True]
