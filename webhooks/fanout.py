"""Fan-out: the events subscriber that turns a committed event into deliveries and queues their first attempts."""

from django.db import transaction

from events.registry import event_matches
from webhooks.delivery import MAX_ATTEMPTS, deliveries_lease
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.tasks import queue_attempts


def event_fan_out(*, event, now):
    """The events subscriber: the event's deliveries, leased, with their first attempts queued on commit.

    Called by `events.services.event_dispatch` with the event row locked, inside the event's tenant
    context, once per event. Returns the deliveries created.
    """
    deliveries = deliveries_create(event=event, now=now)
    leased = deliveries_lease(delivery_ids=[delivery.id for delivery in deliveries], now=now)
    organization_id = str(event.organization_id)
    transaction.on_commit(lambda: queue_attempts(leased, organization_id=organization_id), robust=True)
    return deliveries


def deliveries_create(*, event, now):
    """One delivery per matching endpoint and target URL of the event, due `now` (not yet leased)."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organization_id=event.organization_id, enabled=True).exclude(
            status=WebhookEndpoint.Status.DISABLED
        )
        if event_matches(endpoint.events, event.type)
        and (not endpoint.project_ids or event.project_id in endpoint.project_ids)
    ]
    deliveries = [
        Delivery(organization_id=event.organization_id, event=event, endpoint=endpoint, url=endpoint.url)
        for endpoint in endpoints
    ] + [Delivery(organization_id=event.organization_id, event=event, url=url) for url in event.target_urls]
    for delivery in deliveries:
        delivery.next_attempt_at = now
        delivery.max_attempts = MAX_ATTEMPTS
    # The event's row lock makes dispatch single-file, so there is nothing to conflict with.
    return Delivery.objects.bulk_create(deliveries)
