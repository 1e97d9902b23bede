"""The event outbox: events are written with the change they record and fanned out after commit.

A crash or a broker outage between commit and publish loses nothing: `events_sweep_unpublished`
(beat) republishes any event that has not been fanned out, and fan-out is idempotent.
"""

import json
import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from renderowl.api.renderers import camelize
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy
from webhooks.delivery import MAX_ATTEMPTS
from webhooks.event_types import EVENT_TYPES, TEST_EVENT, event_matches
from webhooks.models import Delivery, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

UNPUBLISHED_GRACE = timedelta(seconds=30)
SWEEP_MAX_PUBLISH_ATTEMPTS = 10


def event_emit(*, project, type, data, target_urls=(), only_endpoint=None, publish=True):
    """Record an event in the caller's transaction; it is published once that transaction commits.

    `data` is the object's API representation, from the same serializer its endpoint uses.
    `target_urls` are ad-hoc receivers (a render's webhookUrl) besides the matching endpoints.
    `publish=False` is for a caller that fans the event out itself, in the same transaction.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}; add it to webhooks.event_types.EVENT_TYPES first.")
    event = Event(
        organization_id=project.organization_id,
        project=project,
        type=type,
        target_urls=list(dict.fromkeys(target_urls)),
        only_endpoint=only_endpoint,
        created_at=timezone.now(),
    )
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
    if publish:
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
    event = Event.objects.select_for_update().filter(pk=event_id).first()
    if event is None or event.published_at is not None:
        return []
    endpoints = WebhookEndpoint.objects.filter(organization_id=event.organization_id)
    if event.only_endpoint_id:
        endpoints = endpoints.filter(pk=event.only_endpoint_id)
    else:
        endpoints = [
            endpoint
            for endpoint in endpoints.filter(enabled=True).exclude(status=WebhookEndpoint.Status.DISABLED)
            if event_matches(endpoint.events, event.type)
            and (not endpoint.project_ids or event.project_id in endpoint.project_ids)
        ]
    max_attempts = 1 if event.type == TEST_EVENT else MAX_ATTEMPTS
    deliveries = [
        Delivery(organization_id=event.organization_id, event=event, endpoint=endpoint, url=endpoint.url)
        for endpoint in endpoints
    ] + [Delivery(organization_id=event.organization_id, event=event, url=url) for url in event.target_urls]
    for delivery in deliveries:
        delivery.next_attempt_at = now
        delivery.max_attempts = max_attempts
    # The event's row lock makes fan-out single-file, so there is nothing to conflict with.
    Delivery.objects.bulk_create(deliveries)
    event.published_at = now
    event.save(update_fields=["published_at"])
    return deliveries


def events_sweep_unpublished(*, now=None, limit=1000):
    """Republish events that committed but were never fanned out (a crash or broker outage). Operator path.

    Each event is republished at most SWEEP_MAX_PUBLISH_ATTEMPTS times, each time after a longer
    wait, so an event whose fan-out keeps failing neither loops forever nor blocks newer ones.
    """
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="sweep unpublished webhook events", routine=True):
        with transaction.atomic(using=OWNER_DB_ALIAS):
            candidates = (
                Event.objects.select_for_update(skip_locked=True)
                .filter(published_at__isnull=True, publish_attempts__lt=SWEEP_MAX_PUBLISH_ATTEMPTS)
                .filter(created_at__lt=now - UNPUBLISHED_GRACE)
                .order_by("publish_attempts", "created_at")
                .values_list("id", "organization_id", "created_at", "publish_attempts")[: limit * 2]
            )
            stale = [
                (event_id, organization_id)
                for event_id, organization_id, created_at, attempts in candidates
                if created_at < now - UNPUBLISHED_GRACE * (2**attempts)
            ][:limit]
            Event.objects.filter(pk__in=[event_id for event_id, _ in stale]).update(
                publish_attempts=F("publish_attempts") + 1
            )
    for event_id, organization_id in stale:
        event_publish(event_id=event_id, organization_id=organization_id)
    return len(stale)


def events_prune(*, days, now=None, batch=1000):
    """Delete events older than `days` with their deliveries and attempts, in batches. Operator path.

    Events the sweep gave up on are pruned too. Returns (events, deliveries) deleted.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    events = deliveries = 0
    with dangerously_bypass_tenancy(reason=f"prune webhook history older than {days} days", routine=True):
        while True:
            with transaction.atomic(using=OWNER_DB_ALIAS):
                ids = list(Event.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch])
                if not ids:
                    return events, deliveries
                _, by_model = Event.objects.filter(pk__in=ids).delete()
            events += by_model.get("webhooks.Event", 0)
            deliveries += by_model.get("webhooks.Delivery", 0)
