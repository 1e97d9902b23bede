"""Schedule triggers: cron ticks (pure), the PeriodicTask beat keeps in step with the automation, and beat's own
scheduler, driven past a tick, firing a run through a real worker."""

import time
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from automations.models import AutomationRun
from automations.schedules import cron_fields, cron_next, cron_previous, periodic_task_name
from renderowl.celery import app
from renderowl.tenancy import tenant_context
from tests.automations.conftest import create_automation, template_document
from tests.conftest import Tenant
from tests.renders.conftest import upload_template

UTC = timezone.utc


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("cron, zone, at, previous, following", [
    ("0 9 * * 1-5", "Europe/Berlin", utc(2026, 12, 6, 12), utc(2026, 12, 4, 8), utc(2026, 12, 7, 8)),  # Sun → Fri, Mon
    ("0 9 * * 1-5", "Europe/Berlin", utc(2026, 7, 1, 12), utc(2026, 7, 1, 7), utc(2026, 7, 2, 7)),  # summer time
    ("*/15 * * * *", "UTC", utc(2026, 1, 1, 0, 14, 59), utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 15)),
    ("30 2 * * *", "Europe/Berlin", utc(2026, 3, 29, 3), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)),  # DST gap
    ("0 0 29 2 *", "UTC", utc(2026, 6, 1), utc(2024, 2, 29), utc(2028, 2, 29)),
])
def test_cron_ticks_in_their_time_zone(cron, zone, at, previous, following):
    fields = cron_fields(cron)
    assert cron_previous(fields, zone, at) == previous
    assert cron_next(fields, zone, at) == following


def test_a_tick_is_its_own_previous_tick():
    fields = cron_fields("* * * * *")
    assert cron_previous(fields, "UTC", utc(2026, 1, 1, 10, 5)) == utc(2026, 1, 1, 10, 5)
    assert cron_next(fields, "UTC", utc(2026, 1, 1, 10, 5)) == utc(2026, 1, 1, 10, 6)


@pytest.mark.parametrize("cron", ["", "* * * *", "60 * * * *", "* 24 * * *", "* * 32 * *", "*/0 * * * *",
                                  "* * * * * *", "; rm -rf /", 42])
def test_bad_cron_expressions_are_refused(cron):
    with pytest.raises(ValueError):
        cron_fields(cron)


pytestmark_e2e = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def periodic_task(automation_id):
    return PeriodicTask.objects.using("owner").select_related("crontab").filter(
        name=periodic_task_name(automation_id)
    ).first()


@pytest.fixture
def scheduled(asset_storage):
    tenant = Tenant("Beat")
    project = tenant.create_project(name="Mornings")
    template = upload_template(tenant, project["id"], template_document())
    automation = create_automation(
        tenant, project, template, trigger={"type": "schedule", "cron": "* * * * *", "timezone": "Asia/Tokyo"},
        dataMapping={"title": {"path": "$.scheduledAt", "transform": "formatDate", "format": "%H:%M"}},
    )
    return tenant, project, automation


@pytestmark_e2e
def test_the_periodic_task_follows_the_automation(scheduled):
    tenant, project, automation = scheduled
    task = periodic_task(automation["id"])
    assert (task.task, task.enabled, task.kwargs) == (
        "automations.schedule_tick_task", True, f'{{"automation_id": "{automation["id"]}"}}')
    assert task.headers == f'{{"organization_id": "{tenant.id}"}}'
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("*", "*", "Asia/Tokyo")

    url = f"/v1/automations/{automation['id']}"
    tenant.client.patch(url, {"trigger": {"type": "schedule", "cron": "0 9 * * 1-5"}}, format="json")
    task = periodic_task(automation["id"])
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week, str(task.crontab.timezone)) == (
        "0", "9", "1-5", "UTC")
    tenant.client.patch(url, {"enabled": False}, format="json")
    assert periodic_task(automation["id"]).enabled is False
    assert tenant.client.get(url).json()["nextRunAt"] is None
    tenant.client.patch(url, {"enabled": True}, format="json")
    assert periodic_task(automation["id"]).enabled is True
    tenant.client.patch(url, {"trigger": {"type": "webhook"}}, format="json")
    assert periodic_task(automation["id"]) is None
    tenant.client.patch(url, {"trigger": {"type": "schedule", "cron": "0 9 * * *"}}, format="json")
    assert periodic_task(automation["id"]) is not None
    assert tenant.client.delete(url).status_code == 204
    assert periodic_task(automation["id"]) is None


@pytestmark_e2e
def test_deleting_the_project_disables_its_schedules(scheduled):
    tenant, project, automation = scheduled
    tenant.client.delete(f"/v1/projects/{project['id']}")
    assert periodic_task(automation["id"]).enabled is False


@pytestmark_e2e
def test_beat_fires_a_per_minute_schedule_through_a_real_worker_once_its_clock_passes_the_minute(scheduled):
    tenant, project, automation = scheduled
    with app.connection_for_write() as connection:
        for queue in ("automations", "renders", "events"):
            connection.default_channel.queue_purge(queue)
    scheduler = DatabaseScheduler(app=app)
    entry = scheduler.schedule[periodic_task_name(automation["id"])]
    next_minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=1)
    with time_machine.travel(next_minute, tick=False):
        assert entry.is_due().is_due
        scheduler.apply_entry(entry, producer=scheduler.producer)  # what beat's tick does with a due entry
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["automations"]):
        deadline = time.monotonic() + 30
        while True:
            with tenant_context(tenant.id):
                run = AutomationRun.objects.filter(automation_id=automation["id"]).first()
            if run is not None and run.status != "pending":
                break
            assert time.monotonic() < deadline, "the worker made no run of the tick in 30 s"
            time.sleep(0.05)
    assert (run.trigger, run.status, run.dedupe_key[:9]) == ("schedule", "rendering", "schedule:")
    assert run.payload["automationId"] == automation["id"] and run.payload["timezone"] == "Asia/Tokyo"
    assert run.render_id
    with app.connection_for_write() as connection:
        for queue in ("automations", "renders", "events"):
            connection.default_channel.queue_purge(queue)


@pytestmark_e2e
def test_the_reconcile_sweep_repairs_rows_a_crash_left_out_of_step(scheduled):
    from automations.schedules import schedules_reconcile
    from automations.tasks import reconcile_schedules_task

    tenant, project, automation = scheduled
    assert schedules_reconcile() == 0  # nothing to repair
    periodic_task(automation["id"]).delete()  # the process died between the commit and the sync
    assert reconcile_schedules_task() == 1
    restored = periodic_task(automation["id"])
    assert (restored.enabled, restored.crontab.minute, str(restored.crontab.timezone)) == (True, "*", "Asia/Tokyo")
    PeriodicTask.objects.using("owner").filter(pk=restored.pk).update(enabled=False)  # out of step
    stale = PeriodicTask.objects.using("owner").create(
        name=periodic_task_name("aut_gone00000000000000000000"), task="automations.schedule_tick_task",
        crontab=restored.crontab, headers=f'{{"organization_id": "{tenant.id}"}}',
    )
    assert schedules_reconcile() == 2
    assert periodic_task(automation["id"]).enabled is True
    assert not PeriodicTask.objects.using("owner").filter(pk=stale.pk).exists()
    assert schedules_reconcile() == 0
