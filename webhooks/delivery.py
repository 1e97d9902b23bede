"""Delivering events: leasing due deliveries, one signed HTTP attempt, and the retry schedule.

The schedule lives in the database (`next_attempt_at`). A periodic dispatcher leases due
deliveries (`lease_token`, `leased_until`) and queues one attempt each. An attempt is three
steps: claim (a short transaction that counts the attempt and logs it as unfinished), send
(no transaction, no locks, bounded by WEBHOOK_TIMEOUT_SECONDS and the task's time limit) and
record (a short transaction, only while the lease is still ours). A worker that dies mid-send
leaves an unfinished attempt and a lease that runs out, and the next dispatch hands the
delivery on: at-least-once, bounded by `max_attempts`, never a silent resend loop.
"""

import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from projects.services import project_signing_secrets
from renderowl.network import BlockedDestination, ExchangeTimeout, exchange_deadline, guarded_pool_manager
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy, tenant_context
from webhooks.events import TEST_EVENT
from webhooks.models import Attempt, Delivery, WebhookEndpoint
from webhooks.signing import delivery_headers

logger = logging.getLogger(__name__)

# Waits after attempts 1..5, in minutes (±20% jitter): six attempts over about 31 minutes.
BACKOFF_MINUTES = (1, 2, 4, 8, 16)
MAX_ATTEMPTS = 1 + len(BACKOFF_MINUTES)
JITTER = 0.2
RETRY_BUDGET = timedelta(minutes=35)
RESPONSE_BODY_LIMIT = 1024
DRAIN_LIMIT = 64 * 1024
UNFINISHED = "The attempt did not finish: the worker stopped before the receiver answered."

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


def retry_after_delay(value, *, now, cap=RETRY_BUDGET):
    """A Retry-After header (seconds or HTTP date) as a timedelta no longer than `cap`, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return timedelta(seconds=min(int(value), int(cap.total_seconds())))
    try:
        return min(max(parsedate_to_datetime(value) - now, timedelta(0)), cap)
    except (TypeError, ValueError, OverflowError):
        return None


def deliveries_lease(*, delivery_ids, now):
    """Lease the deliveries to one batch; returns [(delivery id, token)] to queue as attempts."""
    token = secrets.token_hex(16)
    Delivery.objects.filter(pk__in=delivery_ids).update(
        lease_token=token, leased_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    )
    return [(delivery_id, token) for delivery_id in delivery_ids]


def deliveries_lease_due(*, now=None, limit=500):
    """Lease pending deliveries that are due and not leased to a live worker, across organizations.

    Returns [(delivery id, token, organization id)]. Runs through the operator bypass.
    """
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="dispatch due webhook deliveries", routine=True):
        with transaction.atomic(using=OWNER_DB_ALIAS):
            due = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
                .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
                .order_by("next_attempt_at")
                .values_list("id", "organization_id")[:limit]
            )
            organizations = dict(due)
            leased = deliveries_lease(delivery_ids=list(organizations), now=now)
    return [(delivery_id, token, str(organizations[delivery_id])) for delivery_id, token in leased]


@dataclass
class Claim:
    """What the send step needs, taken in the claim's transaction."""

    attempt_id: int
    delivery_id: str
    lease_token: str
    url: str
    body: bytes
    headers: dict
    counts_for_health: bool
    manual: bool = False


@dataclass
class Outcome:
    status: int | None = None
    body: str = ""
    retry_after: str | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self):
        """A 2xx whose exchange finished cleanly (a body that breaks off is not an answer)."""
        return self.status is not None and 200 <= self.status < 300 and not self.error


def delivery_attempt(*, organization_id, delivery_id, lease_token, now=None, manual=False):
    """Make one attempt if the lease is still `lease_token`; returns the Attempt, or None if not ours."""
    now = now or timezone.now()
    claim = attempt_claim(
        organization_id=organization_id, delivery_id=delivery_id, lease_token=lease_token, now=now, manual=manual
    )
    if claim is None:
        return None
    outcome = attempt_send(claim)
    return attempt_record(organization_id=organization_id, claim=claim, outcome=outcome, now=now)


def attempt_claim(*, organization_id, delivery_id, lease_token, now, manual):
    """Count and log the attempt before sending, so a crash during the send cannot hide it."""
    with tenant_context(organization_id):
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, lease_token=lease_token, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        # A user's test or retry stays manual even when the dispatcher re-queues it after a lost message.
        manual = manual or delivery.manual_queued_at is not None
        endpoint, is_test = delivery.endpoint, delivery.event.type == TEST_EVENT
        paused = endpoint is not None and not is_test and not manual and not endpoint_accepts(endpoint)
        secrets = project_signing_secrets(project_id=delivery.event.project_id, now=now)
        if paused or not secrets or delivery.attempt_count >= delivery.max_attempts:
            # Not secrets: the project was purged for good, so its events may not be sent any more.
            delivery_finish(delivery, now=now, status=Delivery.Status.FAILED)
            return None
        delivery.attempt_count += 1
        delivery.url = endpoint.url if endpoint is not None else delivery.url
        delivery.leased_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["attempt_count", "url", "leased_until", "updated_at"])
        attempt = Attempt.objects.create(
            organization_id=delivery.organization_id,
            delivery=delivery,
            number=delivery.attempt_count,
            started_at=now,
            duration_ms=0,
            error=UNFINISHED,
            manual=manual,
        )
        event = delivery.event
        body = event.body.encode()
        headers = delivery_headers(
            event_id=event.id,
            event_type=event.type,
            project_id=event.project_id,
            secrets=secrets,
            timestamp=int(now.timestamp()),
            body=body,
        )
        return Claim(
            attempt_id=attempt.pk,
            delivery_id=delivery.pk,
            lease_token=lease_token,
            url=delivery.url,
            body=body,
            headers=headers,
            counts_for_health=endpoint is not None and not is_test and not manual,
            manual=manual,
        )


def attempt_send(claim):
    """POST once, outside any transaction, within WEBHOOK_TIMEOUT_SECONDS for the whole exchange.

    Never raises: every fault is the attempt's outcome. The response body must arrive whole (up to
    DRAIN_LIMIT): a 2xx whose body breaks off is a failed attempt.
    """
    outcome = Outcome()
    started = time.monotonic()
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with exchange_deadline(timeout) as deadline:
            try:
                response = http_pool().request(
                    "POST",
                    claim.url,
                    body=claim.body,
                    headers=claim.headers,
                    timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
                    redirect=False,
                    preload_content=False,
                )
                outcome.status = response.status
                outcome.retry_after = response.headers.get("Retry-After")
                outcome.body = response.read(RESPONSE_BODY_LIMIT, decode_content=True).decode("utf-8", "replace")
                if response.read(DRAIN_LIMIT):  # more than we keep: do not pool a connection with a body pending
                    response.close()
                else:
                    response.release_conn()
            except Exception:
                if deadline.expired:
                    raise ExchangeTimeout(f"The receiver did not answer in full within {timeout:g} s.") from None
                raise
    except BlockedDestination as exc:
        outcome.error = f"blocked: {exc}"
    except Exception as exc:  # noqa: BLE001 - a receiver's fault must never escape as a task error
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def storable(text, limit):
    """Text PostgreSQL can keep: no NUL, at most `limit` characters."""
    return text.replace("\x00", "\ufffd")[:limit]


def attempt_record(*, organization_id, claim, outcome, now):
    """Log the outcome and move the delivery on, if the lease is still ours (else only the log)."""
    with tenant_context(organization_id):
        Attempt.objects.filter(pk=claim.attempt_id).update(
            duration_ms=outcome.duration_ms,
            response_status=outcome.status,
            response_body=storable(outcome.body, RESPONSE_BODY_LIMIT),
            error=storable(outcome.error, 500),
        )
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=claim.delivery_id, lease_token=claim.lease_token, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is not None:
            finished = now + timedelta(milliseconds=outcome.duration_ms)
            delivery_schedule_next(delivery, outcome=outcome, claim=claim, now=finished)
        if claim.manual:
            Delivery.objects.filter(pk=claim.delivery_id).update(manual_queued_at=None)
        return Attempt.objects.get(pk=claim.attempt_id)


def delivery_schedule_next(delivery, *, outcome, claim, now):
    endpoint = delivery.endpoint
    if outcome.succeeded:
        delivery_finish(delivery, now=now, status=Delivery.Status.SUCCEEDED)
        if claim.counts_for_health:
            endpoint_record_success(endpoint.pk)
    elif outcome.status == 410 and endpoint is not None and delivery.event.type != TEST_EVENT:
        delivery_finish(delivery, now=now, status=Delivery.Status.FAILED)
        endpoint_disable(endpoint.pk, reason="The receiver answered 410 Gone.")
    elif delivery.attempt_count >= delivery.max_attempts:
        delivery_finish(delivery, now=now, status=Delivery.Status.FAILED)
        if claim.counts_for_health:
            endpoint_record_failed_delivery(endpoint.pk)
    else:
        delay = backoff_delay(delivery.attempt_count)
        if outcome.status in (429, 503):
            remaining = max(delivery.created_at + RETRY_BUDGET - now, timedelta(0))
            requested = retry_after_delay(outcome.retry_after, now=now, cap=remaining)
            if requested is not None:
                delay = max(delay, requested)
        delivery.next_attempt_at = now + delay
        delivery.lease_token, delivery.leased_until = "", None
        delivery.save(update_fields=["next_attempt_at", "lease_token", "leased_until", "updated_at"])


def delivery_finish(delivery, *, now, status):
    delivery.status = status
    delivery.completed_at = now
    delivery.next_attempt_at = None
    delivery.lease_token, delivery.leased_until = "", None
    delivery.manual_queued_at = None
    delivery.save(update_fields=["status", "completed_at", "next_attempt_at", "lease_token", "leased_until",
                                 "manual_queued_at", "updated_at"])


def endpoint_accepts(endpoint):
    return endpoint.enabled and endpoint.status != WebhookEndpoint.Status.DISABLED


def endpoint_record_success(endpoint_id):
    """Any delivered event heals a failing endpoint; a disabled one stays disabled."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).exclude(status=WebhookEndpoint.Status.DISABLED).exclude(
        status=WebhookEndpoint.Status.ACTIVE, consecutive_failures=0
    ).update(status=WebhookEndpoint.Status.ACTIVE, consecutive_failures=0, updated_at=timezone.now())


def endpoint_record_failed_delivery(endpoint_id):
    """A delivery exhausted its retries: the endpoint is failing, and disabled after a run of them."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).exclude(status=WebhookEndpoint.Status.DISABLED).update(
        consecutive_failures=F("consecutive_failures") + 1,
        status=WebhookEndpoint.Status.FAILING,
        updated_at=timezone.now(),
    )
    failures = WebhookEndpoint.objects.filter(pk=endpoint_id).values_list("consecutive_failures", flat=True).first()
    if failures is not None and failures >= settings.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES:
        endpoint_disable(endpoint_id, reason=f"{failures} deliveries in a row failed after every retry.")


def endpoint_disable(endpoint_id, *, reason):
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
        status=WebhookEndpoint.Status.DISABLED, disabled_reason=reason, updated_at=timezone.now()
    )
    logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "reason": reason})
