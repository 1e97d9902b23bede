"""Rate limiting per API key, counted in Redis so every API process shares one budget."""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from renderowl.redis import get_redis

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
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 1, nx=True)
        count, _ = pipe.execute()
        if count <= settings.RATE_LIMIT_PER_MINUTE:
            return True
        self.retry_after = (window + 1) * WINDOW_SECONDS - time.time()
        return False

    def wait(self):
        return self.retry_after
