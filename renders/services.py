"""Render jobs' use cases: submit, cancel, retry (operators), and follow a project's deletion and an asset's."""

import dataclasses
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone

from assets.selectors import assets_live
from events.services import event_emit
from projects.services import project_lock_for_child
from renderowl.celery import enqueue
from renderowl.errors import Conflict, Invalid, NotFound
from renders.feed import render_feed_publish_on_commit
from renders.models import RenderJob
from renders.validation import render_input_resolve

# Renderers are woken through the broker and pick their job from PostgreSQL (renders.scheduling).
RENDER_TASK = "renders.render_next_task"
RENDER_QUEUE = "renders"
MAX_WEBHOOK_URL = 2048


def render_event(job, type):
    """Record `type` for the job, also sent to the job's own webhookUrl if it has one, and to its live feed."""
    event = event_emit(
        type=type, instance=job, organization_id=job.organization_id, project_id=job.project_id,
        target_urls=[job.webhook_url] if job.webhook_url else [],
    )
    render_feed_publish_on_commit(job=job, event=event)


def render_create(
    *, organization, project_id, template_id, input_props, output=None, priority=RenderJob.Priority.NORMAL,
    webhook_url="", metadata=None, livemode=True, dry_run=False, automation_id="", automation_run_id="",
):
    """Validate a submission completely, then store it queued and queue its render once committed.

    With `dry_run` the resolved job is returned unsaved: nothing is stored, queued or emitted.
    """
    project = project_lock_for_child(organization_id=organization.id, project_id=project_id)
    webhook_url = _checked_webhook_url(webhook_url)
    resolved = render_input_resolve(
        organization_id=organization.id, project_id=project.id, template_id=template_id, input_props=input_props,
        output=output, livemode=livemode,
    )
    _lock_used_assets(organization_id=organization.id, project_id=project.id, resolved=resolved)
    now = timezone.now()
    job = RenderJob(
        organization=organization,
        project=project,
        template_id=resolved.template_id,
        asset_ids=sorted({ref.id for ref in resolved.assets.values()}),
        status=RenderJob.Status.QUEUED,
        stage="queued",
        priority=priority,
        input_props=resolved.props,
        output=dataclasses.asdict(resolved.output),
        render_input=dataclasses.asdict(resolved),
        engine=resolved.engine,
        livemode=livemode,
        webhook_url=webhook_url,
        metadata=metadata or {},
        automation_id=automation_id,
        automation_run_id=automation_run_id,
        queued_at=now,
    )
    if dry_run:
        job.created_at = job.updated_at = now
        return job
    job.save(force_insert=True)
    render_event(job, "render.queued")
    render_wake_on_commit()
    return job


def render_wake_on_commit():
    """Once the transaction commits, wake a renderer: it starts whichever job the scheduler picks then.

    The one way a queued job reaches a renderer (submission, a retry, a lost worker's job queued again).
    """
    transaction.on_commit(render_wake, robust=True)


def render_wake():
    """Wake a renderer now; False if the broker refused (beat's renders_wake_waiting makes up for it)."""
    return enqueue(RENDER_TASK, queue=RENDER_QUEUE)


def _lock_used_assets(*, organization_id, project_id, resolved):
    """Share-lock the template and the assets the job uses until commit, so a concurrent delete waits for the job.

    `renders_refuse_deleting_asset_in_use` takes the asset's row lock before it looks for jobs: a delete
    that came first leaves no row here (the submission is refused), one that comes later sees the job.
    """
    ids = sorted({resolved.template_id, *(ref.id for ref in resolved.assets.values())})
    missing = _share_lock_assets(organization_id=organization_id, project_id=project_id, ids=ids)
    if missing:
        raise NotFound(
            f"The asset {missing[0]!r} was deleted while the render was being submitted; submit it again with an "
            "asset the project still has.",
            code="not_found",
            field="templateId" if missing[0] == resolved.template_id else "inputProps",
        )


def _share_lock_assets(*, organization_id, project_id, ids):
    """Share-lock the project's live assets among `ids` until commit; returns the ids that are not there, in order."""
    query = assets_live(organization_id=organization_id, project_id=project_id).filter(pk__in=ids).values("id")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE OF assets", params)
        locked = {row[0] for row in cursor.fetchall()}
    return [asset_id for asset_id in ids if asset_id not in locked]


def _checked_webhook_url(url):
    if not url:
        return ""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_WEBHOOK_URL:
        raise Invalid(
            "webhookUrl must be an absolute http(s) URL of at most 2048 characters, e.g. https://example.com/hooks.",
            code="invalid_webhook_url",
            field="webhookUrl",
        )
    return url


def render_cancel(*, job):
    """Cancel a job that has not started rendering (the caller holds its row lock); else 409 render_not_cancellable."""
    if job.status not in RenderJob.CANCELLABLE:
        raise Conflict(
            f"The render {job.id} is {job.status}; only a pending or queued render can be cancelled.",
            code="render_not_cancellable",
        )
    job.status = RenderJob.Status.CANCELLED
    job.completed_at = timezone.now()
    job.save(update_fields=["status", "completed_at", "updated_at"])
    render_event(job, "render.cancelled")
    return job


def render_retry(*, job):
    """Operator path: queue a failed job (the caller holds its row lock) again, with RENDER_MAX_ATTEMPTS fresh attempts.

    Refused with 409 render_not_retryable unless the job failed and its project, template and assets
    are all still there; those are share-locked like a submission's, so a concurrent delete waits for it.
    The attempt counter is not reset: each attempt still writes its own output and a late finish of an
    older attempt is still ignored (renders.rendering); the limit counts from `attempts_before_retry`.
    """
    if job.status != RenderJob.Status.FAILED:
        raise Conflict(
            f"The render {job.id} is {job.status}; only a failed render can be retried.", code="render_not_retryable",
        )
    try:
        project_lock_for_child(organization_id=job.organization_id, project_id=job.project_id)
    except NotFound:
        raise Conflict(
            f"The render {job.id} cannot be retried: its project {job.project_id} was deleted.",
            code="render_not_retryable",
        ) from None
    ids = sorted({job.template_id, *job.asset_ids})
    missing = _share_lock_assets(organization_id=job.organization_id, project_id=job.project_id, ids=ids)
    if missing:
        what = "template" if missing[0] == job.template_id else "asset"
        raise Conflict(
            f"The render {job.id} cannot be retried: its {what} {missing[0]} was deleted. The customer must submit "
            "it again with assets the project still has.",
            code="render_not_retryable",
        )
    job.error, job.started_at, job.completed_at = None, None, None
    job.attempts_before_retry = job.attempts
    return render_queue_again(
        job, now=timezone.now(), also=("error", "started_at", "completed_at", "attempts_before_retry"),
    )


def render_queue_again(job, *, now, also=()):
    """Put a job the caller holds locked back in the queue (a lost attempt, an operator's retry): `queued`, its
    `render.queued` event, and a renderer woken once committed. `also` names other fields the caller changed."""
    job.status, job.stage, job.progress, job.queued_at = RenderJob.Status.QUEUED, "queued", 0.0, now
    job.lease_expires_at = None
    job.save(update_fields=["status", "stage", "progress", "queued_at", "lease_expires_at", *also, "updated_at"])
    render_event(job, "render.queued")
    render_wake_on_commit()
    return job


def renders_cancel_for_deleted_project(sender, *, project, now, **kwargs):
    """`project_deleted` receiver: cancel the project's pending and queued jobs in the deleting transaction."""
    jobs = RenderJob.objects.select_for_update().filter(project=project, status__in=RenderJob.CANCELLABLE)
    for job in jobs:
        render_cancel(job=job)


def renders_refuse_deleting_asset_in_use(sender, *, asset, **kwargs):
    """`asset_deleting` receiver: an asset a pending, queued or rendering job still needs cannot be deleted.

    The asset's row lock comes first, so a submission using the asset has committed (and is seen) or waits.
    """
    list(assets_live(organization_id=asset.organization_id, project_id=asset.project_id)
         .filter(pk=asset.pk).select_for_update(of=("self",)).values_list("pk"))
    job = (
        RenderJob.objects.filter(
            organization_id=asset.organization_id, project_id=asset.project_id, status__in=RenderJob.ACTIVE,
        )
        .filter(_uses(asset.id))
        .only("id", "status")
        .first()
    )
    if job is not None:
        raise Conflict(
            f"The asset {asset.id} is used by the render {job.id}, which is {job.status}; delete it once the render "
            f"has finished, or cancel the render first (DELETE /v1/renders/{job.id}).",
            code="asset_in_use",
        )


def _uses(asset_id):
    from django.db.models import Q

    return Q(template_id=asset_id) | Q(asset_ids__contains=[asset_id])


def render_output_download(*, job):
    """A signed URL of a completed job's output, fresh on each call; None before completion."""
    return render_output_download_of(
        render_id=job.id, status=job.status, output_key=job.output_key, output=job.output
    )


def render_output_download_of(*, render_id, status, output_key, output):
    """render_output_download of a job's columns (a `.values()` row of a poll) rather than of its instance."""
    from django.conf import settings

    from assets.storage import get_storage

    if status != RenderJob.Status.COMPLETED or not output_key:
        return None
    return get_storage().presigned_download(
        key=output_key, expires_in=settings.ASSET_DOWNLOAD_EXPIRES_SECONDS, filename=f"{render_id}.{output['format']}",
    )
