"""Firing automations: a trigger records a run, a worker maps its payload and submits the render, and the
run follows its render to the end.

Every trigger ends in `automation_fire`, which records an AutomationRun (pending) and queues its
execution on the `automations` queue once committed. A trigger event carries a dedupe key (the hook's
Idempotency-Key, the schedule's tick, the asset event's id): the same key makes no second run.
"""

import json
import logging
from collections import defaultdict

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from automations.mapping import MappingFailure, mapping_apply
from automations.models import Automation, AutomationRun
from automations.schedules import cron_fields, cron_previous
from events.services import event_emit
from renderowl.celery import enqueue
from renderowl.errors import DomainError, Unprocessable
from renders.services import render_create

logger = logging.getLogger(__name__)

RUN_TASK = "automations.run_automation_task"
RENDER_OUTCOMES = {"render.completed", "render.failed", "render.cancelled"}


def automation_fire(*, automation, trigger, payload, dedupe_key=""):
    """Record a run of `automation` for `payload` and queue its execution on commit; (run, created).

    A `dedupe_key` seen before for this automation returns that first run, and queues nothing.
    """
    run = AutomationRun(
        organization_id=automation.organization_id, automation=automation, trigger=trigger, payload=payload,
        dedupe_key=dedupe_key,
    )
    if dedupe_key:
        try:
            with transaction.atomic():
                run.save(force_insert=True)
        except IntegrityError:
            # A concurrent twin waited on the unique index until its transaction committed; it is visible now.
            return AutomationRun.objects.get(automation=automation, dedupe_key=dedupe_key), False
    else:
        run.save(force_insert=True)
    Automation.objects.filter(pk=automation.pk).update(last_run_at=run.created_at)
    organization_id = str(automation.organization_id)
    # On the connection that wrote the run: the owner's, for an operator (the admin, runautomation).
    transaction.on_commit(
        lambda: enqueue(RUN_TASK, run.id, organization_id=organization_id),
        using=router.db_for_write(AutomationRun), robust=True,
    )
    return run, True


def automation_trigger(*, automation, payload, dry_run=False):
    """Fire by hand (POST /v1/automations/{id}/trigger); with `dry_run`, the mapped and validated input, nothing stored.

    A disabled automation still fires by hand: that is how one is tried out before it is enabled.
    """
    if dry_run:
        props = _mapped(automation, payload)
        job = _submit(automation, props, run_id="", dry_run=True)
        return {"input": props, "output": job.output}
    run, _ = automation_fire(automation=automation, trigger=AutomationRun.Trigger.MANUAL, payload=payload)
    return run


def _mapped(automation, payload):
    try:
        return mapping_apply(automation.data_mapping, payload)
    except MappingFailure as exc:
        raise Unprocessable(str(exc), code="mapping_failed", field=f"dataMapping.{exc.prop}") from None


def _submit(automation, props, *, run_id, dry_run=False):
    return render_create(
        organization=automation.organization, project_id=automation.project_id, template_id=automation.template_id,
        input_props=props, output=automation.output, priority=automation.priority, dry_run=dry_run, automation_id=automation.id, automation_run_id=run_id,
    )


def automation_run_execute(*, run_id, now=None):
    """The run's work (the body of automations.run_automation_task): map, submit the render, or record why not.

    Only a pending run is executed, so a second delivery of the task changes nothing. Returns the run.
    """
    now = now or timezone.now()
    run = AutomationRun.objects.select_for_update().select_related("automation", "automation__project").filter(
        pk=run_id
    ).first()
    if run is None or run.status != AutomationRun.Status.PENDING:
        return run
    automation = run.automation
    if run.trigger != AutomationRun.Trigger.MANUAL and not automation.enabled:
        return _finish(run, AutomationRun.Status.SKIPPED, now=now, error={
            "code": "automation_disabled", "message": "The automation was disabled before this run could start.",
        })
    if automation.project.deleted_at is not None:
        return _finish(run, AutomationRun.Status.SKIPPED, now=now, error={
            "code": "project_deleted", "message": "The automation's project was deleted before this run could start.",
        })
    try:
        run.input = mapping_apply(automation.data_mapping, run.payload)
    except MappingFailure as exc:
        return _finish(run, AutomationRun.Status.FAILED, now=now, error={"code": "mapping_failed", "message": str(exc)})
    try:
        with transaction.atomic():
            job = _submit(automation, run.input, run_id=run.id)
    except DomainError as exc:
        return _finish(run, AutomationRun.Status.FAILED, now=now, error={"code": exc.code, "message": exc.detail})
    run.status, run.render_id = AutomationRun.Status.RENDERING, job.id
    run.save(update_fields=["status", "input", "render_id", "updated_at"])
    return run


def _finish(run, status, *, now, error=None):
    run.status, run.error, run.finished_at = status, error, now
    run.save(update_fields=["status", "input", "error", "finished_at", "updated_at"])
    if status in (AutomationRun.Status.COMPLETED, AutomationRun.Status.FAILED):
        event_emit(
            type=f"automation.run.{status}", instance=run, organization_id=run.organization_id,
            project_id=run.automation.project_id,
        )
    logger.info("automation run finished", extra={"run_id": run.id, "status": status,
                                                   "error_code": (error or {}).get("code")})
    return run


# Triggers that arrive as events or ticks


def automations_on_event(*, events, now):
    """The events subscriber: asset.ready fires the project's upload triggers; a render's end ends its run.

    Called with one organization's committed events, in order, inside their tenant transaction
    (events.services.event_dispatch). A batch costs one query per kind of event it holds, not one per
    event: a burst of render events that no automation made is looked at once.
    """
    uploads = [event for event in events if event.type == "asset.ready"]
    if uploads:
        automations_fire_for_assets(events=uploads)
    outcomes = [event for event in events if event.type in RENDER_OUTCOMES]
    if outcomes:
        automation_runs_follow_renders(events=outcomes, now=now)


def automations_fire_for_assets(*, events):
    """Fire every enabled asset_upload automation of each event's project whose filters take the asset."""
    automations = defaultdict(list)
    for automation in Automation.objects.filter(
        organization_id=events[0].organization_id, project_id__in={event.project_id for event in events},
        enabled=True, trigger_type=Automation.TriggerType.ASSET_UPLOAD, project__deleted_at__isnull=True,
    ).order_by("created_at", "id"):
        automations[automation.project_id].append(automation)
    runs = []
    for event in events:
        if automations[event.project_id]:
            runs += automations_fire_for_asset(event=event, automations=automations[event.project_id])
    return runs


def automations_fire_for_asset(*, event, automations):
    envelope = json.loads(event.body)
    asset = envelope["data"]["object"]
    if not isinstance(asset, dict):
        return []
    runs = []
    for automation in automations:
        asset_types, tags = automation.trigger.get("asset_types", []), automation.trigger.get("tags", [])
        if asset_types and asset.get("type") not in asset_types:
            continue
        if tags and not set(tags) <= set(asset.get("tags") or []):
            continue
        run, _ = automation_fire(
            automation=automation, trigger=AutomationRun.Trigger.ASSET_UPLOAD, payload=envelope,
            dedupe_key=f"asset:{event.id}",
        )
        runs.append(run)
    return runs


def automation_runs_follow_renders(*, events, now):
    """Renders created by runs ended: each run completes or fails with its render (once; a replay changes nothing)."""
    jobs = []
    for event in events:
        job = json.loads(event.body)["data"]["object"]
        if isinstance(job, dict) and isinstance(job.get("id"), str):  # else no run can have made it
            jobs.append((event, job))
    if not jobs:
        return []
    rendering = {
        run.render_id: run
        for run in AutomationRun.objects.select_for_update().select_related("automation").filter(
            organization_id=events[0].organization_id, render_id__in={job["id"] for _, job in jobs},
            status=AutomationRun.Status.RENDERING,
        )
    }
    finished = []
    for event, job in jobs:
        run = rendering.pop(job["id"], None)  # a second outcome of the same render finds the run ended
        if run is not None:
            finished.append(automation_run_follow_render(run=run, event_type=event.type, job=job, now=now))
    return finished


def automation_run_follow_render(*, run, event_type, job, now):
    if event_type == "render.completed":
        return _finish(run, AutomationRun.Status.COMPLETED, now=now)
    if event_type == "render.cancelled":
        error = {"code": "render_cancelled", "message": f"The render {job['id']} was cancelled."}
    else:
        error = job.get("error") or {"code": "render_failed", "message": f"The render {job['id']} failed."}
    return _finish(run, AutomationRun.Status.FAILED, now=now, error=error)


def automation_schedule_tick(*, automation_id, now=None):
    """Beat's tick of a schedule trigger: one run per tick of the cron, however often the tick is delivered.

    The tick is the cron's latest time at or before now, so a message delivered twice (or by two beats)
    makes one run. A tick for an automation that is gone, disabled or no longer scheduled fires nothing.
    """
    now = now or timezone.now()
    automation = Automation.objects.filter(
        pk=automation_id, enabled=True, trigger_type=Automation.TriggerType.SCHEDULE, project__deleted_at__isnull=True,
    ).first()
    if automation is None:
        logger.info("schedule tick of an automation that no longer fires", extra={"automation_id": automation_id})
        return None
    tick = cron_previous(cron_fields(automation.trigger["cron"]), automation.trigger["timezone"], now)
    if tick is None:
        return None
    scheduled_at = tick.isoformat().replace("+00:00", "Z")
    payload = {
        "automationId": automation.id, "scheduledAt": scheduled_at, "firedAt": now.isoformat().replace("+00:00", "Z"),
        "cron": automation.trigger["cron"], "timezone": automation.trigger["timezone"],
    }
    run, _ = automation_fire(
        automation=automation, trigger=AutomationRun.Trigger.SCHEDULE, payload=payload,
        dedupe_key=f"schedule:{scheduled_at}",
    )
    return run


def automation_run_again(*, run):
    """Operator path: fire the run's automation again with the run's payload (a new run, by hand)."""
    automation = Automation.objects.get(pk=run.automation_id)
    new_run, _ = automation_fire(automation=automation, trigger=AutomationRun.Trigger.MANUAL, payload=run.payload)
    return new_run
