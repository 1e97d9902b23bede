"""Render test factories: templates and media uploaded through the public assets API, and media for the engine."""

import functools
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assets.processing import asset_process
from tests.assets import media
from tests.assets.test_api import create, put

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
