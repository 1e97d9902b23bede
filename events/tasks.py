"""Celery entry points for the outbox; routed by CELERY_TASK_ROUTES (dispatch on `events`, beat on `schedules`)."""

from celery import shared_task
from django.conf import settings

from events.services import event_dispatch, events_prune, events_sweep_unpublished


@shared_task(name="events.publish_event_task")
def publish_event_task(event_id):
    """Hand a committed event to its subscribers (webhook fan-out, …); a second run does nothing."""
    event = event_dispatch(event_id=event_id)
    return None if event is None else event.type


@shared_task(name="events.sweep_unpublished_events_task")
def sweep_unpublished_events_task():
    """Beat: republish events whose commit-time publish never reached a subscriber."""
    return events_sweep_unpublished()


@shared_task(name="events.prune_events_task")
def prune_events_task():
    """Beat, daily: drop events (and their webhook history) older than EVENT_RETENTION_DAYS."""
    return events_prune(days=settings.EVENT_RETENTION_DAYS)
