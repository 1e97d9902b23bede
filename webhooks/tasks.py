"""Celery entry points for webhooks: attempts on the `webhooks` queue, the dispatcher with the schedulers."""

from celery import shared_task
from django.conf import settings

from renderowl.celery import enqueue
from renderowl.tenancy import current_organization_id
from webhooks.delivery import deliveries_lease_due, delivery_attempt

DELIVER_TASK = "webhooks.deliver_task"


def queue_attempts(leased, *, organization_id=None):
    """Queue one attempt per leased delivery: [(id, token)] of one organization, or [(id, token, org)].

    A refused publish loses nothing: the lease runs out and the dispatcher queues the attempt again.
    """
    for delivery_id, token, *rest in leased:
        enqueue(DELIVER_TASK, delivery_id, token, organization_id=rest[0] if rest else organization_id)


@shared_task(
    name=DELIVER_TASK,
    tenant_transaction=False,
    # A hard ceiling on one attempt, whatever a slow receiver does (a trickled response defeats socket timeouts).
    soft_time_limit=settings.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS - 5,
    time_limit=settings.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS,
)
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
    """Beat: queue an attempt for every delivery whose retry is due or whose worker died."""
    leased = deliveries_lease_due()
    queue_attempts(leased)
    return len(leased)
