"""Delivering events: leasing due deliveries, signed HTTP attempts in batches, and the retry schedule.

The schedule lives in the database (`next_attempt_at`). Fan-out and a periodic dispatcher lease
deliveries (`lease_token`, `leased_until`) and queue them in batches (WEBHOOK_BATCH_SIZE). A batch
is three steps: claim (one short transaction that counts every attempt and logs it as unfinished),
send (no transaction, no locks: concurrently, at most WEBHOOK_ENDPOINT_CONCURRENCY at a time to one
receiver, each bounded by WEBHOOK_TIMEOUT_SECONDS) and record (short transactions, as outcomes
arrive, only for deliveries whose lease is still ours). A receiver that does not answer gets no
further sends from the batch: its unsent deliveries are released unattempted for the next dispatch.
A worker that dies mid-send leaves unfinished attempts and leases that run out, and the next
dispatch hands the deliveries on: at-least-once, bounded by `max_attempts`, never a silent resend loop.
"""

import logging
import os
import random
import secrets
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import connections, router, transaction
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
# Outcomes that arrived are recorded at least this often while slower sends of the batch go on.
RECORD_EVERY_SECONDS = 0.2
# A batch starts no send later than this after it began, so that its last exchange and the recording
# end within the task's soft time limit: limit - 5 (soft) - timeout (the last exchange) - 5 (recording).
SEND_WINDOW_MARGIN_SECONDS = 10

_pool = None
_executor = None


def http_pool():
    """Keep-alive connections per receiver (scheme, host, port), shared by the batch's sending threads."""
    global _pool
    if _pool is None:
        _pool = guarded_pool_manager(num_pools=50, maxsize=settings.WEBHOOK_ENDPOINT_CONCURRENCY, retries=False)
    return _pool


def send_executor():
    """The process's sending threads (WEBHOOK_BATCH_CONCURRENCY); created on first use, after any fork."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.WEBHOOK_BATCH_CONCURRENCY, thread_name_prefix="webhook-send")
    return _executor


def _forget_after_fork():
    """A prefork pool process must not use its parent's sockets or (dead) threads."""
    global _pool, _executor
    _pool, _executor = None, None


os.register_at_fork(after_in_child=_forget_after_fork)


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

    @property
    def receiver(self):
        """Sends to one receiver share its connections and its concurrency bound: scheme, host and port."""
        parts = urlsplit(self.url)
        return parts.scheme, parts.netloc


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
    claims = deliveries_claim(
        organization_id=organization_id, leased=[(delivery_id, lease_token)], now=now, manual=manual
    )
    if not claims:
        return None
    (claim,) = claims
    attempts_record(organization_id=organization_id, results=[(claim, attempt_send(claim))], now=now)
    with tenant_context(organization_id):
        return Attempt.objects.get(pk=claim.attempt_id)


def deliveries_attempt(*, organization_id, leased, now=None):
    """Attempt a batch of one organization's leased deliveries, [(id, token)]; returns how many were sent.

    Claimed together, sent concurrently (at most WEBHOOK_ENDPOINT_CONCURRENCY at a time to one receiver,
    WEBHOOK_BATCH_CONCURRENCY in all), recorded in bulk as outcomes arrive, so a slow receiver holds
    back neither the sends nor the records of the others.
    """
    now = now or timezone.now()
    claims = deliveries_claim(organization_id=organization_id, leased=leased, now=now, manual=False)
    if not claims:
        return 0
    if len(claims) == 1:  # nothing to overlap: no thread hop
        attempts_record(organization_id=organization_id, results=[(claims[0], attempt_send(claims[0]))], now=now)
        return 1
    return claims_send(organization_id=organization_id, claims=claims, now=now)


def claims_send(*, organization_id, claims, now):
    """Send the claims through the sending threads and record outcomes every RECORD_EVERY_SECONDS or so.

    A receiver that does not answer (no status: a timeout, a refused connection, a blocked address) gets
    no further sends from this batch; those, and any not started within the send window, are released.
    """
    per_receiver = settings.WEBHOOK_ENDPOINT_CONCURRENCY
    send_by = time.monotonic() + max(settings.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS - settings.WEBHOOK_TIMEOUT_SECONDS
                                      - SEND_WINDOW_MARGIN_SECONDS, 0)
    waiting = defaultdict(deque)
    for claim in claims:
        waiting[claim.receiver].append(claim)
    in_flight, unanswering, running = Counter(), set(), {}
    executor = send_executor()

    def start_sends():
        for receiver, queue in waiting.items():
            while queue and receiver not in unanswering and in_flight[receiver] < per_receiver:
                if time.monotonic() >= send_by:
                    return
                claim = queue.popleft()
                running[executor.submit(attempt_send, claim)] = claim
                in_flight[claim.receiver] += 1

    results, sent, oldest = [], 0, None
    start_sends()
    while running:
        done, _ = wait(running, timeout=RECORD_EVERY_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            claim = running.pop(future)
            in_flight[claim.receiver] -= 1
            outcome = future.result()  # attempt_send never raises
            if outcome.status is None:
                unanswering.add(claim.receiver)
            results.append((claim, outcome))
            oldest = oldest or time.monotonic()
        start_sends()
        if results and (not running or time.monotonic() - oldest >= RECORD_EVERY_SECONDS):
            attempts_record(organization_id=organization_id, results=results, now=now)
            sent += len(results)
            results, oldest = [], None
    unsent = [claim for queue in waiting.values() for claim in queue]
    if unsent:
        claims_release(organization_id=organization_id, claims=unsent)
    return sent


def deliveries_claim(*, organization_id, leased, now, manual):
    """Count and log each attempt before sending, so a crash during the send cannot hide it; one transaction.

    Returns a Claim per delivery still leased to its token and due a send; closes those that may not be sent.
    """
    tokens = dict(leased)
    claims = []
    with tenant_context(organization_id):
        deliveries = [
            delivery
            for delivery in Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "endpoint")
            .filter(pk__in=list(tokens), status=Delivery.Status.PENDING)
            .order_by("pk")  # one lock order for every batch
            if delivery.lease_token == tokens[delivery.pk]
        ]
        signing_secrets, claimed = {}, []
        for delivery in deliveries:
            # A user's test or retry stays manual even when the dispatcher re-queues it after a lost message.
            is_manual = manual or delivery.manual_queued_at is not None
            endpoint, event = delivery.endpoint, delivery.event
            is_test = event.type == TEST_EVENT
            paused = endpoint is not None and not is_test and not is_manual and not endpoint_accepts(endpoint)
            if event.project_id not in signing_secrets:
                signing_secrets[event.project_id] = project_signing_secrets(project_id=event.project_id, now=now)
            secrets = signing_secrets[event.project_id]
            if paused or not secrets or delivery.attempt_count >= delivery.max_attempts:
                # Not secrets: the project was purged for good, so its events may not be sent any more.
                delivery_finish(delivery, now=now, status=Delivery.Status.FAILED)
                continue
            delivery.attempt_count += 1
            delivery.url = endpoint.url if endpoint is not None else delivery.url
            delivery.leased_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
            delivery.updated_at = timezone.now()
            claimed.append((delivery, is_manual, is_test, secrets))
        if not claimed:
            return []
        rows_update([delivery for delivery, *_ in claimed], ["attempt_count", "url", "leased_until", "updated_at"])
        attempts = Attempt.objects.bulk_create([
            Attempt(
                organization_id=delivery.organization_id,
                delivery=delivery,
                number=delivery.attempt_count,
                started_at=now,
                duration_ms=0,
                error=UNFINISHED,
                manual=is_manual,
            )
            for delivery, is_manual, _, _ in claimed
        ])
    timestamp = int(now.timestamp())
    for (delivery, is_manual, is_test, secrets), attempt in zip(claimed, attempts, strict=True):
        event = delivery.event
        body = event.body.encode()
        claims.append(Claim(
            attempt_id=attempt.pk,
            delivery_id=delivery.pk,
            lease_token=delivery.lease_token,
            url=delivery.url,
            body=body,
            headers=delivery_headers(
                event_id=event.id, event_type=event.type, project_id=event.project_id, secrets=secrets,
                timestamp=timestamp, body=body,
            ),
            counts_for_health=delivery.endpoint_id is not None and not is_test and not is_manual,
            manual=is_manual,
        ))
    return claims


def claims_release(*, organization_id, claims):
    """Undo claims that were never sent: no attempt logged or counted, the lease given up, still due."""
    with tenant_context(organization_id):
        Attempt.objects.filter(pk__in=[claim.attempt_id for claim in claims]).delete()
        for token, ids in _ids_by_token(claims).items():
            Delivery.objects.filter(pk__in=ids, lease_token=token, status=Delivery.Status.PENDING).update(
                attempt_count=F("attempt_count") - 1, lease_token="", leased_until=None, updated_at=timezone.now()
            )


def _ids_by_token(claims):
    by_token = defaultdict(list)
    for claim in claims:
        by_token[claim.lease_token].append(claim.delivery_id)
    return by_token


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


def rows_update(instances, fields):
    """Write `fields` of model instances (one model) back by primary key in one statement.

    `bulk_update` would build a CASE per field and row, which costs more CPU than the sends it records.
    """
    model = type(instances[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    row = "(" + ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in columns) + ")"
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET "
        + ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
        + f" FROM (VALUES {', '.join([row] * len(instances))}) AS v({', '.join(quote(f.column) for f in columns)})"
        + f" WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
    )
    params = [
        field.get_db_prep_value(getattr(instance, field.attname), connection)
        for instance in instances
        for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def storable(text, limit):
    """Text PostgreSQL can keep: no NUL, at most `limit` characters."""
    return text.replace("\x00", "\ufffd")[:limit]


def attempts_record(*, organization_id, results, now):
    """Log the outcomes, [(claim, outcome)], and move each delivery on if its lease is still ours (else only the log).

    One transaction for the batch: the attempts, the deliveries and the endpoints' health, in bulk.
    """
    with tenant_context(organization_id):
        rows_update(
            [
                Attempt(
                    pk=claim.attempt_id,
                    duration_ms=outcome.duration_ms,
                    response_status=outcome.status,
                    response_body=storable(outcome.body, RESPONSE_BODY_LIMIT),
                    error=storable(outcome.error, 500),
                )
                for claim, outcome in results
            ],
            ["duration_ms", "response_status", "response_body", "error"],
        )
        by_delivery = {claim.delivery_id: (claim, outcome) for claim, outcome in results}
        moved, health = [], []
        for delivery in (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "endpoint")
            .filter(pk__in=list(by_delivery), status=Delivery.Status.PENDING)
            .order_by("pk")
        ):
            claim, outcome = by_delivery[delivery.pk]
            if delivery.lease_token != claim.lease_token:
                continue
            finished = now + timedelta(milliseconds=outcome.duration_ms)
            health += delivery_schedule_next(delivery, outcome=outcome, claim=claim, now=finished)
            moved.append(delivery)
        if moved:
            rows_update(moved, [
                "status", "completed_at", "next_attempt_at", "lease_token", "leased_until", "manual_queued_at",
                "updated_at",
            ])
        manual = [claim.delivery_id for claim, _ in results if claim.manual]
        if manual:
            Delivery.objects.filter(pk__in=manual).update(manual_queued_at=None)
        endpoints_record_health(health)


def delivery_schedule_next(delivery, *, outcome, claim, now):
    """Set the delivery's next state after an attempt (not saved); returns [(endpoint id, what happened)]."""
    endpoint = delivery.endpoint
    if outcome.succeeded:
        delivery_mark_finished(delivery, now=now, status=Delivery.Status.SUCCEEDED)
        return [(endpoint.pk, "succeeded")] if claim.counts_for_health else []
    if outcome.status == 410 and endpoint is not None and delivery.event.type != TEST_EVENT:
        delivery_mark_finished(delivery, now=now, status=Delivery.Status.FAILED)
        return [(endpoint.pk, "gone")]
    if delivery.attempt_count >= delivery.max_attempts:
        delivery_mark_finished(delivery, now=now, status=Delivery.Status.FAILED)
        return [(endpoint.pk, "exhausted")] if claim.counts_for_health else []
    delay = backoff_delay(delivery.attempt_count)
    if outcome.status in (429, 503):
        remaining = max(delivery.created_at + RETRY_BUDGET - now, timedelta(0))
        requested = retry_after_delay(outcome.retry_after, now=now, cap=remaining)
        if requested is not None:
            delay = max(delay, requested)
    delivery.next_attempt_at = now + delay
    delivery.lease_token, delivery.leased_until = "", None
    delivery.updated_at = timezone.now()
    return []


def endpoints_record_health(health):
    """Apply a batch's effects on endpoints: 410s disable, exhausted deliveries count, then successes heal."""
    for endpoint_id, happened in health:
        if happened == "gone":
            endpoint_disable(endpoint_id, reason="The receiver answered 410 Gone.")
        elif happened == "exhausted":
            endpoint_record_failed_delivery(endpoint_id)
    healed = {endpoint_id for endpoint_id, happened in health if happened == "succeeded"}
    if healed:
        endpoint_record_success(healed)


def delivery_mark_finished(delivery, *, now, status):
    delivery.status = status
    delivery.completed_at = now
    delivery.next_attempt_at = None
    delivery.lease_token, delivery.leased_until = "", None
    delivery.manual_queued_at = None
    delivery.updated_at = timezone.now()


def delivery_finish(delivery, *, now, status):
    delivery_mark_finished(delivery, now=now, status=status)
    delivery.save(update_fields=["status", "completed_at", "next_attempt_at", "lease_token", "leased_until",
                                 "manual_queued_at", "updated_at"])


def endpoint_accepts(endpoint):
    return endpoint.enabled and endpoint.status != WebhookEndpoint.Status.DISABLED


def endpoint_record_success(endpoint_ids):
    """Any delivered event heals a failing endpoint; a disabled one stays disabled."""
    WebhookEndpoint.objects.filter(pk__in=endpoint_ids).exclude(status=WebhookEndpoint.Status.DISABLED).exclude(
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
