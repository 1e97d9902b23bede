"""Webhook signatures: HMAC-SHA256 over `{eventId}.{timestamp}.{body}`, the Standard Webhooks scheme.

The HMAC key is the project's secret as raw bytes (the 32 bytes its 64 hex characters spell).
Standard Webhooks libraries take the same key as `whsec_` + base64 of those bytes.
"""

import base64
import hashlib
import hmac

SIGNATURE_VERSION = "v1"
USER_AGENT = "Renderowl-Webhooks/1"


def sign(*, secret, event_id, timestamp, body):
    """One `v1,<base64>` signature of `body` (bytes) with the hex `secret`."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(bytes.fromhex(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def standard_webhooks_secret(secret):
    """The project's hex secret in the `whsec_…` form Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(bytes.fromhex(secret)).decode()


def delivery_headers(*, event_id, event_type, project_id, secrets, timestamp, body):
    """Every header a delivery carries; several secrets (during a rotation) give space-separated signatures."""
    signature = " ".join(
        sign(secret=secret, event_id=event_id, timestamp=timestamp, body=body) for secret in secrets
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Renderowl-Id": event_id,
        "X-Renderowl-Timestamp": str(timestamp),
        "X-Renderowl-Signature": signature,
        "X-Renderowl-Event": event_type,
        "X-Renderowl-Project": project_id,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
