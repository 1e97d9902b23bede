"""Fan-out: the events subscriber that turns committed events into deliveries and queues their first attempts."""

from django.db import transaction

from events.registry import event_matches
from webhooks.delivery import MAX_ATTEMPTS, deliveries_lease
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.tasks import queue_attempts


def event_fan_out(*, events, now):
    """The events subscriber: the events' deliveries, leased, with their first attempts queued in batches on commit.

    Called by `events.services.event_dispatch` with the events' rows locked, inside their organization's
    tenant context, once per event (several events of one organization at a time). Returns the deliveries.
    """
    deliveries = deliveries_create_for_events(events=events, now=now)
    if not deliveries:
        return deliveries
    leased = deliveries_lease(delivery_ids=[delivery.id for delivery in deliveries], now=now)
    organization_id = str(events[0].organization_id)
    transaction.on_commit(lambda: queue_attempts(leased, organization_id=organization_id), robust=True)
    return deliveries


def deliveries_create(*, event, now):
    """One delivery per matching endpoint and target URL of the event, due `now` (not yet leased)."""
    return deliveries_create_for_events(events=[event], now=now)


def deliveries_create_for_events(*, events, now):
    """The deliveries of one organization's events, in one statement: one per matching endpoint and target URL."""
    endpoints = list(
        WebhookEndpoint.objects.filter(organization_id=events[0].organization_id, enabled=True).exclude(
            status=WebhookEndpoint.Status.DISABLED
        )
    )
    deliveries = []
    for event in events:
        deliveries += [
            Delivery(organization_id=event.organization_id, event=event, endpoint=endpoint, url=endpoint.url)
            for endpoint in endpoints
            if event_matches(endpoint.events, event.type)
            and (not endpoint.project_ids or event.project_id in endpoint.project_ids)
        ]
        deliveries += [Delivery(organization_id=event.organization_id, event=event, url=url) for url in event.target_urls]
    for delivery in deliveries:
        delivery.next_attempt_at = now
        delivery.max_attempts = MAX_ATTEMPTS
    # The events' row locks make their dispatch single-file, so there is nothing to conflict with.
    return Delivery.objects.bulk_create(deliveries)
