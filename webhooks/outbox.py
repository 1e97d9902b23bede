"""The event outbox: events are written with the change they record and fanned out after commit.

A crash or a broker outage between commit and publish loses nothing: `events_sweep_unpublished`
(beat) republishes any event that has not been fanned out, and fan-out is idempotent.
"""

import json
import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from renderowl.api.renderers import camelize
from renderowl.tenancy import dangerously_bypass_tenancy
from webhooks.event_types import EVENT_TYPES, event_matches
from webhooks.models import Delivery, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

UNPUBLISHED_GRACE = timedelta(seconds=30)


def event_emit(*, project, type, data, target_urls=(), only_endpoint=None):
    """Record an event in the caller's transaction; it is published once that transaction commits.

    `data` is the object's API representation, from the same serializer its endpoint uses.
    `target_urls` are ad-hoc receivers (a render's webhookUrl) besides the matching endpoints.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}; add it to webhooks.event_types.EVENT_TYPES first.")
    event = Event(
        organization_id=project.organization_id,
        project=project,
        type=type,
        target_urls=list(target_urls),
        only_endpoint=only_endpoint,
    )
    event.created_at = timezone.now()
    event.body = json.dumps(
        camelize(
            {
                "id": event.id,
                "type": type,
                "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
                "organization_id": str(project.organization_id),
                "project_id": project.id,
                "data": {"object": data},
            },
        ),
        separators=(",", ":"),
        default=str,
    )
    event.save(force_insert=True)
    transaction.on_commit(partial(event_publish, event_id=event.id, organization_id=event.organization_id))
    return event


def event_publish(*, event_id, organization_id):
    """Queue the fan-out of a committed event; if the broker is down, the sweep retries later."""
    from webhooks.tasks import fan_out_event, tenant_headers

    try:
        fan_out_event.apply_async(args=[event_id], headers=tenant_headers(organization_id))
    except Exception:  # noqa: BLE001 - any broker failure is recovered by the sweep
        logger.warning("event not published; the sweep will retry", extra={"event_id": event_id}, exc_info=True)


def event_fan_out(*, event_id, now=None):
    """Create one delivery per matching endpoint and target URL; a second run creates nothing.

    Runs inside the event's tenant context. Returns the deliveries created by this run.
    """
    now = now or timezone.now()
    event = Event.objects.select_for_update().select_related("project").filter(pk=event_id).first()
    if event is None or event.published_at is not None:
        return []
    if event.only_endpoint_id:
        endpoints = WebhookEndpoint.objects.filter(pk=event.only_endpoint_id)
    else:
        endpoints = [
            endpoint
            for endpoint in WebhookEndpoint.objects.filter(enabled=True).exclude(
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
        if event.type == "webhook.test":
            delivery.max_attempts = 1
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    event.published_at = now
    event.save(update_fields=["published_at"])
    return deliveries


def events_sweep_unpublished(*, now=None, limit=1000):
    """Republish events that committed but were never fanned out (a crash or broker outage). Operator path."""
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="sweep unpublished webhook events"):
        stale = list(
            Event.objects.filter(published_at__isnull=True, created_at__lt=now - UNPUBLISHED_GRACE)
            .order_by("created_at")
            .values_list("id", "organization_id")[:limit]
        )
    for event_id, organization_id in stale:
        event_publish(event_id=event_id, organization_id=organization_id)
    return len(stale)
