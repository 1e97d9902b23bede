"""Celery entry points for webhooks; all run on the `webhooks` queue (CELERY_TASK_ROUTES)."""

from celery import shared_task
from django.db import transaction

from renderowl.celery import ORGANIZATION_HEADER
from webhooks.delivery import delivery_attempt, deliveries_lease, deliveries_lease_due
from webhooks.outbox import event_fan_out, events_sweep_unpublished


def tenant_headers(organization_id):
    """Message headers that make the task run in `organization_id`'s tenant context."""
    return {ORGANIZATION_HEADER: str(organization_id)}


def queue_attempts(leased):
    for delivery_id, token, organization_id in leased:
        deliver.apply_async(args=[delivery_id, token], headers=tenant_headers(organization_id))


@shared_task(name="webhooks.fan_out_event", max_retries=3, default_retry_delay=5)
def fan_out_event(event_id):
    """Create the event's deliveries and queue their first attempts (idempotent)."""
    from django.utils import timezone

    now = timezone.now()
    deliveries = event_fan_out(event_id=event_id, now=now)
    leased = deliveries_lease(deliveries=deliveries, now=now)
    transaction.on_commit(lambda: queue_attempts(leased))
    return len(deliveries)


@shared_task(name="webhooks.deliver")
def deliver(delivery_id, lease_token):
    """One attempt of one delivery, if its lease is still `lease_token`."""
    attempt = delivery_attempt(delivery_id=delivery_id, lease_token=lease_token)
    return None if attempt is None else attempt.response_status


@shared_task(name="webhooks.dispatch_due_deliveries")
def dispatch_due_deliveries():
    """Beat: queue an attempt for every delivery whose retry is due or whose worker died."""
    leased = deliveries_lease_due()
    queue_attempts(leased)
    return len(leased)


@shared_task(name="webhooks.sweep_unpublished_events")
def sweep_unpublished_events():
    """Beat: publish events whose commit-time publish never happened."""
    return events_sweep_unpublished()
