"""The webhook trigger's inbound side: POST /v1/hooks/{automationId}/{token}, unauthenticated but for its token.

A sender (a form tool) can set a URL but rarely headers, so the token is in the URL; a secret, when the
automation has one, also requires `X-Renderowl-Hook-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
A wrong token reads exactly as an unknown automation (404). Each automation gets its own rate limit.
"""

import hashlib
import hmac
import json
import re

from django.conf import settings
from django.db import connection

from automations.firing import automation_fire
from automations.models import Automation, AutomationRun
from renderowl.errors import Conflict, Invalid, NotFound, TooLarge
from renderowl.redis import rate_window_hit
from renderowl.tenancy import activate_organization
from renderowl.text import json_depth, unstorable_path

SIGNATURE_HEADER = "X-Renderowl-Hook-Signature"
MAX_PAYLOAD_DEPTH = 64
# As on every POST of the API (renderowl.api.idempotency): 1-255 printable ASCII characters, no spaces.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def hook_automation(*, automation_id, token):
    """The automation the hook URL names, with its organization activated for the transaction; else NotFound.

    The lookup is a SECURITY DEFINER function (migration 0001): the organization is unknown until the token matches.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT organization_id FROM automation_hook_lookup(%s, %s)", [automation_id, token])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such hook: check the hookUrl (it changes when its token is rotated).", code="not_found")
    activate_organization(row[0])
    return Automation.objects.get(pk=automation_id)


def hook_rate_limit_wait(*, automation_id):
    """Seconds to wait when the automation's hook is over AUTOMATION_HOOK_RATE_PER_MINUTE this minute, else None."""
    hit = rate_window_hit(f"hook:{automation_id}")
    if hit is None or hit.count <= settings.AUTOMATION_HOOK_RATE_PER_MINUTE:
        return None
    return hit.reset_seconds


def hook_signature(secret, body):
    """The signature header's value for `body` under `secret`: sha256=<hex>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hook_signature_valid(*, automation, body, header):
    """Whether the request is signed as the automation requires (always, for one without a secret)."""
    if not automation.hook_secret:
        return True
    return bool(header) and hmac.compare_digest(header.strip().encode(), hook_signature(automation.hook_secret, body).encode())


def hook_receive(*, automation, body, content_type, idempotency_key=None):
    """Fire the automation with the JSON body; (run, created). Nothing is recorded for a refused call."""
    if len(body) > settings.AUTOMATION_HOOK_MAX_BYTES:
        raise TooLarge(
            f"The hook's body is {len(body)} bytes; at most {settings.AUTOMATION_HOOK_MAX_BYTES} are accepted.",
            code="request_too_large",
        )
    if not automation.enabled:
        raise Conflict(
            f"The automation {automation.id} is disabled; enable it (PATCH /v1/automations/{automation.id} "
            '{"enabled": true}) to accept calls.',
            code="automation_disabled",
        )
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise Invalid("The hook accepts JSON only: send Content-Type: application/json.", code="unsupported_content_type")
    payload = _parsed(body)
    if idempotency_key is not None and not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise Invalid(
            "Idempotency-Key must be 1-255 printable ASCII characters without spaces, such as a UUID.",
            code="invalid_idempotency_key", field="Idempotency-Key",
        )
    return automation_fire(
        automation=automation, trigger=AutomationRun.Trigger.WEBHOOK, payload=payload,
        dedupe_key=f"hook:{idempotency_key}" if idempotency_key else "",
    )


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _parsed(body):
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        payload = None
        depth_exceeded = True
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"The body is not valid UTF-8 JSON: {str(exc)[:200]}", code="malformed_json") from None
    else:
        depth_exceeded = json_depth(payload) > MAX_PAYLOAD_DEPTH
    if depth_exceeded:
        raise Invalid(f"The body nests more than {MAX_PAYLOAD_DEPTH} levels deep; flatten it.", code="malformed_json")
    where = unstorable_path(payload)
    if where is not None:
        raise Invalid(f"{where} contains U+0000 or an unpaired surrogate, which cannot be stored.", code="malformed_json")
    return payload
