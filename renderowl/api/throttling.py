"""Rate limiting per API key, counted in Redis so every API process shares one budget."""

import logging
import time

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from renderowl.redis import get_redis

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed one-minute window of RATE_LIMIT_PER_MINUTE requests per API key."""

    def allow_request(self, request, view):
        self.retry_after = None
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return True
        window = int(time.time() // WINDOW_SECONDS)
        key = f"ratelimit:{api_key.prefix}:{window}"
        pipe = get_redis().pipeline()
        pipe.set(key, 0, ex=WINDOW_SECONDS + 1, nx=True)  # works on Redis 6 too, unlike EXPIRE NX
        pipe.incr(key)
        try:
            _, count = pipe.execute()
        except redis.RedisError:
            # Fail open: an outage of the limiter's store must not take the API down with it.
            logger.warning("rate limiter unavailable; request allowed", exc_info=True)
            return True
        if count <= settings.RATE_LIMIT_PER_MINUTE:
            return True
        self.retry_after = (window + 1) * WINDOW_SECONDS - time.time()
        return False

    def wait(self):
        return self.retry_after
