"""Deliveries in batches: one claim, concurrent sends bounded per receiver, records as outcomes arrive.

The receivers are real local HTTP servers; a held receiver answers only when the test lets it, so
the order of events is controlled, never raced with sleeps.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from events.services import (
    COALESCED_REPUBLISH,
    dispatch_clear_pending,
    dispatch_mark_pending,
    event_dispatch,
    event_emit,
    events_sweep_unpublished,
)
from renderowl.celery import app
from renderowl.tenancy import tenant_context
from tests.conftest import Tenant
from tests.webhooks.receiver import Receiver
from webhooks.delivery import UNFINISHED, deliveries_attempt, deliveries_lease_due
from webhooks.fanout import deliveries_create
from webhooks.models import Attempt, Delivery

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


@pytest.fixture
def acme(loopback):
    return Tenant("Acme")


class Held:
    """A receiver's request hook that counts requests and holds each until `release()` (or 30 s)."""

    def __init__(self):
        self.released = threading.Event()
        self.count = 0

    def __call__(self):
        self.count += 1
        self.released.wait(timeout=30)

    def release(self):
        self.released.set()


def register(tenant, url):
    response = tenant.client.post("/v1/webhooks", {"url": url}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def emit(tenant, project_id, now):
    with tenant_context(tenant.id):
        event = event_emit(type="render.completed", organization_id=tenant.id, project_id=project_id,
                           data={"id": "rnd_test"}, publish=False)
        deliveries_create(event=event, now=now)
    return event


def deliveries(tenant):
    with tenant_context(tenant.id):
        return {d.url: d for d in Delivery.objects.select_related("endpoint")}


def wait_until(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_a_slow_receiver_holds_back_neither_the_sends_nor_the_records_of_the_others(acme):
    project = acme.create_project(name="P")
    held = Held()
    now = timezone.now()
    with Receiver(on_request=held) as slow, Receiver() as fast:
        register(acme, slow.url)
        register(acme, fast.url)
        emit(acme, project["id"], now)
        leased = [(delivery_id, token) for delivery_id, token, _ in deliveries_lease_due(now=now)]
        assert len(leased) == 2
        batch = threading.Thread(target=deliveries_attempt, kwargs={
            "organization_id": acme.id, "leased": leased, "now": now,
        })
        batch.start()
        try:
            wait_until(lambda: deliveries(acme)[fast.url].status == "succeeded")
            # The fast receiver's outcome is recorded while the slow one still holds its request.
            still = deliveries(acme)[slow.url]
            assert (held.count, still.status, still.attempt_count) == (1, "pending", 1)
            with tenant_context(acme.id):
                assert Attempt.objects.get(delivery=still).error == UNFINISHED
        finally:
            held.release()
            batch.join(timeout=30)
    assert deliveries(acme)[slow.url].status == "succeeded"


def test_a_receiver_that_does_not_answer_gets_no_more_sends_from_the_batch(acme, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1
    project = acme.create_project(name="P")
    held = Held()
    now = timezone.now()
    with Receiver(on_request=held) as silent:
        register(acme, silent.url)
        events = [emit(acme, project["id"], now) for _ in range(3)]
        leased = [(delivery_id, token) for delivery_id, token, _ in deliveries_lease_due(now=now)]
        try:
            assert deliveries_attempt(organization_id=acme.id, leased=leased, now=now) == 1
        finally:
            held.release()
    assert held.count == 1
    with tenant_context(acme.id):
        rows = list(Delivery.objects.filter(event__in=events).order_by("attempt_count"))
        attempts = list(Attempt.objects.values_list("error", flat=True))
    # The two never sent are released: no attempt counted or logged, no lease, still due.
    released, (attempted,) = rows[:2], rows[2:]
    assert [(d.status, d.attempt_count, d.lease_token, d.next_attempt_at <= now) for d in released] == [
        ("pending", 0, "", True)
    ] * 2
    assert (attempted.attempt_count, attempted.next_attempt_at > now) == (1, True)
    assert len(attempts) == 1 and "Timeout" in attempts[0]
    # The next dispatch hands the released ones on.
    assert {delivery_id for delivery_id, _, _ in deliveries_lease_due(now=now)} == {d.id for d in released}


def purge_events_queue():
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_purge("events") or 0


def test_a_burst_of_commits_publishes_one_dispatch_that_takes_every_event(acme):
    project = acme.create_project(name="P")
    purge_events_queue()
    emitted = []
    for _ in range(3):
        with tenant_context(acme.id):
            emitted.append(event_emit(type="render.queued", organization_id=acme.id, project_id=project["id"], data={}))
    assert purge_events_queue() == 1  # the first commit's; the others waited for that dispatch
    with tenant_context(acme.id):
        assert event_dispatch(event_id=emitted[0].id) is not None
    with tenant_context(acme.id):
        assert Event.objects.filter(published_at__isnull=True).count() == 0
    # Once a dispatch has started looking, the next commit publishes its own.
    with tenant_context(acme.id):
        event_emit(type="render.queued", organization_id=acme.id, project_id=project["id"], data={})
    assert purge_events_queue() == 1


def test_a_commit_that_rides_on_a_queued_dispatch_is_due_for_the_sweep_soon(acme, settings):
    """Should the queued dispatch's message be lost, its riders are republished after COALESCED_REPUBLISH."""
    project = acme.create_project(name="P")
    purge_events_queue()
    emitted = []
    for _ in range(2):
        with tenant_context(acme.id):
            emitted.append(event_emit(type="render.queued", organization_id=acme.id, project_id=project["id"], data={}))
    assert purge_events_queue() == 1  # the first commit's message, "lost" here
    # A dispatch queued between an event's insert and its commit: the commit still brings the event forward.
    with tenant_context(acme.id):
        dispatch_clear_pending(acme.id)
        emitted.append(event_emit(type="render.queued", organization_id=acme.id, project_id=project["id"], data={}))
        assert dispatch_mark_pending(acme.id)
    assert purge_events_queue() == 0
    with tenant_context(acme.id):
        waits = [
            (event.next_publish_at - event.created_at).total_seconds()
            for event in Event.objects.filter(pk__in=[e.pk for e in emitted]).order_by("created_at")
        ]
    coalesced = COALESCED_REPUBLISH.total_seconds()
    assert waits[0] == settings.EVENTS_REPUBLISH_AFTER_SECONDS  # its own message: probably just queued
    assert waits[1] == coalesced  # rode on the first one's dispatch
    assert 0 < waits[2] <= coalesced + 1  # rode on a dispatch queued after its insert
    # The sweep at COALESCED_REPUBLISH republishes the two riders only.
    with tenant_context(acme.id):
        created = Event.objects.get(pk=emitted[1].pk).created_at
    assert events_sweep_unpublished(now=created + COALESCED_REPUBLISH + timedelta(seconds=2)) == 2
