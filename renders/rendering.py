"""Running one render job: claim it, render it with its engine outside any transaction, store the output.

Each state change is its own short tenant transaction; the render itself holds none. A renderer claims
the job renders.scheduling picks (only a `queued` job: one cancelled meanwhile is never claimed), so a
wake-up delivered twice claims a second job or nothing, never the same job twice. A claimed job
holds a lease of RENDER_LEASE_SECONDS that a heartbeat thread renews while the worker lives; a worker that dies lets it lapse, and
`renders_reap_lost` (beat) queues the job again, or fails it `worker_lost` after RENDER_MAX_ATTEMPTS. A
run only finishes the attempt it claimed, so a run the reaper gave up on cannot overwrite a newer one; an
engine that lost its attempt (`EngineError(..., retry=True)`) has the job queued again the same way.

A remote engine (remotion) renders elsewhere: the run gives it a presigned upload URL for the output and
a signed callback URL (`RemoteDelivery`), waits while it reports, and heads the uploaded file.
"""

import functools
import logging
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.urls import reverse
from django.utils import timezone

from assets.storage import StorageError, get_storage, object_key
from renderowl.tenancy import dangerously_bypass_tenancy, tenant_context
from renders.callbacks import callback_secret, remote_report
from renders.engines.base import EngineError, RemoteDelivery
from renders.engines.ffmpeg import FFmpegEngine
from renders.engines.remotion import RemotionEngine
from renders.inputs import AssetRef, OutputSpec, RenderInput
from renders.models import RenderJob
from renders.scheduling import render_claim_next, render_wake_after
from renders.services import render_event, render_queue_again

logger = logging.getLogger(__name__)

CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "gif": "image/gif", "png": "image/png", "jpg": "image/jpeg"}
ENGINES = {"ffmpeg": FFmpegEngine, "remotion": RemotionEngine}
# A render.progress event at most every PROGRESS_STEP of progress or PROGRESS_SECONDS, whichever comes first.
PROGRESS_STEP = 0.1
PROGRESS_SECONDS = 5.0
SOURCE_URL_SECONDS = 6 * 60 * 60
# A remote renderer's upload URL outlives the render's deadline by this much (a last upload in flight).
UPLOAD_URL_MARGIN_SECONDS = 10 * 60
MAX_URL_SECONDS = 7 * 24 * 60 * 60


def render_next(*, clock=time.monotonic):
    """Claim the job the scheduler picks next and render it to completion or failure.

    Returns (job id, final status), or None when no job may start now.
    """
    job = render_claim_next()
    if job is None:
        return None
    return job.id, _run(job, clock=clock)


def _run(job, *, clock):
    organization_id, job_id = job.organization_id, job.id
    _finish = functools.partial(_finish_attempt, attempt=job.attempts)
    workdir = _new_workdir(job)
    try:
        with lease_heartbeat(job):
            result = _render(job, workdir=workdir, clock=clock)
            key = output_key(job)
            if result.path is not None:
                _record_progress(job, 1.0, "uploading")
                with result.path.open("rb") as stream:
                    get_storage().save(key=key, content_type=CONTENT_TYPES[job.output["format"]], stream=stream,
                                       size=result.size)
            stored = _checked_output(job, key=key, expected_size=result.size)
    except EngineError as error:
        return _finish(organization_id, job_id, error=error)
    except StorageError as error:
        logger.warning("render output not stored", extra={"render": job_id}, exc_info=True)
        return _finish(organization_id, job_id, error=EngineError(
            "output_not_stored", f"The output could not be stored ({type(error).__name__}); submit the render again.",
        ))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _finish(organization_id, job_id, key=key, size=stored.size, duration_ms=result.duration_ms)


def _checked_output(job, *, key, expected_size):
    """The stored output as the store reports it, checked against what was rendered or, from a remote renderer,
    against what the upload URL allowed (a store need not enforce what it signed)."""
    stored = get_storage().head(key=key)
    if stored is None:
        raise EngineError("output_missing", "The renderer reported success but stored no output; submit again.")
    content_type = CONTENT_TYPES[job.output["format"]]
    if expected_size is not None:
        matches = stored.size == expected_size
    else:
        matches = 0 < stored.size <= settings.RENDER_MAX_OUTPUT_BYTES and (
            (stored.content_type or "").split(";", 1)[0].strip().lower() == content_type
        )
    if not matches:
        if expected_size is None:
            get_storage().delete(key=key)
        raise EngineError("output_mismatch", "The stored output does not match the rendered file; submit again.")
    return stored


def _new_workdir(job):
    """A fresh working directory for this attempt, after removing what dead attempts left on this machine.

    A worker killed mid-render never removes its workdir: the job's earlier attempts' directories go now,
    and any directory older than a render's hard time limit (no live render is that old).
    """
    root = settings.RENDER_WORK_DIR
    root.mkdir(parents=True, exist_ok=True)
    too_old = time.time() - settings.RENDER_TASK_TIME_LIMIT_SECONDS
    for stale in root.iterdir():
        try:
            if stale.name.startswith(f"{job.id}-") or stale.stat().st_mtime < too_old:
                shutil.rmtree(stale, ignore_errors=True)
        except FileNotFoundError:  # another renderer removed it first
            continue
    return Path(tempfile.mkdtemp(prefix=f"{job.id}-{job.attempts}-", dir=root))


@contextmanager
def lease_heartbeat(job):
    """Renew the job's lease every quarter of RENDER_LEASE_SECONDS while the block runs, progress or not.

    Fetching inputs, a stalled encoder or a long upload report no progress, yet the worker is alive; a
    worker that dies takes this thread with it, and its lease lapses. A hung worker is ended by the
    task's hard time limit, which ends the thread too.
    """
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(settings.RENDER_LEASE_SECONDS / 4):
                _renew_lease(job)
        except DatabaseError:  # a lost heartbeat only risks a lapsed lease, which the reaper handles
            logger.warning("render lease not renewed", extra={"render": job.id}, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"lease-{job.id}", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join()


def output_key(job, *, attempt=None):
    """Where a job's output is stored: `org/<org>/prj/<prj>/rnd_<id>/output.<format>` (`output-<n>.…` on attempt n > 1).

    A new attempt writes a file of its own: a lost attempt may have stored its output already.
    `attempt` defaults to the job's current one.
    """
    attempt = job.attempts if attempt is None else attempt
    suffix = "" if attempt <= 1 else f"-{attempt}"
    return object_key(
        organization_id=job.organization_id, project_id=job.project_id, asset_id=job.id,
        filename=f"output{suffix}.{job.output['format']}",
    )


def renders_reap_lost(*, now=None, limit=200):
    """Queue again the rendering jobs whose lease lapsed (their worker died), or fail them after the last attempt.

    Operator path (beat): finds them across organizations, then handles each in its own tenant
    transaction, re-checking the lapse under the row lock. Returns (requeued, failed).
    """
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="reap renders whose worker was lost", routine=True):
        lost = list(
            RenderJob.objects.filter(status=RenderJob.Status.RENDERING, lease_expires_at__lt=now)
            .order_by("lease_expires_at")
            .values_list("id", "organization_id")[:limit]
        )
    requeued = failed = 0
    for job_id, organization_id in lost:
        with tenant_context(organization_id):
            job = (
                RenderJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=RenderJob.Status.RENDERING, lease_expires_at__lt=now)
                .first()
            )
            if job is None:
                continue
            logger.warning("render worker lost", extra={"render": job.id, "attempts": job.attempts})
            job.lease_expires_at = None
            if job.attempts_since_retry >= settings.RENDER_MAX_ATTEMPTS:
                job.status, job.completed_at = RenderJob.Status.FAILED, now
                job.error = {"code": "worker_lost", "message": (
                    f"The renderer stopped during each of {job.attempts_since_retry} attempts; submit the render again, "
                    "and contact support if it keeps happening."
                )}
                job.save(update_fields=["status", "completed_at", "error", "lease_expires_at", "updated_at"])
                render_event(job, "render.failed")
                render_wake_after(job)
                failed += 1
            else:
                render_queue_again(job, now=now, also=("remote_job_id",))
                requeued += 1
    return requeued, failed


def _render(job, *, workdir, clock):
    render_input = render_input_from(job.render_input)
    engine = ENGINES.get(render_input.engine)
    if engine is None:
        raise EngineError("engine_unavailable", f"This platform cannot render {render_input.engine} templates.")
    throttle = ProgressThrottle(clock=clock)

    def on_progress(fraction, stage):
        if throttle.due(fraction, stage):
            _record_progress(job, fraction, stage)

    extra = {"delivery": _remote_delivery(job)} if engine.remote else {}
    return engine().render(
        input=render_input,
        sources=_sources(render_input, urls=engine.remote),
        workdir=workdir,
        on_progress=on_progress,
        deadline=time.time() + settings.RENDER_TIMEOUT_SECONDS,
        cancelled=lambda: False,  # only a pending or queued job can be cancelled
        **extra,
    )


def _remote_delivery(job):
    """Where a remote renderer PUTs this attempt's output, and how it reports back (renders.callbacks)."""
    upload = get_storage().presigned_upload_up_to(
        key=output_key(job), content_type=CONTENT_TYPES[job.output["format"]],
        max_size=settings.RENDER_MAX_OUTPUT_BYTES,
        expires_in=min(settings.RENDER_TIMEOUT_SECONDS + UPLOAD_URL_MARGIN_SECONDS, MAX_URL_SECONDS),
    )
    ids = {"organization_id": job.organization_id, "render_id": job.id, "attempt": job.attempts}
    base_url = settings.REMOTION_CALLBACK_BASE_URL or settings.PUBLIC_BASE_URL
    return RemoteDelivery(
        render_id=job.id,
        upload_url=upload.url,
        upload_method=upload.method,
        upload_headers=upload.headers,
        callback_url=base_url + reverse("render-remote-callback", kwargs=ids),
        callback_secret=callback_secret(**ids),
        reports=functools.partial(remote_report, job),
        dispatched=functools.partial(_record_remote_job, job),
        abandoned_job_id=job.remote_job_id,  # still the previous attempt's: this one has not dispatched yet
    )


def _record_remote_job(job, remote_job_id):
    with tenant_context(job.organization_id):
        RenderJob.objects.filter(pk=job.pk, status=RenderJob.Status.RENDERING, attempts=job.attempts).update(
            remote_job_id=remote_job_id, updated_at=timezone.now(),
        )


class ProgressThrottle:
    """Lets a progress report through when it moved PROGRESS_STEP since the last, PROGRESS_SECONDS passed, or it is done."""

    def __init__(self, *, clock):
        self.clock = clock
        self.reported = 0.0
        self.reported_at = clock()
        self.stage = None

    def due(self, fraction, stage=None):
        now = self.clock()
        if stage is not None and stage != self.stage:  # a new stage is always news
            self.reported, self.reported_at, self.stage = fraction, now, stage
            return True
        if fraction < 1.0 and fraction - self.reported < PROGRESS_STEP and now - self.reported_at < PROGRESS_SECONDS:
            return False
        if fraction < 1.0 and fraction <= self.reported:  # the same again (an engine's keep-alive): nothing new
            return False
        self.reported, self.reported_at = fraction, now
        return True


def render_input_from(data):
    """The RenderInput a job stored at submission."""
    return RenderInput(**{
        **data,
        "output": OutputSpec(**data["output"]),
        "assets": {name: AssetRef(**ref) for name, ref in data["assets"].items()},
    })


def _sources(render_input, *, urls=False):
    """Each asset's local file when the store keeps files (and `urls` is not asked for), else a signed download URL."""
    storage = get_storage()
    sources = {}
    for name, ref in render_input.assets.items():
        path = None if urls else storage.local_path(key=ref.storage_key)
        sources[name] = str(path) if path is not None else storage.presigned_download(
            key=ref.storage_key, expires_in=SOURCE_URL_SECONDS,
        ).url
    return sources


def _lease_until():
    return timezone.now() + timedelta(seconds=settings.RENDER_LEASE_SECONDS)


def _renew_lease(job):
    with tenant_context(job.organization_id):
        RenderJob.objects.filter(pk=job.pk, status=RenderJob.Status.RENDERING, attempts=job.attempts).update(
            lease_expires_at=_lease_until(),
        )


def _record_progress(job, fraction, stage):
    with tenant_context(job.organization_id):
        updated = RenderJob.objects.filter(pk=job.pk, status=RenderJob.Status.RENDERING, attempts=job.attempts).update(
            progress=round(fraction, 4), stage=stage, lease_expires_at=_lease_until(), updated_at=timezone.now(),
        )
        if updated:
            job.refresh_from_db()
            render_event(job, "render.progress")


def _finish_attempt(organization_id, job_id, *, attempt, error=None, key="", size=None, duration_ms=None):
    with tenant_context(organization_id):
        job = RenderJob.objects.select_for_update().get(pk=job_id)
        if job.status != RenderJob.Status.RENDERING or job.attempts != attempt:
            return job.status
        if error is not None and error.retry and job.attempts_since_retry < settings.RENDER_MAX_ATTEMPTS:
            logger.warning("render attempt lost", extra={"render": job.id, "attempts": job.attempts, "code": error.code})
            job.remote_job_id = ""  # the engine gave its remote job up itself: the next attempt need not cancel it
            return render_queue_again(job, now=timezone.now(), also=("remote_job_id",)).status
        job.completed_at = timezone.now()
        job.lease_expires_at = None
        if error is None:
            job.status, job.stage, job.progress = RenderJob.Status.COMPLETED, "", 1.0
            job.output_key, job.output_size, job.output_duration_ms = key, size, duration_ms
            event = "render.completed"
        else:
            job.status = RenderJob.Status.FAILED
            job.error = {"code": error.code, "message": error.message}
            event = "render.failed"
        job.save()
        render_event(job, event)
        render_wake_after(job)
        return job.status
