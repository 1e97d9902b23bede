"""Per-request context: a request id on every response and log line, the body-size limit, and
problem+json for the errors Django answers itself (its DEBUG pages included), outside the admin."""

import logging
import re
import secrets
import time

from django.conf import settings

from renderowl.api.errors import plain_problem_response, problem_for_django_error
from renderowl.logging import current_request_id
from renderowl.tenancy import current_organization_id

logger = logging.getLogger("renderowl.request")

SIGNED_PATH_PREFIX = "/v1/storage/"
# An automation's hook URL carries its token, a credential: logs keep the automation id only.
HOOK_PATH_PREFIX = "/v1/hooks/"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Signed uploads to the local storage backend stream to disk and enforce their own signed size.
STREAMED_UPLOAD_PATH_PREFIX = "/v1/storage/upload/"
# The operators' HTML admin keeps Django's own error pages (and, under DEBUG, its debug pages).
ADMIN_PATH_PREFIX = "/admin/"


def new_request_id():
    return f"req_{secrets.token_hex(12)}"


def loggable_path(path):
    """The path as logs may keep it: a signed storage URL's token is a credential, so it is cut off."""
    if path.startswith(SIGNED_PATH_PREFIX):
        return SIGNED_PATH_PREFIX + path[len(SIGNED_PATH_PREFIX):].split("/", 1)[0] + "/…"
    if path.startswith(HOOK_PATH_PREFIX):
        return HOOK_PATH_PREFIX + path[len(HOOK_PATH_PREFIX):].split("/", 1)[0] + "/…"
    return path


class RequestContextMiddleware:
    """Assigns the request id (echoing a sane incoming X-Request-Id) and refuses oversized bodies with 413."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if SANE_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        # The request id stays set after the response so Django's own 4xx/5xx log line carries it too;
        # the organization does not outlive the request.
        current_request_id.set(request_id)
        organization_token = current_organization_id.set(None)
        started = time.monotonic()
        try:
            response = self._too_large(request) or self.get_response(request)
            if not request.path_info.startswith(ADMIN_PATH_PREFIX):
                response = problem_for_django_error(request, response)
            response["X-Request-Id"] = request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": loggable_path(request.path),
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            current_organization_id.reset(organization_token)
            # Only now has the view's transaction (ATOMIC_REQUESTS) committed or rolled back.
            lock = getattr(request, "idempotency_lock", None)
            if lock is not None:
                lock.release()

    def _too_large(self, request):
        if request.path_info.startswith(STREAMED_UPLOAD_PATH_PREFIX):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return plain_problem_response(400, code="invalid_content_length", detail="Content-Length is not a number.")
        if length > settings.MAX_REQUEST_BODY_BYTES:
            return request_too_large_response()
        return None


def request_too_large_response():
    return plain_problem_response(
        413, code="request_too_large", detail=f"The request body exceeds {settings.MAX_REQUEST_BODY_BYTES} bytes."
    )
