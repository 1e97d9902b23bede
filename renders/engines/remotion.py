"""The Remotion adapter: renders `engine: remotion` templates on a renderowl-remotion server, and waits for it.

It speaks the protocol of DESIGN.md ("Render engines"), the field names of Remotion's render-server
template and Lambda webhooks, and imports nothing of Remotion's:

- `POST {REMOTION_SERVER_URL}/renders` starts the job: the template's serveUrl and composition, the
  props with each asset as a signed URL, the output's codec, size, fps and frames, where to PUT the file
  (`output`), and where to send signed callbacks (`webhook`). The answer names the server's `jobId`.
- The worker then waits, holding its renderer slot: it reads what the callbacks recorded (the caller's
  `RemoteDelivery.reports`) every REMOTION_CHECK_SECONDS and passes progress on. After
  REMOTION_POLL_AFTER_SECONDS without a callback it asks the server (`GET /renders/{jobId}`).
- A `success` callback (or a `completed` answer) ends the wait; the caller heads the uploaded file.
  `error` and `failed` fail the render; `timeout` and the deadline fail it `render_timeout` (the
  deadline also cancels the server's job, `DELETE /renders/{jobId}`).
- A server that forgets the job (GET answers 404), or reports nothing new for REMOTION_STALL_SECONDS
  (a job it still holds `queued` is waiting, not stalled), loses the attempt (`renderer_lost`, retried):
  the job is dispatched again while attempts remain.

Every call carries `Authorization: Bearer REMOTION_SERVER_TOKEN` when it is set. The server is the
operator's own (REMOTION_SERVER_URL is a setting, not customer input), so plain requests with timeouts.
"""

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import requests
from django.conf import settings

from renders.engines.base import EngineError, ProgressCallback, RemoteDelivery, RenderResult
from renders.inputs import RenderInput

logger = logging.getLogger(__name__)

# Remotion's codec names (renderMedia's `codec`; stills: renderStill's `imageFormat`, sent as codec too).
CODECS = {"mp4": "h264", "webm": "vp8", "gif": "gif", "png": "png", "jpg": "jpeg"}
MAX_JOB_ID = 200
MAX_SERVER_MESSAGE = 300
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*")  # signed URLs carry their signature: never in a message


class RemotionEngine:
    """Renders `engine: remotion` templates on REMOTION_SERVER_URL; see the module docstring."""

    name = "remotion"
    remote = True

    def __init__(self, *, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.base_url = settings.REMOTION_SERVER_URL.rstrip("/")
        self.clock = clock
        self.sleep = sleep
        self.session = requests.Session()
        if settings.REMOTION_SERVER_TOKEN:
            self.session.headers["Authorization"] = f"Bearer {settings.REMOTION_SERVER_TOKEN}"

    def render(
        self,
        *,
        input: RenderInput,
        sources: dict[str, str],
        workdir: Path,
        on_progress: ProgressCallback,
        deadline: float | None,
        cancelled: Callable[[], bool],
        delivery: RemoteDelivery | None = None,
    ) -> RenderResult:
        if delivery is None or not self.base_url:
            raise EngineError(
                "engine_unavailable", "This platform has no Remotion render server (REMOTION_SERVER_URL is unset)."
            )
        if deadline is not None and self.clock() >= deadline:
            raise EngineError(
                "render_timeout", "The render's deadline passed before it started (RENDER_TIMEOUT_SECONDS)."
            )
        on_progress(0.0, "preparing")
        with self.session:
            if delivery.abandoned_job_id:
                self._cancel(delivery.abandoned_job_id)  # its output and callbacks would be ignored: stop spending on it
            job_id = self._start(_job_spec(input, sources, delivery))
            delivery.dispatched(job_id)
            logger.info("remotion job started", extra={"render": delivery.render_id, "remotion_job": job_id})
            try:
                self._wait(job_id, delivery=delivery, on_progress=on_progress, deadline=deadline)
            except EngineError as error:
                if error.code in ("render_timeout", "renderer_lost"):
                    self._cancel(job_id)  # the platform gave up on it: the server need not finish it
                raise
        on_progress(1.0, "rendering")
        still = input.output.is_still
        return RenderResult(path=None, size=None, duration_ms=0 if still else round(input.duration_seconds * 1000))

    def _wait(self, job_id, *, delivery, on_progress, deadline):
        """Until the job succeeded; raises EngineError when it failed, timed out or was lost."""
        progress = 0.0
        heard_at = polled_at = moved_at = self.clock()
        last_report = None
        while True:
            now = self.clock()
            if deadline is not None and now >= deadline:
                raise EngineError("render_timeout", "The render took longer than its deadline (RENDER_TIMEOUT_SECONDS).")
            report = delivery.reports()
            if report is not None and report != last_report:
                last_report, heard_at = report, now
                if report.status == "success":
                    return
                if report.status == "error":
                    raise EngineError("render_failed", _failure("The Remotion server failed the render", report.errors))
                if report.status == "timeout":
                    raise EngineError("render_timeout", "The Remotion server's render timed out.")
                if report.progress > progress:
                    progress, moved_at = report.progress, now
            if now - heard_at >= settings.REMOTION_POLL_AFTER_SECONDS and now - polled_at >= settings.REMOTION_POLL_AFTER_SECONDS:
                polled_at = now
                state = self._status(job_id)
                if state is not None:
                    status, reported, errors = state
                    if status == "completed":
                        return
                    if status in ("failed", "cancelled"):
                        raise EngineError("render_failed", _failure(f"The Remotion server says the render {status}", errors))
                    if status == "queued":
                        moved_at = now  # waiting its turn on a busy server is no stall; the deadline bounds it
                    elif reported > progress:
                        progress, moved_at = reported, now
            if now - max(heard_at, moved_at) >= settings.REMOTION_STALL_SECONDS:
                raise EngineError(
                    "renderer_lost",
                    f"The Remotion server reported nothing on the render for {settings.REMOTION_STALL_SECONDS:g} s.",
                    retry=True,
                )
            on_progress(progress, "rendering")
            self.sleep(settings.REMOTION_CHECK_SECONDS)

    def _start(self, spec):
        try:
            response = self._call("POST", "/renders", json=spec)
        except requests.RequestException as exc:
            raise EngineError(
                "renderer_unavailable", f"The Remotion server could not be reached ({type(exc).__name__}).", retry=True,
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise EngineError(
                "renderer_unavailable",
                f"The Remotion server could not start the render (HTTP {response.status_code}).", retry=True,
            )
        job_id = _json(response).get("jobId")
        if not response.ok or not isinstance(job_id, str) or not 0 < len(job_id) <= MAX_JOB_ID:
            detail = _json(response).get("error") or _json(response).get("message") or f"HTTP {response.status_code}"
            raise EngineError("render_failed", _failure("The Remotion server refused the render", [detail]))
        return job_id

    def _status(self, job_id):
        """(status, progress, error messages) as the server reports them; None when it could not be asked.

        Raises renderer_lost when the server answers 404: it no longer knows the job.
        """
        try:
            response = self._call("GET", f"/renders/{requests.utils.quote(job_id, safe='')}")
        except requests.RequestException:
            logger.warning("remotion status unavailable", extra={"remotion_job": job_id}, exc_info=True)
            return None
        if response.status_code == 404:
            raise EngineError("renderer_lost", "The Remotion server no longer knows the render.", retry=True)
        body = _json(response)
        if not response.ok or body.get("status") not in ("queued", "in-progress", "completed", "failed", "cancelled"):
            logger.warning("remotion status unreadable", extra={"remotion_job": job_id, "status": response.status_code})
            return None
        error = body.get("error")
        errors = [error.get("message") if isinstance(error, dict) else error]
        progress = body.get("progress")
        valid = isinstance(progress, (int, float)) and not isinstance(progress, bool) and 0 <= progress <= 1
        return body["status"], float(progress) if valid else 0.0, errors

    def _cancel(self, job_id):
        try:
            self._call("DELETE", f"/renders/{requests.utils.quote(job_id, safe='')}")
        except requests.RequestException:
            logger.warning("remotion job not cancelled", extra={"remotion_job": job_id}, exc_info=True)

    def _call(self, method, path, **kwargs):
        return self.session.request(
            method, f"{self.base_url}{path}", timeout=settings.REMOTION_REQUEST_TIMEOUT_SECONDS,
            allow_redirects=False, **kwargs,
        )


def _job_spec(input, sources, delivery):
    """The POST /renders body: Remotion's names, each asset prop replaced by its signed URL."""
    template, output = input.template, input.output
    spec = {
        "serveUrl": template["serveUrl"],
        "composition": template["composition"],
        "inputProps": {**input.props, **{name: sources[name] for name in input.assets}},
        "codec": CODECS[output.format],
        "width": output.width,
        "height": output.height,
        "fps": output.fps,
        "durationInFrames": max(round(input.duration_seconds * output.fps), 1),
        "output": {"uploadUrl": delivery.upload_url, "method": delivery.upload_method, "headers": delivery.upload_headers},
        "webhook": {"url": delivery.callback_url, "secret": delivery.callback_secret,
                    "customData": {"renderId": delivery.render_id}},
    }
    if output.is_still:
        spec["frame"] = output.frame or 0
    return spec


def _json(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _failure(prefix, messages):
    """`prefix`, with the server's first message (no URLs, bounded): it goes to the customer as error.message."""
    message = next((m for m in messages if isinstance(m, str) and m.strip()), "")
    message = URL.sub("<url>", message.strip())[:MAX_SERVER_MESSAGE]
    return f"{prefix}: {message}" if message else f"{prefix}."
