"""Idempotency-Key on POST: the first 2xx response is stored with the change it made and replayed.

The response is stored in the request's own transaction, so it exists exactly when the
change does, and the unique (organization, key) index makes a duplicate that slipped past
the in-flight check roll back rather than change anything twice. A Redis lock held while
the request runs answers a concurrent duplicate with 409 straight away; it is released only
once the request's transaction has ended (`RequestContextMiddleware`), and only by the request
that holds it (its value is a token of that request's own).

Secrets in a response (a project's webhook secret) are shown once: the stored copy has them
replaced by null, so a replay carries everything else.
"""

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from renderowl.api.errors import ApiError, InvalidRequest
from renderowl.models import IdempotencyRecord
from renderowl.redis import get_redis

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
LOCK_SECONDS = 120


class IdempotentReplay(Exception):
    """Raised to short-circuit a request whose response is already stored."""

    def __init__(self, record):
        self.record = record


# Delete the lock only if it still holds our token: a lock that expired may belong to another request now.
RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@dataclass
class IdempotentRequest:
    organization_id: str
    key: str
    fingerprint: str
    lock_name: str
    token: str = ""

    def store(self, *, status, body, redact=()):
        """Save the response in the current transaction, `redact`ed keys as null; 409 if a duplicate got there first."""
        if redact and isinstance(body, dict):
            body = {name: (None if name in redact else value) for name, value in body.items()}
        try:
            with transaction.atomic():
                # Only an expired record may make way: a live one means a duplicate got there first.
                IdempotencyRecord.objects.filter(
                    organization_id=self.organization_id, key=self.key, created_at__lt=replay_window_start()
                ).delete()
                IdempotencyRecord.objects.create(
                    organization_id=self.organization_id,
                    key=self.key,
                    fingerprint=self.fingerprint,
                    response_status=status,
                    response_body=json.dumps(body, default=str),
                )
        except IntegrityError:
            raise in_progress() from None

    def release(self):
        """Free the key for the next request, if the lock is still ours; call once the transaction has ended."""
        try:
            get_redis().eval(RELEASE_SCRIPT, 1, self.lock_name, self.token)
        except redis.RedisError:
            logger.warning("idempotency lock not released; it expires by itself", exc_info=True)


def replay_window_start():
    return timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)


def in_progress():
    return ApiError(
        "A request with this Idempotency-Key is still being processed; retry after it completes.",
        code="idempotency_request_in_progress",
        status_code=409,
    )


def idempotency_lock_name(organization_id, key):
    """The Redis key marking a request with this Idempotency-Key as in flight."""
    return f"idempotency:{organization_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def fingerprint(request):
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def idempotency_begin(*, request, organization_id):
    """Start an idempotent POST: None without the header, else a handle; raises to replay or refuse."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise InvalidRequest(
            "Idempotency-Key must be 1-255 printable ASCII characters without spaces, such as a UUID.",
            code="invalid_idempotency_key",
            field=HEADER,
        )
    handle = IdempotentRequest(
        organization_id=str(organization_id),
        key=key,
        fingerprint=fingerprint(request),
        lock_name=idempotency_lock_name(organization_id, key),
        token=secrets.token_hex(16),
    )
    try:
        acquired = get_redis().set(handle.lock_name, handle.token, nx=True, ex=LOCK_SECONDS)
    except redis.RedisError:
        # The unique (organization, key) index still prevents a second change; only the early 409 is lost.
        logger.warning("idempotency lock unavailable; relying on the database alone", exc_info=True)
        acquired = True
    if not acquired:
        raise in_progress()
    record = IdempotencyRecord.objects.filter(
        organization_id=organization_id, key=key, created_at__gte=replay_window_start()
    ).first()
    if record is None:
        return handle
    handle.release()
    if record.fingerprint != handle.fingerprint:
        raise ApiError(
            "This Idempotency-Key was used with a different request body or path in the last 24 hours; "
            "use a new key for a new request.",
            code="idempotency_key_reused",
            status_code=422,
        )
    raise IdempotentReplay(record)
