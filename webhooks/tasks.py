"""Celery entry points for webhooks: attempts on the `webhooks` queue, the dispatcher with the schedulers."""

from collections import defaultdict

from celery import shared_task
from django.conf import settings

from renderowl.celery import enqueue
from renderowl.tenancy import current_organization_id
from webhooks.delivery import deliveries_attempt, deliveries_lease_due, delivery_attempt

DELIVER_TASK = "webhooks.deliver_task"
DELIVER_BATCH_TASK = "webhooks.deliver_batch_task"


def queue_attempts(leased, *, organization_id=None):
    """Queue the attempts of leased deliveries, WEBHOOK_BATCH_SIZE to a task: [(id, token)] of one organization,
    or [(id, token, organization id)].

    A refused publish loses nothing: the leases run out and the dispatcher queues the attempts again.
    """
    by_organization = defaultdict(list)
    for delivery_id, token, *rest in leased:
        by_organization[rest[0] if rest else organization_id].append([delivery_id, token])
    size = settings.WEBHOOK_BATCH_SIZE
    for organization, pairs in by_organization.items():
        for start in range(0, len(pairs), size):
            enqueue(DELIVER_BATCH_TASK, pairs[start:start + size], organization_id=organization)


# A hard ceiling on a task's attempts, whatever a slow receiver does (a trickled response defeats socket timeouts).
ATTEMPT_LIMITS = {
    "soft_time_limit": settings.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS - 5,
    "time_limit": settings.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS,
}


@shared_task(name=DELIVER_BATCH_TASK, tenant_transaction=False, **ATTEMPT_LIMITS)
def deliver_batch_task(leased):
    """One attempt of each leased delivery, [[id, token]], whose lease is still that token; returns how many were sent."""
    return deliveries_attempt(
        organization_id=current_organization_id.get(), leased=[(delivery_id, token) for delivery_id, token in leased]
    )


@shared_task(name=DELIVER_TASK, tenant_transaction=False, **ATTEMPT_LIMITS)
def deliver_task(delivery_id, lease_token, manual=False):
    """One attempt of one delivery, if its lease is still `lease_token`; no transaction spans the send.

    `manual` marks an attempt a user asked for (a test send or a retry): it does not count for health.
    """
    attempt = delivery_attempt(
        organization_id=current_organization_id.get(), delivery_id=delivery_id, lease_token=lease_token,
        manual=manual,
    )
    return None if attempt is None else attempt.response_status


@shared_task(name="webhooks.dispatch_due_deliveries_task")
def dispatch_due_deliveries_task():
    """Beat: queue the attempts of every delivery whose retry is due or whose worker died, in batches."""
    leased = deliveries_lease_due()
    queue_attempts(leased)
    return len(leased)
