"""`GET /v1/renders/{id}/events`: a render job's states as Server-Sent Events, followed from its live feed.

The view authenticates, scopes and reads the job once on a request thread, like any request; the
stream itself is an asynchronous iterator that renderowl.serving runs on the event loop, holding no
request thread and no database connection, waiting in Redis (XREAD BLOCK on renders/feed.py's
stream) for the job's next state. Each event is the job as `GET /v1/renders/{id}` shows it (with
an `outputUrl` signed as it is sent, once completed) under the id of its feed entry, so a reconnect
with `Last-Event-ID` resumes after it. The stream ends after a final state and after
RENDER_EVENTS_MAX_SECONDS (the client reconnects). While idle it sends a comment every
RENDER_EVENTS_KEEPALIVE_SECONDS, and every RENDER_EVENTS_RECONCILE_SECONDS borrows a request thread
for one read of the job, which appends to the feed a state whose append was lost. An organization
holds at most RENDER_EVENTS_PER_ORGANIZATION streams at once, across every web process.
"""

import asyncio
import json
import logging
import re
import secrets

import redis
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework import serializers, status

from renderowl.api.errors import ApiError, InvalidRequest
from renderowl.api.renderers import camelize
from renderowl.redis import get_redis, new_async_redis
from renderowl.serving import in_request_thread
from renderowl.tenancy import tenant_context
from renders.feed import FINAL_STATUSES, render_feed_catch_up, render_feed_holds, render_feed_read
from renders.models import RenderJob
from renders.serializers import RenderJobSerializer
from renders.services import render_output_download

logger = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
LAST_EVENT_ID_PATTERN = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
# How long EventSource waits before it reconnects (the `retry:` field).
RECONNECT_MILLISECONDS = 2000
KEEPALIVE = b": keepalive\n\n"
# A read waits this much longer than its BLOCK for Redis to answer before the stream gives up on it.
READ_GRACE_SECONDS = 5
# A stream's slot outlives the stream's own limit by this much, so a slot that was never released
# (its process died) frees itself.
SLOT_GRACE_SECONDS = 60

# KEYS[1]: the organization's open streams (a sorted set of tokens by when their slot lapses).
# ARGV: the limit, a slot's lifetime in seconds, the new stream's token. Returns 1 if it took a slot.
SLOT_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


def last_event_id(request):
    """The `Last-Event-ID` header as a feed entry id, or None; 400 unless it has the form of one."""
    value = request.headers.get("Last-Event-ID", "").strip()
    if not value:
        return None
    if not LAST_EVENT_ID_PATTERN.match(value):
        raise InvalidRequest(
            "Last-Event-ID must be the id of an event this stream sent, such as 1767225600000-0; "
            "reconnect without it to start from the render's current state.",
            code="invalid_last_event_id", field="Last-Event-ID",
        )
    return value


def render_event_stream(*, job, last_event_id=None):
    """The streamed response for `job`, read by the caller in its tenant transaction.

    Without `last_event_id` the first event is the job's current state; with one the stream
    resumes after that event (or sends the current state, if the feed no longer holds it). A
    stream that already ended with the job's final state is answered 204, which tells EventSource
    to stop reconnecting.
    """
    try:
        newest = render_feed_catch_up(**feed_state(job))
        resume = last_event_id is not None and render_feed_holds(job_id=job.id, entry_id=last_event_id)
        if resume and newest.id == last_event_id and newest.final:
            return HttpResponse(status=status.HTTP_204_NO_CONTENT)
        slot = _slot_take(job.organization_id)
    except redis.RedisError:
        logger.warning("render events unavailable", exc_info=True)
        raise EventsUnavailable() from None
    if slot is None:
        raise TooManyEventStreams()
    response = StreamingHttpResponse(
        _events(
            organization_id=str(job.organization_id), job_id=job.id, slot=slot,
            first=None if resume else newest, cursor=last_event_id if resume else newest.id,
        ),
        content_type=EVENT_STREAM,
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx passes each event on at once, unbuffered
    return response


def feed_state(job):
    """What the job's feed keeps of it: the job as its events carry it (no signed URL)."""
    return {
        "job_id": job.id,
        "job": camelize(RenderJobSerializer(job).data),
        "output_key": job.output_key,
        "updated_at": job.updated_at,
        "final": job.status in FINAL_STATUSES,
    }


class EventsUnavailable(ApiError):
    def __init__(self):
        super().__init__(
            "Render events are unavailable for a moment; retry, or poll GET /v1/renders/{renderId} meanwhile.",
            code="events_unavailable", status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        self.wait = RECONNECT_MILLISECONDS / 1000


class TooManyEventStreams(ApiError):
    def __init__(self):
        limit = settings.RENDER_EVENTS_PER_ORGANIZATION
        super().__init__(
            f"This organization has {limit} render event streams open, its limit; close one, or poll "
            "GET /v1/renders/{renderId} instead.",
            code="too_many_event_streams", status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        self.wait = RECONNECT_MILLISECONDS / 1000


async def _events(*, organization_id, job_id, slot, first, cursor):
    """The stream's body: runs on the event loop; a final state, its time limit or its client's leaving ends it."""
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + settings.RENDER_EVENTS_MAX_SECONDS
    reconcile_at = loop.time() + settings.RENDER_EVENTS_RECONCILE_SECONDS
    client = new_async_redis()
    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
        if first is not None:
            yield await _message(first)
            if first.final:
                return
        while (left := ends_at - loop.time()) > 0:
            block = min(settings.RENDER_EVENTS_KEEPALIVE_SECONDS, left)
            async with asyncio.timeout(block + READ_GRACE_SECONDS):
                entries = await render_feed_read(client, job_id=job_id, after=cursor, block_seconds=block)
            for entry in entries:
                cursor = entry.id
                yield await _message(entry)
                if entry.final:
                    return
            if entries:
                reconcile_at = loop.time() + settings.RENDER_EVENTS_RECONCILE_SECONDS
                continue
            if loop.time() >= reconcile_at:
                if not await in_request_thread(_catch_up_from_database, organization_id, job_id):
                    return  # the job is gone (its project was deleted)
                reconcile_at = loop.time() + settings.RENDER_EVENTS_RECONCILE_SECONDS
            yield KEEPALIVE
    except (redis.RedisError, DatabaseError, TimeoutError):
        # The client reconnects with Last-Event-ID and resumes where this stream stopped.
        logger.warning("render event stream cut short", extra={"render": job_id}, exc_info=True)
    finally:
        try:
            await client.zrem(_slots_key(organization_id), slot)
        except redis.RedisError:
            pass  # the slot lapses by itself
        await client.aclose()


async def _message(entry):
    """One event: the entry's job as GET shows it, with an outputUrl signed now if it is completed."""
    data = {**entry.job, "outputUrl": None, "outputUrlExpiresAt": None}
    if entry.job["status"] == RenderJob.Status.COMPLETED:
        # Signing needs no database, but may need the storage's credentials: off the loop.
        download = await asyncio.to_thread(_signed_output, entry)
        if download is not None:
            data["outputUrl"] = download.url
            data["outputUrlExpiresAt"] = serializers.DateTimeField().to_representation(download.expires_at)
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {entry.id}\ndata: {payload}\n\n".encode()


def _signed_output(entry):
    job = entry.job
    return render_output_download(job=RenderJob(
        id=job["id"], status=job["status"], output_key=entry.output_key, output=job["output"],
    ))


def _catch_up_from_database(organization_id, job_id):
    """On a request thread: append the job's state to its feed if the feed missed it; False once the job is gone."""
    with tenant_context(organization_id):
        job = RenderJob.objects.filter(
            organization_id=organization_id, pk=job_id, project__deleted_at__isnull=True,
        ).first()
    if job is None:
        return False
    render_feed_catch_up(**feed_state(job))
    return True


def _slot_take(organization_id):
    """A token of one of the organization's RENDER_EVENTS_PER_ORGANIZATION stream slots, or None when all are taken."""
    token = secrets.token_hex(8)
    lifetime = int(settings.RENDER_EVENTS_MAX_SECONDS) + SLOT_GRACE_SECONDS
    taken = get_redis().eval(
        SLOT_SCRIPT, 1, _slots_key(organization_id), settings.RENDER_EVENTS_PER_ORGANIZATION, lifetime, token,
    )
    return token if taken else None


def _slots_key(organization_id):
    return f"renders:event-streams:{organization_id}"
