"""Verify a webhook delivery and read it as a typed event.

openapi.json's WebhookEvent is a union of one envelope per kind of object (RenderJobEvent, AssetEvent, …,
generated into _models); the WebhookEvent here reads any of them, and decodes `data.object` with the
generated model its `type` names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from . import _models as m
from ._base import Field, Model
from ._errors import WebhookVerificationError

DEFAULT_TOLERANCE_SECONDS = 5 * 60
_OBJECT_MODELS = (
    ("render.", m.RenderJob), ("asset.", m.Asset), ("automation.run.", m.AutomationRun),
    ("webhook.", m.WebhookEndpoint),
)


@dataclass(kw_only=True, eq=False)
class WebhookEvent(Model):
    """One event as a delivery's body carries it; `object` is the resource it is about, typed by `type`."""

    id: str | None = None
    type: str | None = None
    created_at: datetime | None = None
    organization_id: str | None = None
    project_id: str | None = None
    data: dict[str, Any] | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field("id", "id"), Field("type", "type"), Field("created_at", "createdAt", kind="datetime"),
        Field("organization_id", "organizationId"), Field("project_id", "projectId"), Field("data", "data"),
    )

    @property
    def object(self) -> Any:
        """`data.object` as its model (RenderJob, Asset, AutomationRun, WebhookEndpoint), else as JSON."""
        raw = (self.data or {}).get("object")
        for prefix, model in _OBJECT_MODELS:
            if (self.type or "").startswith(prefix) and isinstance(raw, Mapping):
                return model.from_dict(raw)
        return raw


def _header(headers: Mapping[str, str], *names: str) -> str:
    lowered = {str(key).lower(): value for key, value in headers.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value:
            return str(value)
    raise WebhookVerificationError(f"Missing header {names[0]} (or {names[-1]}).", code="missing_header")


def secret_key(secret: str) -> bytes:
    """The HMAC key: a project's 64-hex-character webhookSecret, or its Standard Webhooks `whsec_` form."""
    if not isinstance(secret, str):
        raise WebhookVerificationError(
            f"The secret must be a str (the project's 64 hex characters or a whsec_ key), not {type(secret).__name__}.",
            code="invalid_secret")
    try:
        if secret.startswith("whsec_"):
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        return bytes.fromhex(secret)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(
            "The secret is neither the project's 64 hex characters nor a whsec_ key.", code="invalid_secret"
        ) from exc


def verify_webhook(payload: bytes | str, headers: Mapping[str, str], secret: str | list[str], *,
                   tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> WebhookEvent:
    """Return the event if `payload` (the raw body, before any parsing) is signed with `secret`.

    Reads the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) or their
    `X-Renderowl-*` twins, in any letter case. `secret` is the project's webhookSecret (hex) or a `whsec_`
    key, or a list of them while you rotate. Raises WebhookVerificationError for a missing header, a
    timestamp more than `tolerance` seconds from now, no matching signature, or a body that is not JSON.
    """
    if not secret:
        raise WebhookVerificationError("No secret to verify with: pass the project's webhookSecret.", code="invalid_secret")
    if not isinstance(payload, (bytes, bytearray, memoryview, str)):
        raise WebhookVerificationError(
            f"payload must be the raw body as received (bytes or str), not {type(payload).__name__}: parsed and "
            "re-serialized JSON no longer matches its signature.", code="invalid_body")
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    event_id = _header(headers, "webhook-id", "X-Renderowl-Id")
    raw_timestamp = _header(headers, "webhook-timestamp", "X-Renderowl-Timestamp")
    signatures = _header(headers, "webhook-signature", "X-Renderowl-Signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("The timestamp header is not a number.", code="invalid_timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"The timestamp is {abs(current - timestamp):.0f} s from now (over {tolerance} s): a replay or a wrong clock.",
            code="timestamp_out_of_tolerance",
        )
    signed = f"{event_id}.{timestamp}.".encode() + body
    expected = [hmac.new(secret_key(s), signed, hashlib.sha256).digest()
                for s in ([secret] if isinstance(secret, str) else secret)]
    matched = False
    for candidate in signatures.split():
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            received = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        for digest in expected:
            matched |= hmac.compare_digest(received, digest)
    if not matched:
        raise WebhookVerificationError("No signature matches the secret.", code="invalid_signature")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("The body is not JSON.", code="invalid_body") from exc
    if not isinstance(data, dict):
        raise WebhookVerificationError("The body is not a JSON object.", code="invalid_body")
    return WebhookEvent.from_dict(data)
