"""The Remotion adapter end to end, against a stand-in renderowl-remotion server (tests/renders/remotion_server.py).

The platform runs for real: its API served over HTTP in a thread (the stand-in fetches the signed asset
URLs, PUTs the output and posts its callbacks there), the render task run eagerly once a submission
commits. The tests are transactional, so the server's threads see what the test committed.
"""

import hashlib
import threading
from datetime import timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.utils import timezone
from pymediainfo import MediaInfo

from assets.storage import get_storage
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.scheduling import render_claim_next
from renders.tasks import reap_lost_renders_task
from tests.renders.conftest import upload_media, upload_template
from tests.renders.remotion_server import RemotionServer
from tests.renders.test_api import events_of

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)

TEMPLATE = {
    "engine": "remotion", "composition": "Promo", "serveUrl": "https://bundles.example.com/promo/index.html",
    "width": 64, "height": 36, "fps": 10, "durationInFrames": 5,
    "inputSchema": {
        "type": "object",
        "properties": {"headline": {"type": "string"}, "logo": {"type": "string", "x-renderowl-asset": "image"}},
    },
    "defaultProps": {"headline": "Spring sale"},
}


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            connections.close_all()  # each request's thread opened its own; the test database must be droppable


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def platform_url():
    """The whole platform served over real HTTP in a thread: the renderer's uploads and callbacks land here."""
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="platform-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def remotion(settings, platform_url):
    """Start a stand-in server and point the platform at it: `remotion(behaviours=[...])`, quick timings."""
    settings.PUBLIC_BASE_URL = platform_url
    settings.REMOTION_SERVER_TOKEN = ""
    settings.REMOTION_CHECK_SECONDS = 0.05
    settings.REMOTION_POLL_AFTER_SECONDS = 0.3
    settings.REMOTION_STALL_SECONDS = 30  # far above a render's silences on a loaded machine; the stall test lowers it
    servers = []

    def start(**kwargs):
        server = RemotionServer(**kwargs).__enter__()
        servers.append(server)
        settings.REMOTION_SERVER_URL = server.url
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def project(tenant):
    return tenant.create_project(name="Promos")


@pytest.fixture
def template(tenant, project, settings):
    settings.REMOTION_SERVER_URL = "http://remotion.invalid"  # set before any render: the template validates without
    uploaded = upload_template(tenant, project["id"], TEMPLATE)
    assert uploaded["status"] == "ready", uploaded
    return uploaded


def submit(tenant, project, template, **body):
    response = tenant.client.post(
        f"/v1/projects/{project['id']}/renders", {"templateId": template["id"], **body}, format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def rendered(tenant, job_id):
    return tenant.client.get(f"/v1/renders/{job_id}").json()


def test_a_remotion_render_completes_with_progress_callbacks_and_its_output_checked_in_storage(
    tenant, project, template, remotion, worked, media_files, caplog,
):
    caplog.set_level("DEBUG")
    server = remotion(behaviours=["render"])
    logo = upload_media(tenant, project["id"], "image", media_files)

    job = worked(lambda: submit(tenant, project, template, inputProps={"headline": "Sale", "logo": logo["id"]}))

    done = rendered(tenant, job["id"])
    assert (done["status"], done["progress"], done["error"], done["engine"]) == ("completed", 1.0, None, "remotion")
    assert done["outputDurationMs"] == 500 and done["outputSize"] > 0
    [remote] = server.jobs.values()
    assert [status for status, _ in remote.callbacks] == ["progress", "progress", "success"]
    assert {answer for _, answer in remote.callbacks} == {200}
    spec = remote.spec
    assert (spec["serveUrl"], spec["composition"], spec["codec"]) == (TEMPLATE["serveUrl"], "Promo", "h264")
    assert (spec["width"], spec["height"], spec["fps"], spec["durationInFrames"]) == (64, 36, 10, 5)
    assert spec["webhook"]["customData"] == {"renderId": job["id"]}
    secret = spec["webhook"]["secret"]
    assert len(secret) == 64 and secret not in str(done)
    assert any(record.getMessage() == "remotion job started" for record in caplog.records)  # logs were captured
    assert not [record for record in caplog.records if secret in str(record.__dict__)], "the secret was logged"
    assert not [record for record in caplog.records if spec["output"]["uploadUrl"] in str(record.__dict__)]
    # The logo prop went as a signed URL the renderer could fetch, and got the asset's bytes.
    assert spec["inputProps"]["headline"] == "Sale" and spec["inputProps"]["logo"].startswith("http://127.0.0.1")
    assert remote.fetched["logo"] == (200, hashlib.sha256(media_files["image"].read_bytes()).hexdigest())
    assert remote.uploaded == 201
    with tenant_context(tenant.id):
        stored = RenderJob.objects.get(pk=job["id"])
    assert stored.remote_job_id == remote.id
    assert get_storage().head(key=stored.output_key).content_type == "video/mp4"
    video = MediaInfo.parse(get_storage().local_path(key=stored.output_key)).video_tracks[0]
    assert (video.width, video.height) == (64, 36)
    assert events_of(tenant, job["id"])[:2] == ["render.queued", "render.started"]
    assert events_of(tenant, job["id"])[-1] == "render.completed"
    assert "render.progress" in events_of(tenant, job["id"])


def test_an_error_callback_fails_the_render_with_the_servers_message(tenant, project, template, remotion, worked):
    remotion(behaviours=["error"])

    job = worked(lambda: submit(tenant, project, template))

    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "render_failed")
    assert failed["error"]["message"] == (
        "The Remotion server failed the render: Composition Promo threw: Cannot read properties of undefined"
    )
    assert events_of(tenant, job["id"])[-1] == "render.failed"


def test_a_failure_only_the_servers_status_tells_fails_the_render(tenant, project, template, remotion, worked):
    server = remotion(behaviours=["fail-silently"])

    job = worked(lambda: submit(tenant, project, template))

    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "render_failed")
    assert failed["error"]["message"] == (
        "The Remotion server says the render failed: Composition Promo threw: Cannot read properties of undefined"
    )
    assert server.requests_of("GET")


def test_callbacks_with_a_bad_signature_are_refused_and_polling_completes_the_render(
    tenant, project, template, remotion, worked,
):
    server = remotion(behaviours=["render"], wrong_secret=True)

    job = worked(lambda: submit(tenant, project, template))

    [remote] = server.jobs.values()
    assert [answer for _, answer in remote.callbacks] == [401, 401, 401]
    assert rendered(tenant, job["id"])["status"] == "completed"  # the GET found it completed
    assert server.requests_of("GET")


def test_without_callbacks_polling_completes_the_render_and_every_call_carries_the_token(
    tenant, project, template, remotion, worked, settings,
):
    server = remotion(behaviours=["silent"])
    settings.REMOTION_SERVER_TOKEN = "rmt-secret-token"

    job = worked(lambda: submit(tenant, project, template))

    assert rendered(tenant, job["id"])["status"] == "completed"
    assert [request.method for request in server.requests][:2] == ["POST", "GET"]
    assert {request.headers.get("Authorization") for request in server.requests} == {"Bearer rmt-secret-token"}


def test_a_job_the_server_forgets_is_dispatched_again_once(tenant, project, template, remotion, worked):
    server = remotion(behaviours=["forget", "render"])

    job = worked(lambda: submit(tenant, project, template))

    done = rendered(tenant, job["id"])
    assert (done["status"], done["attempts"]) == ("completed", 2)
    assert len(server.requests_of("POST")) == 2
    lifecycle = [kind for kind in events_of(tenant, job["id"]) if kind != "render.progress"]
    assert lifecycle[:4] == ["render.queued", "render.started", "render.queued", "render.started"]


def test_a_job_the_server_stops_reporting_on_fails_renderer_lost_after_the_last_attempt(
    tenant, project, template, remotion, worked, settings,
):
    server = remotion(behaviours=["hang"])
    settings.REMOTION_STALL_SECONDS = 1.0

    job = worked(lambda: submit(tenant, project, template))

    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["attempts"], failed["error"]["code"]) == ("failed", 2, "renderer_lost")
    assert len(server.requests_of("POST")) == 2
    assert len(server.requests_of("DELETE")) == 2  # each given-up job is cancelled on the server


def test_a_job_the_server_holds_queued_past_the_stall_timeout_is_not_lost(
    tenant, project, template, remotion, worked, settings,
):
    server = remotion(behaviours=["queue"])
    settings.REMOTION_STALL_SECONDS = 1.5  # below the stand-in's QUEUE_SECONDS

    job = worked(lambda: submit(tenant, project, template))

    assert (rendered(tenant, job["id"])["status"], rendered(tenant, job["id"])["attempts"]) == ("completed", 1)
    assert len(server.requests_of("POST")) == 1 and not server.requests_of("DELETE")


def test_the_deadline_fails_the_render_and_cancels_the_servers_job(tenant, project, template, remotion, worked, settings):
    server = remotion(behaviours=["hang"])
    settings.REMOTION_STALL_SECONDS = 60
    settings.RENDER_TIMEOUT_SECONDS = 1
    settings.REMOTION_SERVER_TOKEN = "rmt-secret-token"

    job = worked(lambda: submit(tenant, project, template))

    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["attempts"], failed["error"]["code"]) == ("failed", 1, "render_timeout")
    [remote] = server.jobs.values()
    [delete] = server.requests_of("DELETE")
    assert delete.path == f"/renders/{remote.id}" and delete.headers["Authorization"] == "Bearer rmt-secret-token"
    assert remote.status == "cancelled"


def test_cancelling_a_queued_remotion_render_never_reaches_the_server(tenant, project, template, remotion):
    server = remotion(behaviours=["render"])
    job = submit(tenant, project, template)  # queued; no renderer runs

    response = tenant.client.delete(f"/v1/renders/{job['id']}")

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert server.requests == []


def test_a_server_that_cannot_be_reached_fails_the_render_renderer_unavailable(
    tenant, project, template, remotion, worked, settings,
):
    remotion()
    settings.REMOTION_SERVER_URL = "http://127.0.0.1:9"  # discard: nothing listens

    job = worked(lambda: submit(tenant, project, template))

    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["attempts"], failed["error"]["code"]) == ("failed", 2, "renderer_unavailable")


def test_an_output_the_renderer_never_stored_fails_the_render(tenant, project, template, remotion, worked, settings):
    server = remotion(behaviours=["render"])
    settings.RENDER_MAX_OUTPUT_BYTES = 10  # the stand-in's upload is refused as too large: nothing stored

    job = worked(lambda: submit(tenant, project, template))

    [remote] = server.jobs.values()
    assert remote.uploaded == 413
    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "output_missing")


def test_a_server_that_refuses_the_job_fails_the_render_with_its_reason(tenant, project, template, remotion, worked):
    server = remotion(behaviours=["refuse"])

    job = worked(lambda: submit(tenant, project, template))

    failed = rendered(tenant, job["id"])
    assert (failed["status"], failed["attempts"], failed["error"]["code"]) == ("failed", 1, "render_failed")
    assert failed["error"]["message"] == "The Remotion server refused the render: No composition 'Promo' in <url>"
    assert len(server.requests_of("POST")) == 1


def test_a_new_attempt_after_a_lost_worker_cancels_the_servers_abandoned_job(tenant, project, template, remotion, worked):
    server = remotion(behaviours=["render"])
    job = submit(tenant, project, template)
    claimed = render_claim_next()
    with tenant_context(tenant.id):  # the worker died waiting on the server's job-7; its lease lapsed
        RenderJob.objects.filter(pk=claimed.id).update(
            remote_job_id="job-7", lease_expires_at=timezone.now() - timedelta(seconds=1),
        )

    worked(lambda: reap_lost_renders_task.apply())

    done = rendered(tenant, job["id"])
    assert (done["status"], done["attempts"]) == ("completed", 2)
    assert [(request.method, request.path) for request in server.requests][:2] == [
        ("DELETE", "/renders/job-7"), ("POST", "/renders"),
    ]
