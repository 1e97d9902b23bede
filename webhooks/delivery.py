"""Delivering events: leasing due deliveries, one signed HTTP attempt, and the retry schedule.

The schedule lives in the database (`next_attempt_at`). A periodic dispatcher leases due
deliveries (`lease_token`, `leased_until`) and queues one attempt each; a worker killed
mid-attempt leaves its lease to expire, and the next dispatch hands the delivery on.
At-least-once: a receiver deduplicates by the event id, which never changes across attempts.
"""

import logging
import random
import secrets
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.services import project_signing_secrets
from renderowl.tenancy import dangerously_bypass_tenancy
from webhooks.models import Attempt, Delivery, WebhookEndpoint
from webhooks.network import BlockedDestination, guarded_pool_manager
from webhooks.signing import delivery_headers

logger = logging.getLogger(__name__)

# Waits after attempts 1..5, in minutes (±20% jitter): six attempts over about 31 minutes.
BACKOFF_MINUTES = (1, 2, 4, 8, 16)
JITTER = 0.2
RETRY_BUDGET = timedelta(minutes=35)
RESPONSE_BODY_LIMIT = 1024
TEST_EVENT = "webhook.test"

_pool = None


def http_pool():
    global _pool
    if _pool is None:
        _pool = guarded_pool_manager(num_pools=50, maxsize=4, retries=False)
    return _pool


def backoff_delay(attempt_number, *, rng=random):
    """The wait after failed attempt `attempt_number` (1-based), with jitter."""
    minutes = BACKOFF_MINUTES[min(attempt_number, len(BACKOFF_MINUTES)) - 1]
    return timedelta(minutes=minutes * rng.uniform(1 - JITTER, 1 + JITTER))


def retry_after_delay(value, *, now):
    """Parse a Retry-After header (seconds or HTTP date) into a timedelta, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        return max(parsedate_to_datetime(value) - now, timedelta(0))
    except (TypeError, ValueError):
        return None


def deliveries_lease(*, deliveries, now):
    """Give each delivery a fresh lease; returns [(delivery id, token, organization id)] to queue."""
    leased = []
    for delivery in deliveries:
        delivery.lease_token = secrets.token_hex(16)
        delivery.leased_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["lease_token", "leased_until"])
        leased.append((delivery.id, delivery.lease_token, str(delivery.organization_id)))
    return leased


def deliveries_lease_due(*, now=None, limit=500):
    """Lease every pending delivery whose attempt is due and not leased to a live worker. Operator path."""
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="dispatch due webhook deliveries"), transaction.atomic(using="owner"):
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .order_by("next_attempt_at")[:limit]
        )
        return deliveries_lease(deliveries=due, now=now)


def delivery_attempt(*, delivery_id, lease_token, now=None):
    """Make one attempt if the lease is still this caller's; returns the Attempt, or None if not ours.

    Runs in the delivery's tenant context. The row stays locked for the attempt, so a duplicate
    task message for the same lease waits, then finds the lease spent and does nothing.
    """
    now = now or timezone.now()
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("event", "event__project", "endpoint")
        .filter(pk=delivery_id, lease_token=lease_token, status=Delivery.Status.PENDING)
        .first()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if endpoint is not None and delivery.event.type != TEST_EVENT and not endpoint_accepts(endpoint):
        finish(delivery, now=now, status=Delivery.Status.FAILED)
        return None
    attempt, retry_after = send(delivery, now=now)
    record(delivery, attempt, retry_after=retry_after, now=now)
    return attempt


def endpoint_accepts(endpoint):
    return endpoint.enabled and endpoint.status != WebhookEndpoint.Status.DISABLED


def send(delivery, *, now):
    """POST the event to the delivery's URL once; returns (unsaved Attempt, Retry-After header or None).

    Never raises for the receiver's faults: they are the attempt's outcome.
    """
    event = delivery.event
    body = event.body.encode()
    headers = delivery_headers(
        event_id=event.id,
        event_type=event.type,
        project_id=event.project_id,
        secrets=project_signing_secrets(project=event.project, now=now),
        timestamp=int(now.timestamp()),
        body=body,
    )
    attempt = Attempt(
        organization_id=delivery.organization_id,
        delivery=delivery,
        number=delivery.attempt_count + 1,
        started_at=now,
    )
    retry_after = None
    started = time.monotonic()
    try:
        response = http_pool().request(
            "POST",
            delivery.url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS),
            redirect=False,
            preload_content=False,
        )
        try:
            attempt.response_status = response.status
            attempt.response_body = response.read(RESPONSE_BODY_LIMIT, decode_content=True).decode("utf-8", "replace")
            retry_after = response.headers.get("Retry-After")
        finally:
            response.release_conn()
    except BlockedDestination as exc:
        attempt.error = f"blocked: {exc}"[:500]
    except urllib3.exceptions.HTTPError as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"[:500]
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return attempt, retry_after


def record(delivery, attempt, *, retry_after, now):
    """Save the attempt and move the delivery (and its endpoint's health) on."""
    attempt.save(force_insert=True)
    delivery.attempt_count = attempt.number
    endpoint = delivery.endpoint
    counts_for_health = endpoint is not None and delivery.event.type != TEST_EVENT
    if attempt.succeeded:
        finish(delivery, now=now, status=Delivery.Status.SUCCEEDED)
        if counts_for_health:
            endpoint_record_success(endpoint)
        return
    if attempt.response_status == 410 and endpoint is not None:
        finish(delivery, now=now, status=Delivery.Status.FAILED)
        endpoint_disable(endpoint, reason="The receiver answered 410 Gone.")
        return
    if delivery.attempt_count >= delivery.max_attempts:
        finish(delivery, now=now, status=Delivery.Status.FAILED)
        if counts_for_health:
            endpoint_record_failed_delivery(endpoint)
        return
    delay = backoff_delay(delivery.attempt_count)
    if attempt.response_status in (429, 503):
        requested = retry_after_delay(retry_after, now=now)
        remaining = delivery.created_at + RETRY_BUDGET - now
        if requested is not None:
            delay = max(delay, min(requested, remaining))
    delivery.next_attempt_at = now + delay
    delivery.lease_token, delivery.leased_until = "", None
    delivery.save(update_fields=["attempt_count", "next_attempt_at", "lease_token", "leased_until", "updated_at"])


def finish(delivery, *, now, status):
    delivery.status = status
    delivery.completed_at = now
    delivery.next_attempt_at = None
    delivery.lease_token, delivery.leased_until = "", None
    delivery.save(
        update_fields=[
            "status", "attempt_count", "completed_at", "next_attempt_at", "lease_token", "leased_until", "updated_at"
        ]
    )


def endpoint_record_success(endpoint):
    if endpoint.consecutive_failures or endpoint.status == WebhookEndpoint.Status.FAILING:
        endpoint.consecutive_failures = 0
        endpoint.status = WebhookEndpoint.Status.ACTIVE
        endpoint.save(update_fields=["consecutive_failures", "status", "updated_at"])


def endpoint_record_failed_delivery(endpoint):
    """A delivery exhausted its retries: the endpoint is failing, and disabled after a run of them."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.consecutive_failures += 1
    if endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES:
        endpoint_disable(
            endpoint,
            reason=f"{endpoint.consecutive_failures} deliveries in a row failed after every retry.",
        )
        return
    endpoint.status = WebhookEndpoint.Status.FAILING
    endpoint.save(update_fields=["consecutive_failures", "status", "updated_at"])


def endpoint_disable(endpoint, *, reason):
    endpoint.status = WebhookEndpoint.Status.DISABLED
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["consecutive_failures", "status", "disabled_reason", "updated_at"])
    logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.id, "reason": reason})
