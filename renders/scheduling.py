"""Which queued render starts next: priority first, then a fair share between organizations.

The job rows in PostgreSQL are the queue; the broker only wakes renderers. Every job that becomes
claimable publishes one wake-up (`renders.render_next_task`, no arguments) once its transaction
commits, and a renderer that takes a wake-up claims whichever job the scheduler picks *at that
moment*, so the order is decided when a slot frees, never when a job was submitted:

1. Only organizations with fewer than RENDER_MAX_CONCURRENT_PER_ORGANIZATION jobs rendering may start one.
2. Among them, the highest waiting priority goes first (high, then normal, then low).
3. Within it, the organization with the fewest jobs rendering, then the one whose last job started
   longest ago (one that never started a job first).
4. Within the organization, first in first out (`queued_at`, then id).

`render_pick_next()` (migration 0002) does the choosing across organizations under a transaction-level
advisory lock, so two renderers never both take an organization's last free slot; the claim commits
before the lock is released. A wake-up that finds nothing it may start is dropped: a job held back by
its organization's share is woken when one of that organization's renders ends (`render_wake_after`).
Beat's `renders_wake_waiting` repairs a lost wake-up (a broker outage at commit time).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import ChannelError

from renderowl.celery import app
from renderowl.tenancy import dangerously_bypass_tenancy, tenant_context
from renders.models import RenderJob
from renders.services import RENDER_QUEUE, render_event, render_wake, render_wake_on_commit

logger = logging.getLogger(__name__)


def render_claim_next(*, now=None):
    """Claim the job the scheduler picks next (now `rendering`, on a new attempt, its lease running); None if none may start."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT job_id, organization_id FROM render_pick_next(%s)",
                [settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION],
            )
            picked = cursor.fetchone()
        if picked is None:
            return None
        job_id, organization_id = picked
        with tenant_context(organization_id):
            job = RenderJob.objects.select_for_update().get(pk=job_id)  # the row render_pick_next locked
            now = now or timezone.now()
            job.status = RenderJob.Status.RENDERING
            job.stage = "preparing"
            job.started_at = now
            job.attempts += 1
            job.lease_expires_at = now + timedelta(seconds=settings.RENDER_LEASE_SECONDS)
            job.save(update_fields=["status", "stage", "started_at", "attempts", "lease_expires_at", "updated_at"])
            render_event(job, "render.started")
        return job


def render_wake_after(job):
    """A render of `job`'s organization ended (in the current transaction): wake a renderer if the organization
    has jobs waiting, which its share may have held back."""
    if RenderJob.objects.filter(organization_id=job.organization_id, status=RenderJob.Status.QUEUED).exists():
        render_wake_on_commit()


def renders_wake_waiting(*, limit=50):
    """Beat: publish the wake-ups that are missing, if any (one was lost to a broker outage); returns how many.

    Counts the jobs that could start now (each organization's waiting jobs, up to its free share) and
    the wake-ups already in the broker, and publishes the difference, at most `limit`.
    """
    with dangerously_bypass_tenancy(reason="wake renderers for waiting renders", routine=True):
        waiting = dict(
            RenderJob.objects.filter(status=RenderJob.Status.QUEUED)
            .values_list("organization_id").annotate(jobs=Count("id")).order_by()
        )
        if not waiting:
            return 0
        rendering = dict(
            RenderJob.objects.filter(status=RenderJob.Status.RENDERING, organization_id__in=list(waiting))
            .values_list("organization_id").annotate(jobs=Count("id")).order_by()
        )
    share = settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION
    startable = sum(min(jobs, max(share - rendering.get(org, 0), 0)) for org, jobs in waiting.items())
    missing = min(startable - wake_ups_waiting(), limit)
    for _ in range(max(missing, 0)):
        render_wake()
    if missing > 0:
        logger.info("renderers woken for waiting renders", extra={"wake_ups": missing})
    return max(missing, 0)


def wake_ups_waiting():
    """How many wake-ups wait in the broker's render queue."""
    with app.connection_for_read() as broker:
        try:
            return broker.default_channel.queue_declare(queue=RENDER_QUEUE, passive=True).message_count
        except ChannelError:  # kombu reports an empty (absent) queue so; a broker outage is raised (beat retries)
            return 0
