"""A render job's live feed: its committed states, newest last, in a short Redis stream of its own.

Every `render_event` appends the job, as its event carries it (no signed URL), once the change has
committed; `GET /v1/renders/{id}/events` replays and follows the stream without a database
connection (renders/streaming.py). The stream only ever moves forward: an entry is appended only
if its job is newer (`updatedAt`) than the last one, or is the job's final state, and nothing
follows a final state, so appends that race (two processes, a reader catching up from the
database) can neither reorder nor repeat states. A lost append (a crash after the commit, Redis
down) is healed by the next one, or by a reader that finds the database ahead
(`render_feed_catch_up`). The stream keeps its last RENDER_FEED_LENGTH entries (about) and
expires RENDER_FEED_TTL_SECONDS after its last append.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import redis
from django.db import transaction

from renderowl.redis import get_redis
from renders.models import RenderJob

logger = logging.getLogger(__name__)

RENDER_FEED_LENGTH = 100
RENDER_FEED_TTL_SECONDS = 24 * 60 * 60
FINAL_STATUSES = (RenderJob.Status.COMPLETED, RenderJob.Status.FAILED, RenderJob.Status.CANCELLED)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# KEYS[1]: the stream. ARGV: version, final (0/1), max length, ttl, job JSON, output key.
# Appends unless the last entry is final, or is as new as this one and this one is not final;
# returns the newest entry either way, as {id, {field, value, ...}}.
CATCH_UP_SCRIPT = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  local version, final = 0, '0'
  for i = 1, #last[2], 2 do
    if last[2][i] == 'version' then version = tonumber(last[2][i + 1]) end
    if last[2][i] == 'final' then final = last[2][i + 1] end
  end
  if final == '1' or (ARGV[2] == '0' and version >= tonumber(ARGV[1])) then
    return last
  end
end
local fields = {'version', ARGV[1], 'final', ARGV[2], 'job', ARGV[5], 'outputKey', ARGV[6]}
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {id, fields}
"""


@dataclass(frozen=True)
class FeedEntry:
    """One state of a job in its feed: `job` as its events carry it (camelCase, no signed URL)."""

    id: str
    job: dict
    output_key: str
    final: bool


def render_feed_key(job_id):
    return f"renders:feed:{job_id}"


def render_feed_publish_on_commit(*, job, event):
    """Append the job as `event` carries it to its feed once the current transaction commits."""
    state = {
        "job_id": job.id,
        "job": json.loads(event.body)["data"]["object"],
        "output_key": job.output_key,
        "updated_at": job.updated_at,
        "final": job.status in FINAL_STATUSES,
    }
    transaction.on_commit(partial(_publish, state), robust=True)


def _publish(state):
    try:
        render_feed_catch_up(**state)
    except redis.RedisError:
        # Streams that miss it catch up from the database (renders/streaming.py); polling never misses it.
        logger.warning("render feed not updated", extra={"render": state["job_id"]}, exc_info=True)


def render_feed_catch_up(*, job_id, job, output_key, updated_at, final):
    """Append this state of the job unless its feed already holds it or a newer one; returns the newest entry.

    Raises redis.RedisError when Redis is unavailable.
    """
    version = (updated_at - EPOCH) // timedelta(microseconds=1)
    entry_id, fields = get_redis().register_script(CATCH_UP_SCRIPT)(
        keys=[render_feed_key(job_id)],
        args=[version, int(final), RENDER_FEED_LENGTH, RENDER_FEED_TTL_SECONDS,
              json.dumps(job, separators=(",", ":")), output_key],
    )
    return feed_entry(entry_id, dict(zip(fields[::2], fields[1::2], strict=True)))


def render_feed_holds(*, job_id, entry_id):
    """Whether the job's feed still holds the entry `entry_id` (not trimmed away or expired)."""
    return bool(get_redis().xrange(render_feed_key(job_id), min=entry_id, max=entry_id, count=1))


async def render_feed_read(client, *, job_id, after, block_seconds):
    """The entries after `after`, waiting up to `block_seconds` for one; `client` is a redis.asyncio client."""
    response = await client.xread({render_feed_key(job_id): after}, count=RENDER_FEED_LENGTH,
                                  block=max(1, int(block_seconds * 1000)))
    return [feed_entry(entry_id, fields) for _, entries in response for entry_id, fields in entries]


def feed_entry(entry_id, fields):
    fields = {_text(name): value for name, value in fields.items()}
    return FeedEntry(
        id=_text(entry_id),
        job=json.loads(fields["job"]),
        output_key=_text(fields["outputKey"]),
        final=_text(fields["final"]) == "1",
    )


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)
