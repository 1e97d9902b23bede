"""Celery entry points for renders; a job goes to the queue of its priority (renders.high|normal|low)."""

from celery import shared_task
from django.conf import settings

from renderowl.tenancy import current_organization_id
from renders.rendering import render_run, renders_reap_lost
from renders.retention import render_outputs_expire


@shared_task(
    name="renders.render_task",
    tenant_transaction=False,
    soft_time_limit=settings.RENDER_TIMEOUT_SECONDS + 30,
    time_limit=settings.RENDER_TASK_TIME_LIMIT_SECONDS,
)
def render_task(job_id):
    """Render a queued job and store its output; safe to run twice (only a queued job is claimed)."""
    return render_run(organization_id=current_organization_id.get(), job_id=job_id)


@shared_task(name="renders.reap_lost_renders_task")
def reap_lost_renders_task():
    """Beat: queue again the renders whose worker died mid-render, or fail them after RENDER_MAX_ATTEMPTS."""
    requeued, failed = renders_reap_lost()
    return requeued + failed


@shared_task(name="renders.expire_render_outputs_task")
def expire_render_outputs_task():
    """Beat: let go of outputs past RENDER_OUTPUT_RETENTION_DAYS (a share per run) and queue their files' deletion."""
    return render_outputs_expire()
