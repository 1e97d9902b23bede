"""Render outputs are kept RENDER_OUTPUT_RETENTION_DAYS after completion, then deleted; the job row stays.

A batch lets go of its jobs' outputs in one operator transaction: each job's `output_key` is cleared and
its `output_deleted_at` set, and the deletion of every attempt's output file is recorded
(`assets.cleanup.object_deletions_record`) in the same commit. The files are deleted after that commit,
never inside it; a crash or a failing store leaves the records, which beat retries until the store
confirms. GET /v1/renders/{id} then answers `outputUrl: null` with `outputDeletedAt`. No event is sent:
the retention is a published policy, not a change of the render's state, and a daily burst of
thousands of events would only tell receivers what they already know.

The orphan sweep asks `render_outputs_unowned` which stored render files no job still needs.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assets.cleanup import object_deletions_queue, object_deletions_record
from assets.models import ObjectDeletion
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy
from renders.models import RenderJob
from renders.rendering import output_key

# What output_key() builds, any file name: every stored file of a render lives under its job's prefix.
RENDER_KEY = re.compile(
    r"org/(?P<organization_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"/prj/(?P<project_id>prj_[A-Za-z0-9]+)/(?P<job_id>rnd_[A-Za-z0-9]+)/(?P<filename>[^/]+)"
)
OUTPUT_FILENAME = re.compile(r"output(-[0-9]+)?\.[a-z0-9]+")
# The periodic run's share: its deletions queue on the assets pool, ahead of customers' asset processing.
EXPIRE_PER_RUN = 1000


@dataclass(frozen=True)
class ExpiredOutput:
    """A job whose output was let go of, with the recorded deletions of its files (ObjectDeletion ids)."""

    job_id: str
    deletion_ids: list[int]


def render_output_keys(job):
    """Every key an attempt of the job may have stored its output at, the current one included."""
    keys = {output_key(job, attempt=attempt) for attempt in range(1, job.attempts + 1)}
    return sorted(keys | ({job.output_key} if job.output_key else set()))


def _expirable(cutoff):
    return RenderJob.objects.filter(
        status=RenderJob.Status.COMPLETED, output_deleted_at__isnull=True, completed_at__lt=cutoff,
    ).only("id", "organization_id", "project_id", "attempts", "output", "output_key")


def render_outputs_expirable(*, cutoff):
    """[(job id, its output keys)] whose outputs an expiry with `cutoff` would delete, oldest first (a dry run)."""
    with dangerously_bypass_tenancy(reason="list render outputs past retention"):
        jobs = list(_expirable(cutoff).order_by("completed_at", "id"))
    return [(job.id, render_output_keys(job)) for job in jobs]


def render_outputs_expire_batch(*, cutoff, batch_size, now=None, reason="expire render outputs", routine=True):
    """Let go of the outputs of up to `batch_size` renders completed before `cutoff`, in one operator transaction.

    Returns [ExpiredOutput]; delete their files (object_deletions_run or object_deletions_queue) after it
    returns. Jobs another transaction holds locked are left to the next batch.
    """
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason=reason, routine=routine), transaction.atomic(using=OWNER_DB_ALIAS):
        jobs = list(
            _expirable(cutoff).select_for_update(skip_locked=True).order_by("completed_at", "id")[:batch_size]
        )
        objects = [(job.organization_id, job.id, key) for job in jobs for key in render_output_keys(job)]
        deletions = object_deletions_record(objects, reason=ObjectDeletion.Reason.RETENTION, now=now)
        RenderJob.objects.filter(pk__in=[job.id for job in jobs]).update(
            output_key="", output_deleted_at=now, updated_at=now,
        )
    deletions_of = {job.id: [] for job in jobs}
    for deletion in deletions:
        deletions_of[deletion.asset_id].append(deletion.pk)
    return [ExpiredOutput(job_id, deletion_ids) for job_id, deletion_ids in deletions_of.items()]


def render_outputs_expire(*, now=None, batch_size=200, limit=EXPIRE_PER_RUN):
    """Beat: let go of up to `limit` outputs past RENDER_OUTPUT_RETENTION_DAYS and queue their files' deletion.

    Returns how many renders' outputs were let go of; the next run takes up the rest.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RENDER_OUTPUT_RETENTION_DAYS)
    expired = 0
    while expired < limit:
        batch = render_outputs_expire_batch(cutoff=cutoff, batch_size=min(batch_size, limit - expired), now=now)
        if not batch:
            break
        object_deletions_queue(deletion_id for expired_output in batch for deletion_id in expired_output.deletion_ids)
        expired += len(batch)
    return expired


def render_outputs_unowned(sender, *, keys, **kwargs):
    """`stored_objects_unowned` receiver: the render files among `keys` that no job still needs.

    A file under a job's prefix is needed while the job exists and is pending, queued or rendering, or
    when it is the completed job's current output; anything else there (the job is gone, its output
    expired, an earlier attempt's file) is not. Runs in the sweep's operator bypass.
    """
    parsed = {key: match for key in keys if (match := RENDER_KEY.fullmatch(key))}
    jobs = RenderJob.objects.filter(pk__in={match["job_id"] for match in parsed.values()}).only(
        "id", "organization_id", "project_id", "status", "output_key",
    )
    job_of = {job.id: job for job in jobs}
    unowned = []
    for key, match in parsed.items():
        job = job_of.get(match["job_id"])
        if job is None or (str(job.organization_id), job.project_id) != (match["organization_id"], match["project_id"]):
            unowned.append(key)
        elif job.status not in RenderJob.ACTIVE and key != job.output_key and OUTPUT_FILENAME.fullmatch(match["filename"]):
            unowned.append(key)
    return unowned
