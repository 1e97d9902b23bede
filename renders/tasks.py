"""Celery entry points for renders. Renderers are woken on the `renders` queue and pick their job from
PostgreSQL (renders.scheduling), so priority and each organization's share are decided when a slot frees."""

from celery import shared_task
from django.conf import settings

from renders.rendering import render_next, renders_reap_lost
from renders.retention import render_outputs_expire
from renders.scheduling import renders_wake_waiting


@shared_task(
    name="renders.render_next_task",
    tenant_transaction=False,
    soft_time_limit=settings.RENDER_TIMEOUT_SECONDS + 30,
    time_limit=settings.RENDER_TASK_TIME_LIMIT_SECONDS,
)
def render_next_task():
    """Render the job the scheduler picks next, if any may start; safe to run twice (a claimed job is not queued)."""
    started = render_next()
    return None if started is None else started[1]


@shared_task(name="renders.reap_lost_renders_task")
def reap_lost_renders_task():
    """Beat: queue again the renders whose worker died mid-render, or fail them after RENDER_MAX_ATTEMPTS."""
    requeued, failed = renders_reap_lost()
    return requeued + failed


@shared_task(name="renders.wake_renderers_task", tenant_transaction=False)
def wake_renderers_task():
    """Beat: wake renderers for waiting jobs whose wake-up was lost (a broker outage when they were queued)."""
    return renders_wake_waiting()


@shared_task(name="renders.expire_render_outputs_task")
def expire_render_outputs_task():
    """Beat: let go of outputs past RENDER_OUTPUT_RETENTION_DAYS (a share per run) and queue their files' deletion."""
    return render_outputs_expire()
