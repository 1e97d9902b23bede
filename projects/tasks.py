"""Celery entry points for projects; beat's run on the `schedules` queue (CELERY_TASK_ROUTES)."""

from celery import shared_task

from projects.services import projects_clear_expired_previous_secrets


@shared_task(name="projects.clear_expired_previous_secrets_task")
def clear_expired_previous_secrets_task():
    """Beat, hourly: forget previous webhook secrets once their 24-hour rotation overlap has ended."""
    return projects_clear_expired_previous_secrets()
