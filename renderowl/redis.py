"""One Redis client per process, from REDIS_URL; asyncio clients for long-lived readers on the event loop; and
the fixed-window counter every rate limit shares."""

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
import redis.asyncio
from django.conf import settings


@lru_cache(maxsize=1)
def get_redis():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)


def new_async_redis():
    """A new asyncio client with connections of its own, for one reader on the event loop; `aclose()` it when done.

    No socket timeout: its commands block on purpose (XREAD BLOCK), so the caller bounds each one.
    """
    return redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5, health_check_interval=30)


logger = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class WindowCount:
    """Hits counted in the current fixed window, and the seconds until it resets (at least 1)."""

    count: int
    reset_seconds: int


# One command per hit (every API request makes one): the count, and the window's expiry on its first hit, set
# atomically, where a MULTI/SET NX/INCR/EXEC transaction took four commands' packing and replies.
_WINDOW_HIT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@lru_cache(maxsize=1)
def _window_hit_script():
    """The script, sent by its SHA (EVALSHA) and loaded again by redis-py when a server does not know it."""
    return get_redis().register_script(_WINDOW_HIT_LUA)


def rate_window_hit(name):
    """Count one more hit of `name` (e.g. `org:<id>`) in the current one-minute window; None when Redis is down.

    Callers fail open on None: an outage of the limiter's store must not take the API down with it.
    """
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"ratelimit:{name}:{window}"
    client = get_redis()
    try:
        count = _window_hit_script()(keys=[key], args=[RATE_WINDOW_SECONDS + 1], client=client)
    except redis.RedisError:
        logger.warning("rate limiter unavailable; request allowed", extra={"limit": name.split(":", 1)[0]},
                       exc_info=True)
        return None
    return WindowCount(count=count, reset_seconds=max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now)))
