"""A remote renderer's signed callbacks: the per-attempt secret, the signature check, and what a callback records.

Each attempt of a job on a remote engine gets its own callback URL (organization, render, attempt) and
secret. The secret is derived, HMAC of SECRET_KEY over those three, so the database holds nothing that
forges a callback, and a callback is verified before anything is read or parsed. A verified callback only
records the renderer's report in `RenderJob.remote_report`; the render worker waiting on the job reads it,
reports progress and records the outcome (renders.rendering), so a callback never changes a job's status.
"""

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.utils.crypto import salted_hmac

from renderowl.errors import Invalid, NotFound
from renderowl.tenancy import tenant_context
from renders.engines.base import RemoteReport
from renders.models import RenderJob

SECRET_SALT = "renderowl.renders.remote-callback"
SIGNATURE_PREFIX = "sha512="
STATUSES = ("progress", "success", "error", "timeout")
FINAL_STATUSES = ("success", "error", "timeout")
MAX_CALLBACK_BYTES = 64 * 1024
# A renderer's error messages as the job keeps them: the first few, each cut short.
MAX_ERRORS = 3
MAX_ERROR_CHARS = 500


def callback_secret(*, organization_id, render_id, attempt, key=None):
    """The secret an attempt's callbacks are signed with (hex, 64 characters); give it to the renderer only."""
    return salted_hmac(
        SECRET_SALT, f"{organization_id}:{render_id}:{attempt}", secret=key or settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def callback_signature(secret, body):
    """`sha512=<hex HMAC-SHA512(secret, body)>`, the X-Remotion-Signature of a callback's raw body."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


def callback_signature_valid(*, organization_id, render_id, attempt, body, signature):
    """Whether `signature` signs `body` with the attempt's secret (under SECRET_KEY or one of its fallbacks)."""
    if not isinstance(signature, str) or not signature.startswith(SIGNATURE_PREFIX):
        return False
    for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        secret = callback_secret(organization_id=organization_id, render_id=render_id, attempt=attempt, key=key)
        if hmac.compare_digest(callback_signature(secret, body), signature.strip()):
            return True
    return False


def render_remote_callback(*, organization_id, render_id, attempt, status, body):
    """Record a verified callback's report for the attempt; returns whether it changed anything.

    A callback for an attempt that is over (the job finished, or was queued again), or after the
    attempt's final report, changes nothing: renderers retry callbacks, and a repeat is harmless.
    """
    report = _parsed(render_id=render_id, status=status, body=body)
    with tenant_context(organization_id):
        job = RenderJob.objects.select_for_update().filter(pk=render_id).first()
        if job is None:
            raise NotFound(f"No render {render_id} in this organization.", code="not_found")
        if job.status != RenderJob.Status.RENDERING or job.attempts != attempt:
            return False
        recorded = job.remote_report if (job.remote_report or {}).get("attempt") == attempt else None
        if recorded is not None and recorded["status"] in FINAL_STATUSES:
            return False
        progress = max(report["progress"], (recorded or {}).get("progress", 0.0))
        job.remote_report = {**report, "attempt": attempt, "progress": progress, "at": time.time()}
        job.save(update_fields=["remote_report", "updated_at"])
        return True


def remote_report(job):
    """What the callbacks recorded for the job's current attempt, read afresh; None before the first."""
    with tenant_context(job.organization_id):
        recorded = RenderJob.objects.filter(pk=job.pk).values_list("remote_report", flat=True).first()
    if not recorded or recorded.get("attempt") != job.attempts:
        return None
    return RemoteReport(
        status=recorded["status"], progress=recorded["progress"], errors=tuple(recorded["errors"]), at=recorded["at"],
    )


def _parsed(*, render_id, status, body):
    """The report a callback carries; Invalid names what is wrong with it."""
    if status not in STATUSES:
        raise Invalid(
            f"X-Remotion-Status must be one of {', '.join(STATUSES)}.", code="invalid_callback",
            field="X-Remotion-Status",
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can follow
        payload = None
    if not isinstance(payload, dict):
        raise Invalid("The callback body must be a JSON object.", code="invalid_callback", field="body")
    custom_data = payload.get("customData")
    if not isinstance(custom_data, dict) or custom_data.get("renderId") != render_id:
        raise Invalid(
            f"customData.renderId must be {render_id}, as the render's webhook.customData gave it.",
            code="invalid_callback", field="customData.renderId",
        )
    progress = payload.get("progress", 1.0 if status == "success" else 0.0)
    if isinstance(progress, bool) or not isinstance(progress, (int, float)) or not 0 <= progress <= 1:
        raise Invalid("progress must be a number from 0 to 1.", code="invalid_callback", field="progress")
    return {"status": status, "progress": 1.0 if status == "success" else float(progress),
            "errors": _messages(payload.get("errors"))}


def _messages(errors):
    """The renderer's error messages (Remotion sends [{message, name, stack}]), bounded."""
    if not isinstance(errors, list):
        return []
    messages = []
    for error in errors[:MAX_ERRORS]:
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message.strip():
            # PostgreSQL stores neither U+0000 nor an unpaired surrogate in JSON.
            storable = message.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
            messages.append(storable.strip()[:MAX_ERROR_CHARS])
    return messages
