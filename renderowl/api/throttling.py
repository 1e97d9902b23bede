"""Rate limiting per organization, counted in Redis so every API process (and every key) shares one budget."""

import logging
import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from renderowl.redis import get_redis

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateLimitState:
    """Where the caller's organization stands in the current window, as the RateLimit-* headers tell it."""

    limit: int
    remaining: int
    reset_seconds: int

    def headers(self):
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


def rate_limit_headers(request):
    """The RateLimit-* headers for a request the throttle counted, or none (no key, or Redis was down)."""
    state = getattr(request, "rate_limit", None)
    return state.headers() if state is not None else {}


class OrganizationRateThrottle(BaseThrottle):
    """A fixed one-minute window of RATE_LIMIT_PER_MINUTE requests per organization, whichever key sends them."""

    def allow_request(self, request, view):
        self.retry_after = None
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:org:{api_key.organization_id}:{window}"
        pipe = get_redis().pipeline()
        pipe.set(key, 0, ex=WINDOW_SECONDS + 1, nx=True)  # works on Redis 6 too, unlike EXPIRE NX
        pipe.incr(key)
        try:
            _, count = pipe.execute()
        except redis.RedisError:
            # Fail open: an outage of the limiter's store must not take the API down with it.
            logger.warning("rate limiter unavailable; request allowed", exc_info=True)
            return True
        limit = settings.RATE_LIMIT_PER_MINUTE
        reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        request.rate_limit = RateLimitState(limit=limit, remaining=max(0, limit - count), reset_seconds=reset)
        if count <= limit:
            return True
        self.retry_after = reset
        return False

    def wait(self):
        return self.retry_after


class AddressRateThrottle(BaseThrottle):
    """For endpoints without an API key (a renderer's callbacks): a fixed one-minute window per client address.

    Subclasses name their `scope` and the setting holding the per-minute limit (`rate_setting`).
    """

    scope = ""
    rate_setting = ""

    def allow_request(self, request, view):
        self.retry_after = None
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:{self.scope}:{self.get_ident(request)}:{window}"
        pipe = get_redis().pipeline()
        pipe.set(key, 0, ex=WINDOW_SECONDS + 1, nx=True)
        pipe.incr(key)
        try:
            _, count = pipe.execute()
        except redis.RedisError:
            logger.warning("rate limiter unavailable; request allowed", exc_info=True)
            return True
        if count <= getattr(settings, self.rate_setting):
            return True
        self.retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        return False

    def wait(self):
        return self.retry_after
