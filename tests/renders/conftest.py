"""Media for render tests, made once per session with the bundled ffmpeg, kept in a storage root of their own."""

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.assets import media


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


@pytest.fixture(autouse=True)
def storage_root(settings, media_root):
    """The engine reads local inputs only from the render's workdir and ASSET_STORAGE_ROOT."""
    settings.ASSET_STORAGE_ROOT = media_root
    return media_root
