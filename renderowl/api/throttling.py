"""Rate limiting per organization, counted in Redis so every API process (and every key) shares one budget."""

from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from renderowl.redis import rate_window_hit


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
        hit = rate_window_hit(f"org:{api_key.organization_id}")
        if hit is None:
            return True
        limit = settings.RATE_LIMIT_PER_MINUTE
        request.rate_limit = RateLimitState(
            limit=limit, remaining=max(0, limit - hit.count), reset_seconds=hit.reset_seconds,
        )
        if hit.count <= limit:
            return True
        self.retry_after = hit.reset_seconds
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
        hit = rate_window_hit(f"{self.scope}:{self.get_ident(request)}")
        if hit is None or hit.count <= getattr(settings, self.rate_setting):
            return True
        self.retry_after = hit.reset_seconds
        return False

    def wait(self):
        return self.retry_after
