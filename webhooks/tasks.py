"""Celery entry points for webhooks; all run on the `webhooks` queue (CELERY_TASK_ROUTES)."""

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from renderowl.celery import ORGANIZATION_HEADER
from renderowl.tenancy import current_organization_id
from webhooks.delivery import deliveries_lease, deliveries_lease_due, delivery_attempt
from webhooks.outbox import event_fan_out, events_prune, events_sweep_unpublished

# A hard ceiling on one attempt, whatever a slow receiver does (a trickled response defeats socket timeouts).
ATTEMPT_TIME_LIMIT = settings.WEBHOOK_TIMEOUT_SECONDS + 20


def tenant_headers(organization_id):
    """Message headers that make the task run in `organization_id`'s tenant context."""
    return {ORGANIZATION_HEADER: str(organization_id)}


def queue_attempts(leased, *, organization_id=None):
    """Queue one `deliver` per leased delivery: [(id, token)] of one organization, or [(id, token, org)]."""
    for delivery_id, token, *rest in leased:
        deliver.apply_async(args=[delivery_id, token], headers=tenant_headers(rest[0] if rest else organization_id))


@shared_task(name="webhooks.fan_out_event")
def fan_out_event(event_id):
    """Create the event's deliveries and queue their first attempts once that commits (idempotent)."""
    now = timezone.now()
    deliveries = event_fan_out(event_id=event_id, now=now)
    leased = deliveries_lease(delivery_ids=[delivery.id for delivery in deliveries], now=now)
    organization_id = current_organization_id.get()
    transaction.on_commit(lambda: queue_attempts(leased, organization_id=organization_id))
    return len(deliveries)


@shared_task(
    name="webhooks.deliver",
    tenant_transaction=False,
    soft_time_limit=ATTEMPT_TIME_LIMIT - 5,
    time_limit=ATTEMPT_TIME_LIMIT,
)
def deliver(delivery_id, lease_token):
    """One attempt of one delivery, if its lease is still `lease_token`; no transaction spans the send."""
    attempt = delivery_attempt(
        organization_id=current_organization_id.get(), delivery_id=delivery_id, lease_token=lease_token
    )
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


@shared_task(name="webhooks.prune_history")
def prune_history():
    """Beat, daily: drop webhook history older than WEBHOOK_RETENTION_DAYS."""
    events, deliveries = events_prune(days=settings.WEBHOOK_RETENTION_DAYS)
    return {"events": events, "deliveries": deliveries}
