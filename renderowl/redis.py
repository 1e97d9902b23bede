"""One Redis client per process, from REDIS_URL; and asyncio clients for long-lived readers on the event loop."""

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
