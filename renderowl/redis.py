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


def rate_window_hit(name):
    """Count one more hit of `name` (e.g. `org:<id>`) in the current one-minute window; None when Redis is down.

    Callers fail open on None: an outage of the limiter's store must not take the API down with it.
    """
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"ratelimit:{name}:{window}"
    pipe = get_redis().pipeline()
    pipe.set(key, 0, ex=RATE_WINDOW_SECONDS + 1, nx=True)  # works on Redis 6 too, unlike EXPIRE NX
    pipe.incr(key)
    try:
        _, count = pipe.execute()
    except redis.RedisError:
        logger.warning("rate limiter unavailable; request allowed", extra={"limit": name.split(":", 1)[0]},
                       exc_info=True)
        return None
    return WindowCount(count=count, reset_seconds=max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now)))
