"""Schedule triggers: cron expressions, their ticks, and the django-celery-beat rows that fire them.

Beat's tables are operator tables: the router sends them to the owner connection, which is not the
tenant transaction an automation is saved in. So the PeriodicTask follows the automation *after* it
commits (`schedule_sync_on_commit`), reading the automation's committed state, which makes any number
of syncs converge; and a tick re-checks the automation before it fires, so a row left behind by a
crash fires nothing.

Celery's crontab reads the five fields as cron does (minute, hour, day of month, month, day of week;
Sunday is 0 or 7), except that a day must match both day fields when both are restricted.
"""

import json
import re
from datetime import datetime, timedelta

from celery.schedules import crontab
from django.db import router, transaction

from automations.mapping import zone
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy, tenant_context

TICK_TASK = "automations.schedule_tick_task"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
CRON_FIELD_PATTERN = re.compile(r"^[0-9A-Za-z*,/\-]{1,100}$")
# Far enough back for any cron that ever fires (29 February of a leap year, at most 8 years apart).
SEARCH_DAYS = 8 * 366


def periodic_task_name(automation_id):
    return f"automation:{automation_id}"


def cron_fields(expression):
    """{minute, hour, day_of_month, month_of_year, day_of_week} of a five-field cron; ValueError naming the fault."""
    if not isinstance(expression, str):
        raise ValueError('must be a five-field cron expression such as "0 9 * * 1-5"')
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f'must have five fields (minute hour day-of-month month day-of-week), such as "0 9 * * 1-5"; it has {len(parts)}'
        )
    for name, part in zip(CRON_FIELDS, parts):
        if not CRON_FIELD_PATTERN.match(part):
            raise ValueError(f"its {name.replace('_', ' ')} field {part[:20]!r} has characters cron does not use")
    fields = dict(zip(CRON_FIELDS, parts))
    try:
        crontab(**fields)
    except Exception as exc:  # noqa: BLE001 - celery's parser raises ValueError, IndexError, KeyError…
        raise ValueError(f"is not a cron expression Celery can run: {exc}") from None
    return fields


def _expanded(fields):
    parsed = crontab(**fields)
    return parsed.minute, parsed.hour, parsed.day_of_month, parsed.month_of_year, parsed.day_of_week


def _day_matches(day, expanded):
    _, _, days_of_month, months, days_of_week = expanded
    return day.month in months and day.day in days_of_month and (day.isoweekday() % 7) in days_of_week


def cron_previous(fields, timezone_name, at):
    """The latest tick of the cron at or before `at` (aware), in UTC; None if it never fired in SEARCH_DAYS."""
    tz = zone(timezone_name)
    expanded = _expanded(fields)
    minutes, hours = sorted(expanded[0], reverse=True), sorted(expanded[1], reverse=True)
    local = at.astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
    for offset in range(SEARCH_DAYS):
        day = (local - timedelta(days=offset)).date()
        if not _day_matches(day, expanded):
            continue
        for hour in hours:
            for minute in minutes:
                candidate = datetime(day.year, day.month, day.day, hour, minute)
                if candidate <= local:
                    tick = candidate.replace(tzinfo=tz)
                    if tick <= at:
                        return tick.astimezone(zone("UTC"))
    return None


def cron_next(fields, timezone_name, after):
    """The first tick of the cron strictly after `after` (aware), in UTC; None if none in SEARCH_DAYS."""
    tz = zone(timezone_name)
    expanded = _expanded(fields)
    minutes, hours = sorted(expanded[0]), sorted(expanded[1])
    local = after.astimezone(tz).replace(tzinfo=None)
    for offset in range(SEARCH_DAYS):
        day = (local + timedelta(days=offset)).date()
        if not _day_matches(day, expanded):
            continue
        for hour in hours:
            for minute in minutes:
                candidate = datetime(day.year, day.month, day.day, hour, minute)
                if candidate > local:
                    tick = candidate.replace(tzinfo=tz)
                    if tick > after:
                        return tick.astimezone(zone("UTC"))
    return None


# Beat's rows


def schedule_sync_on_commit(*, automation_id, organization_id):
    """Once the caller's transaction commits, make beat's PeriodicTask match the automation's committed state."""
    from automations.models import Automation

    transaction.on_commit(
        lambda: schedule_sync(automation_id=automation_id, organization_id=organization_id),
        using=router.db_for_write(Automation), robust=True,
    )


def schedule_sync(*, automation_id, organization_id):
    """Create, update, enable, disable or delete the automation's PeriodicTask to match the automation. Idempotent.

    Returns the PeriodicTask, or None when the automation has no schedule (any row it had is deleted).
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from automations.models import Automation

    with tenant_context(organization_id):
        automation = (
            Automation.objects.filter(pk=automation_id, trigger_type=Automation.TriggerType.SCHEDULE)
            .select_related("project")
            .first()
        )
    name = periodic_task_name(automation_id)
    with transaction.atomic(using=OWNER_DB_ALIAS):
        if automation is None:
            for stale in PeriodicTask.objects.using(OWNER_DB_ALIAS).select_for_update().filter(name=name):
                stale.delete()  # through the model, so beat notices the change
            return None
        fields = cron_fields(automation.trigger["cron"])
        schedule, _ = CrontabSchedule.objects.using(OWNER_DB_ALIAS).get_or_create(
            **fields, timezone=zone(automation.trigger["timezone"])
        )
        task = PeriodicTask.objects.using(OWNER_DB_ALIAS).select_for_update().filter(name=name).first()
        task = task or PeriodicTask(name=name)
        task.task = TICK_TASK
        task.crontab = schedule
        task.interval = task.solar = task.clocked = None
        task.kwargs = json.dumps({"automation_id": automation.id})
        # TenantTask runs the tick in the automation's organization (renderowl.celery).
        task.headers = json.dumps({"organization_id": str(organization_id)})
        task.queue = None  # CELERY_TASK_ROUTES sends it to `automations`
        task.enabled = automation.enabled and automation.project.deleted_at is None
        task.description = f"Schedule trigger of the automation {automation.id}"
        task.save()
        return task


def schedules_reconcile():
    """Beat, every few minutes: repair any PeriodicTask a crash left out of step with its automation. Operator path.

    A sync runs after the automation's transaction commits; a process that died in between left beat's row
    missing, stale or orphaned. Returns how many automations' rows it synced (rows already right stay as they are).
    """
    from django_celery_beat.models import PeriodicTask

    from automations.models import Automation

    with dangerously_bypass_tenancy(reason="reconcile automation schedules", routine=True):
        wanted = {
            automation_id: (organization_id, enabled and deleted_at is None, cron, timezone_name)
            for automation_id, organization_id, enabled, deleted_at, cron, timezone_name in Automation.objects.filter(
                trigger_type=Automation.TriggerType.SCHEDULE
            ).values_list("id", "organization_id", "enabled", "project__deleted_at", "trigger__cron", "trigger__timezone")
        }
        rows = {
            task.name.removeprefix("automation:"): task
            for task in PeriodicTask.objects.using(OWNER_DB_ALIAS).select_related("crontab").filter(
                name__startswith="automation:"
            )
        }
    synced = 0
    for automation_id in sorted(set(wanted) | set(rows)):
        row = rows.get(automation_id)
        if automation_id in wanted:
            organization_id, enabled, cron, timezone_name = wanted[automation_id]
            if row is not None and row.enabled == enabled and _crontab_matches(row.crontab, cron, timezone_name):
                continue
        else:
            organization_id = json.loads(row.headers or "{}").get("organization_id")
            if organization_id is None:  # not one of ours: leave it
                continue
        schedule_sync(automation_id=automation_id, organization_id=organization_id)
        synced += 1
    return synced


def _crontab_matches(crontab_row, cron, timezone_name):
    if crontab_row is None:
        return False
    try:
        fields = cron_fields(cron)
    except ValueError:
        return False
    return all(getattr(crontab_row, name) == value for name, value in fields.items()) and (
        str(crontab_row.timezone) == timezone_name
    )
