"""Render test factories: templates and media uploaded through the public assets API, media for the engine,
and real render worker processes."""

import functools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from assets.processing import asset_process
from renderowl.celery import app
from tests.assets import media
from tests.assets.test_api import create, put
from tests.renderowl.test_worker_pools import procfile, worker_queues
from tests.webhooks.test_worker import database_url_for_tests

CONTENT_TYPES = {"video": "video/mp4", "image": "image/png", "audio": "audio/wav", "font": "font/ttf"}


@pytest.fixture(autouse=True)
def asset_storage(settings, tmp_path):
    """Each render test stores its assets under its own temporary root, with the local backend."""
    settings.ASSET_STORAGE_BACKEND = "local"
    settings.ASSET_STORAGE_ROOT = tmp_path / "storage"
    return settings.ASSET_STORAGE_ROOT


@pytest.fixture(scope="session")
def media_files(tmp_path_factory):
    """One small file of each asset type, made once for the session."""
    root = tmp_path_factory.mktemp("render-media")
    return {
        "video": media.make_video(root / "clip.mp4", seconds=1, size=(64, 48)),
        "image": media.make_image(root / "still.png"),
        "audio": media.make_audio(root / "tone.wav", seconds=1),
        "font": media.dejavu(),
    }


def upload(tenant, project_id, *, type, name, data, content_type, process=True, complete=True):
    """Create an asset through the API and PUT its bytes; then complete the upload and process it, unless told not to."""
    created = create(tenant, project_id, type=type, name=name, contentType=content_type, size=len(data))
    assert created.status_code == 201, created.content
    asset_id = created.json()["asset"]["id"]
    assert put(tenant, created.json()["upload"], data).status_code < 300
    if complete:
        assert tenant.client.post(f"/v1/assets/{asset_id}/upload-complete").status_code == 200
        if process:
            asset_process(organization_id=tenant.id, asset_id=asset_id)
    return tenant.client.get(f"/v1/assets/{asset_id}").json()


def upload_template(tenant, project_id, document, **kwargs):
    """A template asset from `document` (a dict, or the file's bytes), processed unless told not to."""
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return upload(
        tenant, project_id, type="template", name="template.json", data=data, content_type="application/json", **kwargs
    )


def upload_media(tenant, project_id, type, media_files, **kwargs):
    """A video, image, audio or font asset made of the session's small file of that type."""
    path = media_files[type]
    return upload(
        tenant, project_id, type=type, name=path.name, data=path.read_bytes(), content_type=CONTENT_TYPES[type],
        **kwargs,
    )


@pytest.fixture(scope="session")
def media_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("storage")
    media.make_video(root / "clip.mp4", seconds=1, size=(320, 240), fps=10)
    media.make_video(root / "silent.mp4", seconds=1, size=(320, 240), fps=10, audio=False)
    media.make_audio(root / "music.m4a", seconds=1)
    media.make_image(root / "red.png", size=(64, 48), color="red")
    (root / "notes.png").write_text("This is a text file, not an image.\n")
    shutil.copy(media.dejavu("DejaVuSans-Bold.ttf"), root / "bold.ttf")
    return root


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def media_server(media_root):
    """A real local HTTP server over the media: the engine's URL inputs (signed URLs in production)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(media_root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def storage_root(settings, media_root):
    """The engine reads local inputs only from the render's workdir and ASSET_STORAGE_ROOT: here, the media's."""
    settings.ASSET_STORAGE_ROOT = media_root
    return media_root


def wait_until(condition, *, timeout, describe=lambda: ""):
    """Polls `condition` until it is true (and returns its value), failing after `timeout` seconds with `describe()`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not true within {timeout} s. {describe()}"
        time.sleep(0.05)


class RenderWorker:
    """One `celery worker` process of the Procfile's `renders` pool, in a process group of its own."""

    def __init__(self, command, *, env, log_path):
        self.log_path = log_path
        with open(log_path, "wb") as log:
            # `exec`: the worker itself is the child, so its PID names its process group (its pool processes too).
            self.process = subprocess.Popen(
                ["sh", "-c", f"exec {command}"], env=env, cwd=settings.BASE_DIR, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    def kill(self):
        """SIGKILL the whole process group at once, as an out-of-memory killer or a lost machine would."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def _signal_group(self, signum):
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass


class RenderWorkers:
    """Starts render workers as production runs them: the Procfile's `renders` line, on the test's database.

    The command (and so the queues it drains) comes from the Procfile alone, so renaming the render queues
    there needs no change here. Each worker shares the test's database, broker and local asset storage.
    """

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.command = procfile()["renders"]
        self.queues = worker_queues(shlex.split(self.command))
        self.started = []

    def start(self, **environment):
        """A new worker; `environment` adds settings of its own (e.g. RENDER_LEASE_SECONDS="1")."""
        env = {
            **os.environ,
            "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_ENV": "test",
            "DATABASE_URL": database_url_for_tests(),
            "ASSET_STORAGE_BACKEND": "local",
            "ASSET_STORAGE_ROOT": str(settings.ASSET_STORAGE_ROOT),
            "LOG_LEVEL": "WARNING",
            "RENDERS_CONCURRENCY": "1",
            **environment,
        }
        worker = RenderWorker(
            f"{self.command} --without-mingle --without-gossip", env=env,
            log_path=self.log_dir / f"render-worker-{len(self.started) + 1}.log",
        )
        self.started.append(worker)
        return worker

    def purge(self):
        with app.connection_for_write() as connection:
            for queue in self.queues:
                connection.default_channel.queue_purge(queue)

    def stop_all(self):
        """Kills every worker still running: the test is over, so nothing they hold needs a warm shutdown."""
        for worker in self.started:
            if worker.process.poll() is None:
                worker.kill()


@pytest.fixture
def render_workers(request, tmp_path):
    """`render_workers.start()`: a real render worker process, stopped (by its process group) when the test ends.

    The worker sees only committed rows: a test using it must be transactional,
    `pytest.mark.django_db(databases=["default", "owner"], transaction=True)`.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        pytest.fail("render_workers needs committed data: mark the test django_db(transaction=True, ...).")
    workers = RenderWorkers(tmp_path)
    workers.purge()  # messages other tests left for jobs that no longer exist
    yield workers
    workers.stop_all()
    workers.purge()
