"""Operator paths for webhooks: the admin's actions and the prune command."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.models import Event
from tests.conftest import Tenant
from tests.webhooks.receiver import Receiver, Reply
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


@pytest.fixture
def failed_delivery(loopback, worked):
    tenant = Tenant("Ops")
    project = tenant.create_project(name="P")
    with Receiver(Reply(status=410)) as gone:
        endpoint = tenant.client.post("/v1/webhooks", {"url": gone.url, "projectIds": [project["id"]]}, format="json").json()
        delivery = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")).json()
    return tenant, endpoint, delivery


def test_admin_lists_endpoints_events_and_deliveries_with_attempts(operator, failed_delivery):
    _, endpoint, delivery = failed_delivery
    assert endpoint["url"] in operator.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert delivery["eventId"] in operator.get("/admin/events/event/").content.decode()
    page = operator.get(f"/admin/webhooks/delivery/{delivery['id']}/change/").content.decode()
    assert "410" in page


def test_admin_retry_action_schedules_another_attempt(operator, failed_delivery):
    _, _, delivery = failed_delivery
    operator.post("/admin/webhooks/delivery/", {"action": "retry", "_selected_action": [delivery["id"]]})
    row = Delivery.objects.using("owner").get(pk=delivery["id"])
    assert (row.status, row.max_attempts) == ("pending", 2)
    assert row.next_attempt_at <= timezone.now()


def test_admin_reenable_action(operator, failed_delivery):
    tenant, endpoint, _ = failed_delivery
    WebhookEndpoint.objects.using("owner").filter(pk=endpoint["id"]).update(status="disabled", enabled=False, consecutive_failures=9)
    operator.post("/admin/webhooks/webhookendpoint/", {"action": "reenable", "_selected_action": [endpoint["id"]]})
    refreshed = tenant.client.get(f"/v1/webhooks/{endpoint['id']}").json()
    assert (refreshed["status"], refreshed["enabled"], refreshed["consecutiveFailures"]) == ("active", True, 0)


def test_pruneevents_deletes_only_old_history(failed_delivery):
    _, _, delivery = failed_delivery
    old_event = Event.objects.using("owner").get(pk=delivery["eventId"])
    Event.objects.using("owner").filter(pk=old_event.pk).update(created_at=timezone.now() - timedelta(days=40))
    out = io.StringIO()

    call_command("pruneevents", "--days", "30", stdout=out)

    output = out.getvalue().strip()
    assert output.startswith("Deleted ") and output.endswith(" older than 30 days.")
    assert "1 events.Event" in output and "1 webhooks.Delivery" in output
    assert not Delivery.objects.using("owner").exists()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("pruneevents", "--days", "0")


def test_the_daily_prune_task_keeps_recent_history(failed_delivery, settings):
    from events.tasks import prune_events_task

    tenant, endpoint, delivery = failed_delivery
    recent = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json").json()
    Event.objects.using("owner").filter(pk=delivery["eventId"]).update(created_at=timezone.now() - timedelta(days=31))

    deleted = prune_events_task.apply().get()
    assert (deleted["events.Event"], deleted["webhooks.Delivery"]) == (1, 1)
    assert list(Delivery.objects.using("owner").values_list("id", flat=True)) == [recent["id"]]
