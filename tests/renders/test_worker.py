"""End to end through real render worker processes (the Procfile's `renders` line): submissions over HTTP,
outputs downloaded and probed, events received by a real HTTP receiver, and workers killed by SIGKILL mid-render.

Outputs are probed with MediaInfo and decoded back to pixels with the bundled ffmpeg, independently of the
engine's own code. Media are small (1 s at 10 fps, 192×108) so the file runs in seconds.
"""

import os
import shutil
import signal
from datetime import datetime

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from pymediainfo import MediaInfo
from standardwebhooks import Webhook

from renderowl.celery import app
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.tasks import reap_lost_renders_task
from tests.assets import media
from tests.renders.conftest import upload, upload_media, upload_template, wait_until
from tests.renders.test_api import events_of, project, small_template  # noqa: F401 - fixture
from tests.renders.test_ffmpeg_engine import decoded_frames, ffmpeg_processes
from tests.webhooks.receiver import Receiver
from webhooks.signing import standard_webhooks_secret

__all__ = ["project"]

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)

WIDTH, HEIGHT, FPS = 192, 108, 10
TEXT_COLOUR = (255, 255, 0)
MATRIX_TEMPLATE = {
    "engine": "ffmpeg", "width": WIDTH, "height": HEIGHT, "fps": FPS, "durationInFrames": FPS,
    "inputSchema": {
        "type": "object",
        "required": ["clip", "photo", "music", "font"],
        "properties": {
            "title": {"type": "string"},
            "clip": {"type": "string", "x-renderowl-asset": "video"},
            "photo": {"type": "string", "x-renderowl-asset": "image"},
            "music": {"type": "string", "x-renderowl-asset": "audio"},
            "font": {"type": "string", "x-renderowl-asset": "font"},
        },
    },
    "defaultProps": {"title": "HHH"},
    "scene": {
        "background": "#102030",
        "layers": [
            {"type": "video", "src": "{{clip}}", "x": 0, "y": 0, "width": 96, "height": 54},
            {"type": "image", "src": "{{photo}}", "x": 128, "y": 0, "width": 64, "height": 48},
            {"type": "text", "text": "{{title}}", "font": "{{font}}", "size": 32, "color": "#ffff00", "x": 8, "y": 64},
            {"type": "audio", "src": "{{music}}", "volume": 0.8},
        ],
    },
}
TEXT_BOX = (8, 60, 104, 104)  # where the title is drawn
BLANK_BOX = (112, 56, WIDTH, HEIGHT)  # where nothing is: the background only
FORMATS = {  # format: (MediaInfo's general format, video codec, audio codec or None)
    "mp4": ("MPEG-4", "AVC", "AAC"),
    "webm": ("WebM", "VP9", "Opus"),
    "gif": ("GIF", "GIF", None),
    "png": ("PNG", "PNG", None),
}
# A render long enough (about a second and a half on a 2-core machine) to be killed between its progress reports.
LONG_TEMPLATE = {
    "engine": "ffmpeg", "width": 320, "height": 180, "fps": 30, "durationInFrames": 900,
    "inputSchema": {"type": "object", "properties": {"clip": {"type": "string", "x-renderowl-asset": "video"}}},
    "scene": {"layers": [
        {"type": "video", "src": "{{clip}}", "loop": True},
        {"type": "text", "text": "Long", "size": 40},
    ]},
}
TERMINAL = ("completed", "failed", "cancelled")


def job_of(tenant, job_id):
    response = tenant.client.get(f"/v1/renders/{job_id}")
    assert response.status_code == 200, response.content
    return response.json()


def row(tenant, job_id):
    """The job's row: what a wait polls (cheaper than the API, which the test's assertions read)."""
    with tenant_context(tenant.id):
        return RenderJob.objects.get(pk=job_id)


def finished(tenant, job_ids, *, worker, timeout=90):
    """The jobs, as the API shows them, once each has reached a final status."""
    wait_until(
        lambda: all(row(tenant, job_id).status in TERMINAL for job_id in job_ids), timeout=timeout,
        describe=lambda: f"Worker log:\n{worker.log()}",
    )
    return [job_of(tenant, job_id) for job_id in job_ids]


def downloaded(tenant, job, tmp_path):
    response = tenant.client.get(job["outputUrl"])
    assert response.status_code == 200
    path = tmp_path / f"{job['id']}.{job['output']['format']}"
    path.write_bytes(b"".join(response.streaming_content))
    assert path.stat().st_size == job["outputSize"]
    return path


def colour_pixels(frame, box, colour, *, width=WIDTH, tolerance=70):
    left, top, right, bottom = box
    count = 0
    for y in range(top, bottom):
        for x in range(left, right):
            offset = (y * width + x) * 3
            if all(abs(channel - want) <= tolerance for channel, want in zip(frame[offset:offset + 3], colour)):
                count += 1
    return count


def no_job_left_rendering(tenant):
    with tenant_context(tenant.id):
        return not RenderJob.objects.filter(status=RenderJob.Status.RENDERING).exists()


# The format matrix


def test_one_template_with_every_layer_type_renders_to_mp4_webm_gif_and_a_png_still(
    tenant, project, media_files, render_workers, tmp_path
):
    assets = {
        "clip": upload_media(tenant, project["id"], "video", media_files),
        "photo": upload_media(tenant, project["id"], "image", media_files),
        "music": upload_media(tenant, project["id"], "audio", media_files),
        "font": upload(
            tenant, project["id"], type="font", name="bold.ttf", content_type="font/ttf",
            data=media.dejavu("DejaVuSans-Bold.ttf").read_bytes(),
        ),
    }
    template = upload_template(tenant, project["id"], MATRIX_TEMPLATE)
    assert template["status"] == "ready", template
    props = {name: asset["id"] for name, asset in assets.items()}
    worker = render_workers.start()

    submitted = []
    for fmt in FORMATS:
        output = {"format": fmt, **({"frame": FPS // 2} if fmt == "png" else {})}
        response = tenant.client.post(
            f"/v1/projects/{project['id']}/renders", {"templateId": template["id"], "inputProps": props, "output": output},
        )
        assert response.status_code == 201, response.content
        submitted.append(response.json()["id"])
    jobs = finished(tenant, submitted, worker=worker)

    for job in jobs:
        fmt = job["output"]["format"]
        assert (job["status"], job["error"], job["attempts"]) == ("completed", None, 1), job
        general_format, video_codec, audio_codec = FORMATS[fmt]
        path = downloaded(tenant, job, tmp_path)
        info = MediaInfo.parse(path)
        picture = (info.video_tracks or info.image_tracks)[0]  # a GIF is an image track to MediaInfo
        assert (info.general_tracks[0].format, picture.format) == (general_format, video_codec), fmt
        assert (picture.width, picture.height) == (WIDTH, HEIGHT), fmt
        frames = decoded_frames(path, WIDTH, HEIGHT)
        if fmt == "png":
            assert (len(frames), job["outputDurationMs"]) == (1, 0)
            frame = frames[0]
        else:
            assert len(frames) == FPS, fmt  # one second at 10 fps, to the frame
            assert abs(job["outputDurationMs"] - 1000) <= 1000 / FPS, fmt
            frame = frames[FPS // 2]
        if audio_codec:
            assert abs(float(info.general_tracks[0].duration) - 1000) <= 1000 / FPS, fmt
            [audio] = info.audio_tracks
            assert audio.format == audio_codec, fmt
            assert abs(float(audio.duration) - 1000) <= 1000 / FPS, fmt
        else:
            assert not info.audio_tracks, fmt
        # The title, in its colour, where it is placed, and nothing drawn where no layer is.
        assert colour_pixels(frame, TEXT_BOX, TEXT_COLOUR) > 400, fmt  # about 770 in each format
        assert colour_pixels(frame, BLANK_BOX, TEXT_COLOUR) == 0, fmt
        assert colour_pixels(frame, BLANK_BOX, (0x10, 0x20, 0x30), tolerance=12) == 80 * 52, fmt
        assert colour_pixels(frame, (136, 8, 184, 40), (255, 0, 0)) == 48 * 32, fmt  # the red image


# Events


def test_a_renders_events_reach_a_real_receiver_signed_and_in_order(
    tenant, project, render_workers, settings
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the events worker below runs in this process
    template = upload_template(tenant, project["id"], small_template())
    with Receiver() as receiver, start_worker(app, pool="solo", perform_ping_check=False, queues=["events", "webhooks"]):
        endpoint = tenant.client.post("/v1/webhooks", {"url": receiver.url, "events": ["render.*"]}, format="json")
        assert endpoint.status_code == 201, endpoint.content
        response = tenant.client.post(
            f"/v1/projects/{project['id']}/renders",
            {"templateId": template["id"], "webhookUrl": f"{receiver.url}/job"}, format="json",
        )
        assert response.status_code == 201, response.content
        job_id = response.json()["id"]
        worker = render_workers.start()

        def completed_at_both():
            types = [(request.path, request.headers["X-Renderowl-Event"]) for request in receiver.received]
            return ("/hook", "render.completed") in types and ("/hook/job", "render.completed") in types

        wait_until(completed_at_both, timeout=60, describe=lambda: f"Worker log:\n{worker.log()}")

    verifier = Webhook(standard_webhooks_secret(project["webhookSecret"]))
    by_target = {"/hook": [], "/hook/job": []}
    for request in receiver.received:
        event = verifier.verify(request.body, {name.lower(): value for name, value in request.headers.items()})
        assert (request.headers["X-Renderowl-Project"], request.headers["X-Renderowl-Event"]) == (
            project["id"], event["type"],
        )
        assert event["data"]["object"]["id"] == job_id and "outputUrl" not in event["data"]["object"]
        by_target[request.path].append(event)
    # Deliveries go out concurrently, so they may arrive out of order: put them in the order they happened.
    endpoint_events, job_events = (
        sorted(events, key=lambda event: datetime.fromisoformat(event["createdAt"])) for events in by_target.values()
    )
    assert [event["id"] for event in endpoint_events] == [event["id"] for event in job_events]
    types = [event["type"] for event in endpoint_events]
    assert types[:2] == ["render.queued", "render.started"] and types[-1] == "render.completed", types
    assert set(types[2:-1]) == {"render.progress"}, types
    progress = [event["data"]["object"]["progress"] for event in endpoint_events[2:]]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert endpoint_events[-1]["data"]["object"]["status"] == "completed"


# A worker killed by SIGKILL mid-render


def ffmpeg_of(job_id):
    """The live ffmpeg processes rendering `job_id` (in a workdir named after the job)."""
    return ffmpeg_processes(lambda cwd: cwd.name.startswith(f"{job_id}-"))


def kill_mid_render(tenant, job_id, worker):
    """SIGKILL `worker`'s process group once `job_id` is rendering and has reported progress; returns the job then."""

    def rendering_with_progress():
        job = row(tenant, job_id)
        assert job.status in ("queued", "rendering"), f"the render was {job.status} before it could be killed"
        return job if job.status == "rendering" and 0 < job.progress < 1 else None

    job = wait_until(rendering_with_progress, timeout=60, describe=lambda: f"Worker log:\n{worker.log()}")
    ffmpeg = ffmpeg_of(job_id)
    assert ffmpeg, "no ffmpeg is rendering the job"
    try:
        # Stopped, ffmpeg can neither finish nor die of the broken progress pipe: only a SIGKILL ends it. It runs in
        # a session of its own, so the group's SIGKILL misses it; the death signal it asked for must reach it.
        for pid in ffmpeg:
            os.kill(pid, signal.SIGSTOP)
        worker.kill()
        wait_until(lambda: not ffmpeg_of(job_id), timeout=10, describe=lambda: f"ffmpeg {ffmpeg} outlived its worker")
    finally:
        for pid in ffmpeg_of(job_id):
            os.kill(pid, signal.SIGKILL)
    return job


def workdirs_of(job_id):
    """The job's working directories left on this machine (the workers here use the default RENDER_WORK_DIR)."""
    return list(settings.RENDER_WORK_DIR.glob(f"{job_id}-*"))


def submitted_long(tenant, project, media_files):
    """The id of a queued render of LONG_TEMPLATE."""
    clip = upload_media(tenant, project["id"], "video", media_files)
    template = upload_template(tenant, project["id"], LONG_TEMPLATE)
    response = tenant.client.post(
        f"/v1/projects/{project['id']}/renders", {"templateId": template["id"], "inputProps": {"clip": clip["id"]}},
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def reaped(tenant, job_id):
    """Runs the reaper's task (what beat does every 30 s) until it takes the job, once its lease has lapsed."""
    wait_until(lambda: reap_lost_renders_task.apply().get() == 1, timeout=30)
    return job_of(tenant, job_id)


def test_a_render_whose_worker_is_killed_is_rendered_again_on_a_new_attempt_and_completes(
    tenant, project, media_files, render_workers, tmp_path
):
    job_id = submitted_long(tenant, project, media_files)

    # A short lease, so that it lapses within a second of the kill (production: RENDER_LEASE_SECONDS=120).
    killed = kill_mid_render(tenant, job_id, render_workers.start(RENDER_LEASE_SECONDS="1"))
    assert (killed.attempts, killed.stage) == (1, "rendering")
    assert workdirs_of(job_id)  # a killed worker cannot remove its own

    requeued = reaped(tenant, job_id)
    assert (requeued["status"], requeued["attempts"], requeued["progress"]) == ("queued", 1, 0.0)
    [job] = finished(tenant, [job_id], worker=render_workers.start())

    assert (job["status"], job["attempts"], job["error"], job["progress"]) == ("completed", 2, None, 1.0)
    assert abs(job["outputDurationMs"] - 30_000) <= 1000 / 30
    video = MediaInfo.parse(downloaded(tenant, job, tmp_path)).video_tracks[0]
    assert (video.format, video.width, video.height) == ("AVC", 320, 180)
    with tenant_context(tenant.id):
        assert RenderJob.objects.get(pk=job_id).output_key.endswith("/output-2.mp4")
    sequence = [kind for kind in events_of(tenant, job_id) if kind != "render.progress"]
    assert sequence == ["render.queued", "render.started", "render.queued", "render.started", "render.completed"]
    assert no_job_left_rendering(tenant)
    assert workdirs_of(job_id) == []  # the second attempt removed the first's, then its own


def test_a_render_killed_on_its_last_attempt_fails_with_worker_lost(
    tenant, project, media_files, render_workers, settings
):
    settings.RENDER_MAX_ATTEMPTS = 1  # the reaper's setting (beat's process); the default is 2
    job_id = submitted_long(tenant, project, media_files)

    kill_mid_render(tenant, job_id, render_workers.start(RENDER_LEASE_SECONDS="1"))
    for workdir in workdirs_of(job_id):  # no later attempt here will remove it
        shutil.rmtree(workdir, ignore_errors=True)
    job = reaped(tenant, job_id)

    assert (job["status"], job["error"]["code"], job["attempts"]) == ("failed", "worker_lost", 1)
    assert "submit the render again" in job["error"]["message"] and job["completedAt"]
    assert job["outputUrl"] is None
    assert events_of(tenant, job_id)[-1] == "render.failed"
    assert no_job_left_rendering(tenant)
