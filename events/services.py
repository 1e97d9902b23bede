"""The event outbox: an event is written with the change it records and dispatched after commit.

A crash or a broker outage between commit and dispatch loses nothing: `events_sweep_unpublished`
(beat) republishes any event that no subscriber has taken, and dispatch is idempotent. A burst of
events is dispatched in batches: a commit publishes no task while one of its organization is queued
and not started, and a dispatch takes every event of the organization still waiting (DISPATCH_BATCH).
"""

import logging
from collections import defaultdict
from datetime import timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events.models import Event
from events.payloads import event_body
from events.registry import event_subscribers, event_type_get
from renderowl.celery import enqueue
from renderowl.redis import get_redis
from renderowl.tenancy import OWNER_DB_ALIAS, current_organization_id, dangerously_bypass_tenancy, tenant_context

logger = logging.getLogger(__name__)

# An event whose publish failed at the broker is retried this soon; one that the broker took is
# left alone for EVENTS_REPUBLISH_AFTER_SECONDS, because it is probably still queued.
BROKER_FAILURE_RETRY = timedelta(seconds=30)
REPUBLISH_WAIT_CAP = timedelta(hours=6)
PUBLISH_TASK = "events.publish_event_task"
# Events one dispatch hands to subscribers at most: a burst fans out in a few statements per batch.
DISPATCH_BATCH = 100
# A commit publishes no dispatch while one of its organization is queued and not started, for at most this long.
DISPATCH_PENDING_SECONDS = 5
# An event that rode on a queued dispatch instead of publishing its own: republished this soon if it was lost.
COALESCED_REPUBLISH = timedelta(seconds=2 * DISPATCH_PENDING_SECONDS)


def event_emit(*, type, organization_id, project_id, instance=None, data=None, target_urls=(), publish=True):
    """Record an event in the caller's transaction; it is dispatched once that transaction commits.

    `data.object` is `instance` rendered by the event type's API serializer (or `data`, an already
    rendered representation, for a caller that has one). `target_urls` are
    ad-hoc receivers (a render's webhookUrl) besides the matching endpoints. `publish=False` is for
    a caller that delivers the event itself (a webhook test send creates its one delivery).
    """
    event_type = event_type_get(type)
    if (instance is None) == (data is None):
        raise ValueError("Pass the event's object as either `instance` or `data`.")
    now = timezone.now()
    event = Event(
        organization_id=organization_id,
        project_id=project_id,
        type=type,
        target_urls=list(dict.fromkeys(target_urls)),
        created_at=now,
    )
    if publish:
        event.next_publish_at = now + first_republish_after(organization_id)
    else:
        event.published_at = now
    event.body = event_body(event=event, event_type=event_type, instance=instance, data=data)
    event.save(force_insert=True)
    if publish:
        transaction.on_commit(
            lambda: event_publish(
                event_id=event.id, organization_id=str(organization_id), coalesce=True,
                republish_at=event.next_publish_at,
            ),
            robust=True,
        )
    return event


def first_republish_after(organization_id):
    """How long the sweep leaves a new event alone before publishing it again.

    While a dispatch of the organization is queued, the event's commit will most likely ride on it and
    publish nothing of its own (event_publish): should that message be lost, COALESCED_REPUBLISH. Else
    its own message is probably just queued: EVENTS_REPUBLISH_AFTER_SECONDS. Deciding here, in the
    insert, spares a burst's commits one more transaction each.
    """
    try:
        pending = get_redis().exists(dispatch_pending_key(organization_id))
    except redis.RedisError:
        pending = False
    return COALESCED_REPUBLISH if pending else timedelta(seconds=settings.EVENTS_REPUBLISH_AFTER_SECONDS)


def event_publish(*, event_id, organization_id, now=None, coalesce=False, republish_at=None):
    """Queue the dispatch of a committed event; if the broker refuses it, the sweep retries soon.

    `coalesce` (a commit's own publish): publish nothing when a dispatch of the organization is already
    queued and has not started yet, since it takes this event too (event_dispatch). The mark lasts at
    most DISPATCH_PENDING_SECONDS, so a lost message delays no later event for longer than that.
    `republish_at` is the event's `next_publish_at` as committed, when the caller knows it.
    """
    if coalesce and not dispatch_mark_pending(organization_id):
        # The queued dispatch takes this event too; should its message be lost, the sweep republishes the
        # event after COALESCED_REPUBLISH, not after EVENTS_REPUBLISH_AFTER_SECONDS. Usually the insert
        # already said so (first_republish_after); only a dispatch queued since then costs an update.
        now = now or timezone.now()
        if republish_at is None or republish_at > now + COALESCED_REPUBLISH:
            with tenant_context(organization_id):
                Event.objects.filter(pk=event_id, published_at__isnull=True).update(
                    next_publish_at=now + COALESCED_REPUBLISH
                )
        return
    if not enqueue(PUBLISH_TASK, event_id, organization_id=organization_id):
        dispatch_clear_pending(organization_id)
        retry_at = (now or timezone.now()) + BROKER_FAILURE_RETRY
        with tenant_context(organization_id):
            Event.objects.filter(pk=event_id, published_at__isnull=True).update(next_publish_at=retry_at)


def dispatch_pending_key(organization_id):
    return f"events:dispatch-pending:{organization_id}"


def dispatch_mark_pending(organization_id):
    """Mark a dispatch of the organization as queued; False if one already was (and has not started)."""
    try:
        return bool(get_redis().set(dispatch_pending_key(organization_id), 1, nx=True, ex=DISPATCH_PENDING_SECONDS))
    except redis.RedisError:
        return True  # without the mark, publish: one task per event, as many as events


def dispatch_clear_pending(organization_id):
    try:
        get_redis().delete(dispatch_pending_key(organization_id))
    except redis.RedisError:
        logger.warning("could not clear the pending dispatch mark", exc_info=True)


def event_dispatch(*, event_id, now=None, batch=DISPATCH_BATCH):
    """Hand the event to every subscriber, once; a second run does nothing. Runs in the event's tenant context.

    The organization's other committed events still waiting for dispatch (up to `batch` in all) go
    with it, so subscribers record the work of a burst in a few statements; their commits published
    no task of their own while this one was queued (event_publish), or their tasks find them dispatched.
    Returns the event, or None when it was dispatched already, is being dispatched by another task, or is gone.
    """
    now = now or timezone.now()
    organization_id = current_organization_id.get()
    # From here on a commit publishes a dispatch of its own: this one may have looked before it committed.
    dispatch_clear_pending(organization_id)
    # Locked means another dispatch took it: it is handed on when that commits (or, should that roll
    # back, by the sweep), so this task does not queue behind it.
    event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id, published_at__isnull=True).first()
    waiting = (
        Event.objects.select_for_update(skip_locked=True)
        .filter(published_at__isnull=True, next_publish_at__isnull=False)
        .order_by("next_publish_at")
    )
    if event is not None:
        waiting = waiting.exclude(pk=event.pk)
    events = ([event] if event is not None else []) + list(waiting[: batch - (event is not None)])
    if not events:
        return None
    for handler in event_subscribers():
        handler(events=events, now=now)
    Event.objects.filter(pk__in=[dispatched.pk for dispatched in events]).update(published_at=now, next_publish_at=None)
    if len(events) == batch:  # there may be more: one more dispatch once this one commits
        last = events[-1].pk
        transaction.on_commit(
            lambda: event_publish(event_id=last, organization_id=organization_id, coalesce=True), robust=True
        )
    if event is None:
        return None
    event.published_at, event.next_publish_at = now, None
    return event


def republish_wait(attempts):
    """How long the sweep leaves an event alone after its `attempts`-th republish."""
    wait = timedelta(seconds=settings.EVENTS_REPUBLISH_AFTER_SECONDS) * (2 ** min(attempts, 16))
    return min(wait, REPUBLISH_WAIT_CAP)


def events_sweep_unpublished(*, now=None, limit=1000):
    """Republish committed events that no subscriber took (a crash or a broker outage). Operator path.

    Only events whose `next_publish_at` has passed are taken, so an event still plausibly queued
    is not published twice; each republish waits longer, and after EVENTS_MAX_REPUBLISH_ATTEMPTS
    the sweep gives the event up with an ERROR naming it. Returns how many it republished.
    """
    now = now or timezone.now()
    by_attempts = defaultdict(list)
    with dangerously_bypass_tenancy(reason="sweep unpublished events", routine=True):
        with transaction.atomic(using=OWNER_DB_ALIAS):
            due = list(
                Event.objects.select_for_update(skip_locked=True)
                .filter(published_at__isnull=True, next_publish_at__lte=now)
                .order_by("next_publish_at")
                .values_list("id", "organization_id", "publish_attempts")[:limit]
            )
            for event_id, organization_id, attempts in due:
                by_attempts[attempts].append((event_id, organization_id))
            given_up = [
                event_id
                for attempts, events in by_attempts.items()
                if attempts >= settings.EVENTS_MAX_REPUBLISH_ATTEMPTS
                for event_id, _ in events
            ]
            Event.objects.filter(pk__in=given_up).update(next_publish_at=None)
            republish = []
            for attempts, events in by_attempts.items():
                if attempts < settings.EVENTS_MAX_REPUBLISH_ATTEMPTS:
                    Event.objects.filter(pk__in=[event_id for event_id, _ in events]).update(
                        publish_attempts=F("publish_attempts") + 1, next_publish_at=now + republish_wait(attempts + 1)
                    )
                    republish += events
    for event_id in given_up:
        logger.error(
            "event never dispatched; the sweep gave up on it",
            extra={"event_id": event_id, "attempts": settings.EVENTS_MAX_REPUBLISH_ATTEMPTS},
        )
    for event_id, organization_id in republish:
        event_publish(event_id=event_id, organization_id=str(organization_id), now=now)
    return len(republish)


def events_prune(*, days, now=None, batch=1000):
    """Delete events older than `days`, and what subscribers keep of them (deliveries, attempts), in batches.

    Operator path. Returns {model label: rows deleted}, e.g. {"events.Event": 3, "webhooks.Delivery": 5}.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = defaultdict(int)
    with dangerously_bypass_tenancy(reason=f"prune events older than {days} days", routine=True):
        while True:
            with transaction.atomic(using=OWNER_DB_ALIAS):
                ids = list(Event.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch])
                if not ids:
                    return dict(deleted)
                _, by_model = Event.objects.filter(pk__in=ids).delete()
            for label, count in by_model.items():
                deleted[label] += count
