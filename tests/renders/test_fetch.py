"""The built-in engine's URL inputs: downloaded by the worker through the outbound guard, bounded in size and time.

A real server on a loopback port stands in for the customer's host. Loopback is refused like any other
non-public address unless OUTBOUND_ALLOW_LOOPBACK is on, so the tests that must reach it (the `loopback`
fixture) turn it on, and the others prove the refusal: the server never sees a connection.
"""

import time

import pytest
from pymediainfo import MediaInfo

from renders.engines import fetch
from renders.engines.base import EngineError
from renders.engines.ffmpeg import FFmpegEngine
from tests.renders.source_server import SourceServer, body, drip, redirect, self_signed_certificate
from tests.renders.test_ffmpeg_engine import decoded_frames, pixel, render, render_input

pytestmark = pytest.mark.usefixtures("storage_root")


@pytest.fixture
def server(media_root):
    with SourceServer(media_root) as server:
        yield server


@pytest.fixture
def loopback(settings):
    """The test server listens on 127.0.0.1, which the guard only calls with OUTBOUND_ALLOW_LOOPBACK."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True


def failure(tmp_path, layers, **kwargs):
    with pytest.raises(EngineError) as caught:
        render(tmp_path, render_input(layers, **kwargs))
    return caught.value


def test_urls_from_the_scene_and_props_are_downloaded_once_and_drawn_with_their_sound(tmp_path, server, loopback):
    layers = [
        {"type": "video", "src": server.url("/clip.mp4")},
        {"type": "image", "src": "{{photo}}", "x": 0, "y": 0, "width": 64, "height": 48},
        {"type": "image", "src": "{{photo}}", "x": 256, "y": 0, "width": 64, "height": 48},
        {"type": "text", "text": "URL", "font": server.url("/bold.ttf"), "size": 30, "x": 100, "y": 120},
    ]
    result, progress = render(tmp_path, render_input(layers, props={"photo": server.url("/red.png")}))

    assert sorted(server.paths) == ["/bold.ttf", "/clip.mp4", "/red.png"]  # each URL fetched once
    assert MediaInfo.parse(result.path).audio_tracks  # a URL's clip is probed once downloaded: its sound is mixed
    red, green, _ = pixel(decoded_frames(result.path)[5], 30, 20)
    assert red > 200 and green < 60
    workdir = tmp_path / "work"
    assert (workdir / "font_3.ttf").resolve() == (workdir / "source_2.ttf").resolve()  # the downloaded font
    assert progress[-1] == (1.0, "rendering")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_a_url_to_a_loopback_host_is_refused_before_any_connection(tmp_path, server, host):
    literal = failure(tmp_path / "literal", [{"type": "image", "src": server.url("/red.png", host=host)}])
    bound = failure(
        tmp_path / "prop", [{"type": "video", "src": "{{clip}}"}], props={"clip": server.url("/clip.mp4", host=host)}
    )

    assert (literal.code, bound.code) == ("source_not_allowed", "source_not_allowed")
    assert literal.message.startswith("scene.layers[0].src: The URL's host does not resolve to a public address")
    assert bound.message.startswith("inputProps.clip (bound at scene.layers[0].src): The URL's host does not")
    assert server.connections == 0


def test_the_operator_deny_list_wins_over_the_loopback_allowance(tmp_path, server, loopback, settings):
    settings.OUTBOUND_DENY_NETWORKS = ["127.0.0.0/8"]
    refused = failure(tmp_path, [{"type": "image", "src": server.url("/red.png")}])
    assert refused.code == "source_not_allowed" and server.connections == 0


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("http://169.254.169.254/latest/meta-data/", "source_not_allowed"),
        ("http://[::ffff:a9fe:a9fe]/latest/meta-data/", "source_not_allowed"),
        ("http://10.0.0.1/clip.mp4", "source_not_allowed"),
        ("http://metadata.invalid/clip.mp4", "source_not_allowed"),  # does not resolve: told apart from no one
        ("file:///etc/hostname", "source_not_allowed"),
        ("/hop", "source_unavailable"),  # a loop: more redirects than MAX_REDIRECTS
    ],
)
def test_each_redirect_is_checked_again(tmp_path, server, loopback, location, code):
    server.routes["/hop"] = redirect(location)
    refused = failure(tmp_path, [{"type": "image", "src": server.url("/hop")}])

    assert refused.code == code, refused.message
    assert refused.message.startswith("scene.layers[0].src: ")
    assert set(server.paths) == {"/hop"}


def test_redirects_to_allowed_hosts_are_followed(tmp_path, server, loopback):
    server.routes["/old"] = redirect("/moved", status=301)
    server.routes["/moved"] = redirect(server.url("/red.png"), status=307)
    result, _ = render(tmp_path, render_input([{"type": "image", "src": server.url("/old")}], fmt="png"))

    [frame] = decoded_frames(result.path)
    assert pixel(frame, 160, 90)[0] > 200
    assert server.paths == ["/old", "/moved", "/red.png"]


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_source_over_the_size_limit_fails_source_too_large(tmp_path, server, loopback, settings, declare_length):
    settings.RENDER_MAX_SOURCE_BYTES = 100_000
    server.routes["/huge.mp4"] = body(10**9, declare_length=declare_length)
    started = time.monotonic()
    refused = failure(tmp_path, [{"type": "video", "src": "{{clip}}"}], props={"clip": server.url("/huge.mp4")})

    assert refused.code == "source_too_large"
    assert "larger than the 100000 bytes a URL input may have (RENDER_MAX_SOURCE_BYTES)" in refused.message
    assert refused.message.startswith("inputProps.clip (bound at scene.layers[0].src): ")
    assert time.monotonic() - started < 10  # stopped at the limit, not after a gigabyte
    assert list((tmp_path / "work").glob("source_*")) == []


def test_sources_over_the_total_limit_fail_source_too_large(tmp_path, server, loopback, settings, media_root):
    size = (media_root / "red.png").stat().st_size
    settings.RENDER_MAX_TOTAL_SOURCE_BYTES = size * 3 // 2
    layers = [{"type": "image", "src": server.url("/red.png?a")}, {"type": "image", "src": server.url("/red.png?b")}]
    refused = failure(tmp_path, layers)

    assert refused.code == "source_too_large"
    assert refused.message.startswith("scene.layers[1].src: the render's URL inputs together are larger than")


@pytest.mark.parametrize("headers", [True, False], ids=["trickles-its-body", "never-answers"])
def test_a_slow_server_is_cut_off_at_the_download_deadline(tmp_path, server, loopback, settings, headers):
    settings.RENDER_SOURCE_TIMEOUT_SECONDS = 0.5
    server.routes["/slow.mp4"] = drip(server, every=0.05, headers=headers)
    started = time.monotonic()
    refused = failure(tmp_path, [{"type": "video", "src": server.url("/slow.mp4")}])

    assert refused.code == "source_unavailable"
    assert "did not all download within 0.5 s (RENDER_SOURCE_TIMEOUT_SECONDS)" in refused.message
    assert time.monotonic() - started < fetch.READ_SECONDS / 3  # the whole download's deadline, not a socket's


def test_a_render_deadline_sooner_than_the_download_deadline_is_a_render_timeout(tmp_path, server, loopback):
    server.routes["/slow.mp4"] = drip(server)
    with pytest.raises(EngineError) as caught:
        render(
            tmp_path, render_input([{"type": "video", "src": server.url("/slow.mp4")}]), deadline=time.time() + 0.5
        )
    assert caught.value.code == "render_timeout"


def test_a_long_download_beats_the_progress_and_stops_when_the_render_is_cancelled(
    tmp_path, server, loopback, monkeypatch
):
    monkeypatch.setattr(fetch, "HEARTBEAT_SECONDS", 0.0)
    monkeypatch.setattr(fetch, "CANCEL_POLL_SECONDS", 0.0)
    server.routes["/slow.mp4"] = drip(server, every=0.01)
    progress = []
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(EngineError) as caught:
        FFmpegEngine().render(
            input=render_input([{"type": "video", "src": server.url("/slow.mp4")}]),
            sources={},
            workdir=workdir,
            on_progress=lambda fraction, stage: progress.append((fraction, stage)),
            deadline=None,
            cancelled=lambda: len(progress) >= 5,
        )
    assert caught.value.code == "render_cancelled"
    assert progress == [(0.0, "preparing")] * 5  # the same report again: alive, not further along


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ("/missing.png", "the server answered HTTP 404"),
        ("/gzipped.png", "sent the file compressed (gzip)"),
    ],
)
def test_a_server_that_does_not_answer_with_the_file_fails_source_unavailable(
    tmp_path, server, loopback, route, message
):
    def gzipped(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/gzipped.png"] = gzipped
    refused = failure(tmp_path, [{"type": "image", "src": server.url(route)}])
    assert refused.code == "source_unavailable"
    assert message in refused.message


def test_tls_certificates_are_verified(tmp_path, media_root, loopback):
    with SourceServer(media_root, tls_files=self_signed_certificate(tmp_path)) as server:
        refused = failure(tmp_path, [{"type": "image", "src": server.url("/red.png")}])

    assert refused.code == "source_unavailable"
    assert "its TLS certificate is not valid for the host" in refused.message
    assert server.paths == []  # no request was sent over the untrusted connection
