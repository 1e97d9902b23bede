"""Verify a Renderowl webhook in a receiver: copy this module, or import it where Renderowl is installed.

    from webhooks.verification import verify_webhook, WebhookVerificationError

    event = verify_webhook(request.body, request.headers, secret=PROJECT_SECRETS[request.headers["X-Renderowl-Project"]])
"""

import base64
import binascii
import hashlib
import hmac
import json
import time

DEFAULT_TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh Renderowl webhook."""


def _header(headers, *names):
    lowered = {str(key).lower(): value for key, value in headers.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value:
            return value
    raise WebhookVerificationError(f"Missing header {names[0]}.")


def verify_webhook(payload, headers, *, secret, tolerance=DEFAULT_TOLERANCE_SECONDS, now=None):
    """Return the parsed event if `payload` (bytes or str) is signed by `secret` (the project's hex secret).

    Raises WebhookVerificationError, and nothing else, for a missing or malformed header, a
    timestamp more than `tolerance` seconds from `now`, a wrong signature, or a body that is not JSON.
    """
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    event_id = _header(headers, "X-Renderowl-Id", "webhook-id")
    raw_timestamp = _header(headers, "X-Renderowl-Timestamp", "webhook-timestamp")
    signatures = _header(headers, "X-Renderowl-Signature", "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
        key = bytes.fromhex(secret)
    except (TypeError, ValueError) as exc:
        raise WebhookVerificationError("Malformed timestamp header or secret.") from exc
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("The timestamp is too far from now: a replay, or a wrong clock.")
    expected = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    for candidate in str(signatures).split():
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            received = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(received, expected):
            break
    else:
        raise WebhookVerificationError("No signature matches the secret.")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("The body is not JSON.") from exc
