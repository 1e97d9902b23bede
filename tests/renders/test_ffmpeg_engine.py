"""The built-in FFmpeg engine, rendering real scenes: small (320×180, 1 s at 10 fps) so the file runs in seconds.

Outputs are probed with MediaInfo and decoded back to pixels with the bundled ffmpeg, independently of
the engine's own code.
"""

import array
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
import pytest
from pymediainfo import MediaInfo

from renders.engines.base import EngineError
from renders.engines.ffmpeg import FFmpegEngine
from renders.inputs import AssetRef, OutputSpec, RenderInput

WIDTH, HEIGHT, FPS = 320, 180, 10
pytestmark = pytest.mark.usefixtures("storage_root")  # inputs are read from the media's storage root


TITLE_INJECTION = (
    "It's \"quoted\": a:b \\ back\\slash %{pts} %{eif:1/0:d} %{pts ; [in] [out]; textfile=/etc/hostname\nline 2 ] '"
)


def render_input(
    layers, *, props=None, assets=None, fmt="mp4", frame=None, livemode=True, seconds=1, background="#000000"
):
    template = {
        "engine": "ffmpeg",
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "durationInFrames": round(seconds * FPS),
        "inputSchema": {"type": "object"},
        "scene": {"background": background, "layers": layers},
    }
    return RenderInput(
        engine="ffmpeg",
        template_id="ast_template",
        template=template,
        props=props or {},
        assets=assets or {},
        output=OutputSpec(format=fmt, width=WIDTH, height=HEIGHT, fps=FPS, frame=frame),
        livemode=livemode,
    )


def render(tmp_path, input, *, sources=None, engine=None, cancelled=lambda: False, deadline=None):
    progress = []
    workdir = tmp_path / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    result = (engine or FFmpegEngine()).render(
        input=input,
        sources=sources or {},
        workdir=workdir,
        on_progress=lambda fraction, stage: progress.append((fraction, stage)),
        deadline=deadline,
        cancelled=cancelled,
    )
    return result, progress


def decoded_frames(path, width=WIDTH, height=HEIGHT):
    """Every frame of `path` as rgb24 bytes, decoded by the bundled ffmpeg."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-i",
        str(path),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    raw = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
    size = width * height * 3
    assert len(raw) % size == 0
    return [raw[offset : offset + size] for offset in range(0, len(raw), size)]


def pixel(frame, x, y):
    offset = (y * WIDTH + x) * 3
    return tuple(frame[offset : offset + 3])


def bright_pixels(frame, box):
    left, top, right, bottom = box
    return sum(1 for y in range(top, bottom) for x in range(left, right) if min(pixel(frame, x, y)) > 200)


def ffmpeg_processes(in_workdir):
    """PIDs of the live ffmpeg processes whose working directory passes `in_workdir(path)`.

    The engine runs ffmpeg in the render's workdir (its command line names only relative files there). A
    zombie has no working directory left: it is dead, only not yet reaped.
    """
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            executable = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if b"ffmpeg" in executable and in_workdir(cwd):
            found.append(int(pid))
    return found


def ffmpeg_processes_in(workdir):
    """PIDs of the live ffmpeg processes working in `workdir`."""
    return ffmpeg_processes(lambda cwd: cwd == Path(workdir).resolve())


FULL_SCENE = [
    {"type": "video", "src": "{{clip}}", "fit": "cover", "x": 0, "y": 0, "width": 160, "height": 90, "fadeIn": 0.2},
    {"type": "image", "src": "{{photo}}", "x": 200, "y": 10, "width": 100, "height": 80, "motion": "zoom-in"},
    {
        "type": "text",
        "text": "{{title}}",
        "size": 24,
        "x": "center",
        "y": 120,
        "box": {"color": "#000000c0", "padding": 4},
    },
    {"type": "audio", "src": "{{music}}", "volume": 0.5},
]
FULL_PROPS = {"title": "Hello", "clip": "ast_clip", "photo": "ast_photo", "music": "ast_music"}


def full_sources(root):
    return {"clip": str(root / "clip.mp4"), "photo": str(root / "red.png"), "music": str(root / "music.m4a")}


def test_mp4_is_h264_and_aac_in_yuv420p_at_the_output_size_and_length(tmp_path, media_root):
    result, progress = render(tmp_path, render_input(FULL_SCENE, props=FULL_PROPS), sources=full_sources(media_root))

    info = MediaInfo.parse(result.path)
    video, audio = info.video_tracks[0], info.audio_tracks[0]
    assert (video.format, video.width, video.height, video.chroma_subsampling) == ("AVC", WIDTH, HEIGHT, "4:2:0")
    assert audio.format == "AAC"
    assert len(decoded_frames(result.path)) == FPS
    assert abs(result.duration_ms - 1000) <= 1000 / FPS
    assert result.size == result.path.stat().st_size
    data = result.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart
    fractions = [fraction for fraction, _ in progress]
    assert fractions == sorted(set(fractions)) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {stage for _, stage in progress} == {"preparing", "rendering"}


def test_webm_is_vp9_and_opus(tmp_path, media_root):
    result, _ = render(
        tmp_path, render_input(FULL_SCENE, props=FULL_PROPS, fmt="webm"), sources=full_sources(media_root)
    )

    info = MediaInfo.parse(result.path)
    assert info.general_tracks[0].format == "WebM"
    assert (info.video_tracks[0].format, info.video_tracks[0].width, info.video_tracks[0].height) == (
        "VP9",
        WIDTH,
        HEIGHT,
    )
    assert info.audio_tracks[0].format == "Opus"
    assert len(decoded_frames(result.path)) == FPS
    assert abs(result.duration_ms - 1000) <= 1000 / FPS


def test_gif_has_every_frame_and_no_sound(tmp_path, media_root):
    result, _ = render(
        tmp_path, render_input(FULL_SCENE, props=FULL_PROPS, fmt="gif"), sources=full_sources(media_root)
    )

    info = MediaInfo.parse(result.path)
    assert info.general_tracks[0].format == "GIF"
    assert not info.audio_tracks
    assert len(decoded_frames(result.path)) == FPS
    assert result.duration_ms == 1000


def test_a_video_without_sound_or_muted_gives_an_mp4_without_audio(tmp_path, media_root):
    layers = [
        {"type": "video", "src": "{{silent}}"},
        {"type": "video", "src": "{{clip}}", "muted": True, "width": 64, "height": 36},
    ]
    sources = {"silent": str(media_root / "silent.mp4"), "clip": str(media_root / "clip.mp4")}
    result, _ = render(tmp_path, render_input(layers), sources=sources)
    assert not MediaInfo.parse(result.path).audio_tracks


def test_png_still_has_the_text_pixels_where_the_text_is_placed(tmp_path):
    layers = [{"type": "text", "text": "{{title}}", "size": 40, "x": 20, "y": 20, "color": "#ffffff"}]
    result, progress = render(tmp_path, render_input(layers, props={"title": "HHHH"}, fmt="png"))

    info = MediaInfo.parse(result.path)
    assert (info.image_tracks[0].format, info.image_tracks[0].width, info.image_tracks[0].height) == (
        "PNG",
        WIDTH,
        HEIGHT,
    )
    [frame] = decoded_frames(result.path)
    assert bright_pixels(frame, (20, 20, 140, 70)) > 200
    assert bright_pixels(frame, (0, 90, WIDTH, HEIGHT)) == 0
    assert bright_pixels(frame, (160, 0, WIDTH, 90)) == 0
    assert result.duration_ms == 0
    assert progress[-1] == (1.0, "rendering")


def test_jpg_still_is_the_requested_frame_and_layers_keep_their_times(tmp_path):
    layers = [{"type": "color", "color": "#ffffff", "width": 40, "height": 40, "x": 10, "y": 10, "start": 0.5}]
    early, _ = render(tmp_path / "early", render_input(layers, fmt="jpg", frame=2))
    late, _ = render(tmp_path / "late", render_input(layers, fmt="jpg", frame=7))

    assert MediaInfo.parse(late.path).image_tracks[0].format == "JPEG"
    assert bright_pixels(decoded_frames(early.path)[0], (10, 10, 50, 50)) == 0
    assert bright_pixels(decoded_frames(late.path)[0], (10, 10, 50, 50)) > 1400


def test_opacity_and_fade_in_blend_with_what_is_below(tmp_path):
    half = [{"type": "color", "color": "#ffffff", "opacity": 0.5}]
    fading = [{"type": "color", "color": "#ffffff", "fadeIn": 1}]
    [half_frame] = decoded_frames(render(tmp_path / "half", render_input(half, fmt="png"))[0].path)
    [fade_frame] = decoded_frames(render(tmp_path / "fade", render_input(fading, fmt="png", frame=5))[0].path)

    assert 110 <= pixel(half_frame, 160, 90)[0] <= 145
    assert 110 <= pixel(fade_frame, 160, 90)[0] <= 145


@pytest.mark.parametrize(
    ("fit", "corner_is_red"),
    [("contain", False), ("cover", True), ("fill", True)],
)
def test_fit_decides_whether_the_picture_fills_its_box(tmp_path, media_root, fit, corner_is_red):
    # A 64×48 (4:3) red image in a 100×100 box at (0, 0): contain leaves bars above and below it.
    layers = [{"type": "image", "src": "{{photo}}", "fit": fit, "x": 0, "y": 0, "width": 100, "height": 100}]
    result, _ = render(tmp_path, render_input(layers, fmt="png"), sources={"photo": str(media_root / "red.png")})
    [frame] = decoded_frames(result.path)

    red, green, blue = pixel(frame, 50, 3)
    assert (red > 200 and green < 50) is corner_is_red
    assert pixel(frame, 50, 50)[0] > 200


def test_injection_strings_in_a_title_are_drawn_as_text(tmp_path):
    layers = [{"type": "text", "text": "Title: {{title}}", "size": 16, "x": 10, "y": 10}]
    result, _ = render(tmp_path, render_input(layers, props={"title": TITLE_INJECTION}, fmt="png"))

    [frame] = decoded_frames(result.path)
    assert bright_pixels(frame, (0, 0, WIDTH, HEIGHT)) > 100
    [textfile] = (tmp_path / "work").glob("text_*.txt")
    assert textfile.read_text() == "Title: " + TITLE_INJECTION  # drawn from this file, with expansion=none


def test_maxwidth_wraps_the_text_onto_more_lines(tmp_path):
    words = "wrap these words onto lines"
    layers = [{"type": "text", "text": words, "size": 20, "x": 0, "y": 0, "align": "left", "maxWidth": 120}]
    [wrapped] = decoded_frames(render(tmp_path / "wrapped", render_input(layers, fmt="png"))[0].path)
    del layers[0]["maxWidth"]
    [single] = decoded_frames(render(tmp_path / "single", render_input(layers, fmt="png"))[0].path)

    assert bright_pixels(wrapped, (0, 30, WIDTH, HEIGHT)) > 50
    assert bright_pixels(single, (0, 30, WIDTH, HEIGHT)) == 0
    assert bright_pixels(wrapped, (130, 0, WIDTH, HEIGHT)) == 0


def test_test_mode_renders_carry_a_watermark_unless_it_is_turned_off(tmp_path, settings):
    corner = (WIDTH - 80, HEIGHT - 40, WIDTH, HEIGHT)
    [test] = decoded_frames(render(tmp_path / "test", render_input([], fmt="png", livemode=False))[0].path)
    [live] = decoded_frames(render(tmp_path / "live", render_input([], fmt="png", livemode=True))[0].path)
    settings.RENDER_TEST_WATERMARK = False
    [off] = decoded_frames(render(tmp_path / "off", render_input([], fmt="png", livemode=False))[0].path)

    assert bright_pixels(test, corner) > 30
    assert bright_pixels(live, corner) == 0
    assert bright_pixels(off, corner) == 0


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/hostname",
        "concat:/etc/hostname|/etc/hostname",
        "data:image/png;base64,AAAA",
        "/etc/hostname",
        "relative/clip.mp4",
        "ftp://example.com/clip.mp4",
    ],
)
def test_sources_outside_http_and_the_allowed_directories_are_refused(tmp_path, location):
    layers = [{"type": "video", "src": "{{clip}}"}]
    with pytest.raises(EngineError) as caught:
        render(tmp_path, render_input(layers), sources={"clip": location})
    assert caught.value.code == "source_not_allowed"


def test_a_symlink_out_of_the_workdir_is_refused(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "clip.mp4").symlink_to("/etc/hostname")
    with pytest.raises(EngineError) as caught:
        render(
            tmp_path,
            render_input([{"type": "image", "src": "{{clip}}"}]),
            sources={"clip": str(tmp_path / "work" / "clip.mp4")},
        )
    assert caught.value.code == "source_not_allowed"


def test_an_input_ffmpeg_cannot_read_fails_without_naming_storage_paths(tmp_path, media_root):
    layers = [{"type": "image", "src": "{{photo}}"}]
    with pytest.raises(EngineError) as caught:
        render(tmp_path, render_input(layers), sources={"photo": str(media_root / "notes.png")})
    assert caught.value.code == "render_failed"
    assert caught.value.message.startswith("ffmpeg could not render the scene: [")  # ffmpeg's own first words
    assert str(media_root) not in caught.value.message
    assert ffmpeg_processes_in(tmp_path / "work") == []


def test_a_literal_asset_id_and_asset_metadata_are_honoured(tmp_path, media_root):
    clip = AssetRef(
        id="ast_clip", type="video", content_type="video/mp4", storage_key="k", metadata={"hasAudio": False}
    )
    input = render_input([{"type": "video", "src": "ast_clip"}], assets={"ast_clip": clip})
    result, _ = render(tmp_path, input, sources={"ast_clip": str(media_root / "clip.mp4")})
    assert not MediaInfo.parse(result.path).audio_tracks  # the asset's metadata says it has no sound


LONG_SCENE = [{"type": "video", "src": "{{clip}}", "loop": True}, {"type": "text", "text": "long", "size": 30}]


def test_cancel_kills_ffmpeg_and_leaves_no_process(tmp_path, media_root):
    progress = []

    def cancelled():
        return any(fraction > 0 for fraction, _ in progress)  # ffmpeg is running and writing

    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(EngineError) as caught:
        FFmpegEngine().render(
            input=render_input(LONG_SCENE, seconds=300),
            sources={"clip": str(media_root / "clip.mp4")},
            workdir=workdir,
            on_progress=lambda fraction, stage: progress.append((fraction, stage)),
            deadline=None,
            cancelled=cancelled,
        )
    assert caught.value.code == "render_cancelled"
    assert 0 < progress[-1][0] < 1
    assert ffmpeg_processes_in(workdir) == []


def test_the_deadline_kills_ffmpeg_with_render_timeout(tmp_path, media_root):
    progress = []
    now = {"time": 1000.0}

    def clock():
        if any(fraction > 0 for fraction, _ in progress):
            now["time"] = 2000.0  # the render has been running: move the clock past the deadline
        return now["time"]

    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(EngineError) as caught:
        FFmpegEngine(clock=clock).render(
            input=render_input(LONG_SCENE, seconds=300),
            sources={"clip": str(media_root / "clip.mp4")},
            workdir=workdir,
            on_progress=lambda fraction, stage: progress.append((fraction, stage)),
            deadline=1500.0,
            cancelled=lambda: False,
        )
    assert caught.value.code == "render_timeout"
    assert ffmpeg_processes_in(workdir) == []


def test_inputs_and_fonts_are_read_from_http_urls(tmp_path, media_server):
    layers = [
        {"type": "image", "src": "{{photo}}", "x": 0, "y": 0, "width": 64, "height": 48},
        {"type": "text", "text": "URL", "font": "{{font}}", "size": 30, "x": 100, "y": 100},
    ]
    sources = {"photo": f"{media_server}/red.png", "font": f"{media_server}/bold.ttf"}
    result, _ = render(tmp_path, render_input(layers, fmt="png"), sources=sources)
    [frame] = decoded_frames(result.path)

    red, green, _ = pixel(frame, 30, 20)
    assert red > 200 and green < 50
    assert bright_pixels(frame, (100, 100, 200, 140)) > 100
    assert (tmp_path / "work" / "font_1.ttf").stat().st_size > 100_000  # downloaded into the workdir


def test_a_font_asset_draws_the_text_in_that_font(tmp_path, media_root):
    regular = [{"type": "text", "text": "Bold?", "size": 40, "x": 10, "y": 10}]
    bold = [{**regular[0], "font": "{{font}}"}]
    [plain] = decoded_frames(render(tmp_path / "plain", render_input(regular, fmt="png"))[0].path)
    sources = {"font": str(media_root / "bold.ttf")}
    [heavy] = decoded_frames(render(tmp_path / "bold", render_input(bold, fmt="png"), sources=sources)[0].path)

    box = (0, 0, WIDTH, 80)
    assert bright_pixels(heavy, box) > 1.2 * bright_pixels(plain, box) > 0


def loudness(path, *, start, end):
    """Mean absolute sample value of `path`'s sound between two times (mono, 8 kHz, s16)."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0:a",
        "-ac",
        "1",
        "-ar",
        "8000",
    ]
    raw = subprocess.run([*command, "-f", "s16le", "-"], capture_output=True, check=True, timeout=60).stdout
    samples = array.array("h", raw)[round(start * 8000) : round(end * 8000)]
    return sum(map(abs, samples)) / max(len(samples), 1)


@pytest.mark.parametrize(("loop", "second_half_is_loud"), [(True, True), (False, False)])
def test_audio_loops_only_when_asked_and_lasts_the_composition(tmp_path, media_root, loop, second_half_is_loud):
    layers = [{"type": "audio", "src": "{{music}}", "loop": loop}]
    input = render_input(layers, seconds=2)
    result, _ = render(tmp_path, input, sources={"music": str(media_root / "music.m4a")})

    assert abs(float(MediaInfo.parse(result.path).audio_tracks[0].duration) - 2000) <= 50
    assert loudness(result.path, start=0.1, end=0.9) > 1000
    assert (loudness(result.path, start=1.2, end=1.9) > 1000) is second_half_is_loud


WORKER = """
import sys
import django

django.setup()
from renders.engines.ffmpeg import FFmpegEngine
from tests.renders.test_ffmpeg_engine import LONG_SCENE, render_input

def progress(fraction, stage):
    if fraction > 0:
        print("rendering", flush=True)

FFmpegEngine().render(
    input=render_input(LONG_SCENE, seconds=300), sources={"clip": sys.argv[1]}, workdir=sys.argv[2],
    on_progress=progress, deadline=None, cancelled=lambda: False,
)
"""


def test_a_worker_killed_by_sigkill_takes_its_ffmpeg_with_it(tmp_path, media_root):
    workdir = tmp_path / "work"
    workdir.mkdir()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "renderowl.settings", "ASSET_STORAGE_ROOT": str(media_root)}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(media_root / "clip.mp4"), str(workdir)],
        stdout=subprocess.PIPE,
        env=environment,
        cwd=Path(__file__).resolve().parents[2],
    )
    ffmpeg = []
    try:
        assert worker.stdout.readline() == b"rendering\n"
        ffmpeg = ffmpeg_processes_in(workdir)
        assert ffmpeg
        # Stopped, ffmpeg cannot die of its broken progress pipe on its own: only the death signal can end it.
        for pid in ffmpeg:
            os.kill(pid, signal.SIGSTOP)
    finally:
        worker.kill()
        worker.wait()
        worker.stdout.close()
    try:
        wait_until(lambda: not ffmpeg_processes_in(workdir), timeout=10)
    finally:
        for pid in ffmpeg_processes_in(workdir):
            os.kill(pid, signal.SIGKILL)


def wait_until(condition, *, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


def test_a_render_cancelled_or_past_its_deadline_before_it_starts_draws_nothing(tmp_path):
    with pytest.raises(EngineError) as cancelled:
        render(tmp_path / "cancelled", render_input([]), cancelled=lambda: True)
    with pytest.raises(EngineError) as late:
        render(tmp_path / "late", render_input([]), engine=FFmpegEngine(clock=lambda: 100.0), deadline=99.0)

    assert (cancelled.value.code, late.value.code) == ("render_cancelled", "render_timeout")
    assert list((tmp_path / "cancelled" / "work").iterdir()) == list((tmp_path / "late" / "work").iterdir()) == []


def test_a_url_that_cannot_be_read_fails_without_showing_the_url(tmp_path, media_server):
    sources = {"clip": f"{media_server}/missing.mp4?X-Amz-Signature=secret123"}
    with pytest.raises(EngineError) as caught:
        render(tmp_path, render_input([{"type": "video", "src": "{{clip}}"}]), sources=sources)

    assert caught.value.code == "render_failed"
    assert "secret123" not in caught.value.message and "127.0.0.1" not in caught.value.message
    assert "<url>" in caught.value.message


def test_boxes_of_odd_sizes_and_fractional_rates_render(tmp_path, media_root):
    layers = [
        {"type": "video", "src": "{{clip}}", "fit": "contain", "width": 101, "height": 51, "x": 3, "y": "center"},
        {"type": "image", "src": "{{photo}}", "width": 33, "height": 17, "motion": "zoom-out", "fadeIn": 0.5},
    ]
    input = render_input(layers)
    input = replace(input, output=replace(input.output, fps=29.97))
    sources = {"clip": str(media_root / "clip.mp4"), "photo": str(media_root / "red.png")}
    result, _ = render(tmp_path, input, sources=sources)

    assert abs(result.duration_ms - 1000) <= 1000 / 29.97


def test_a_second_attempt_in_the_same_workdir_renders_again(tmp_path, media_root):
    layers = [{"type": "text", "text": "again", "font": "{{font}}"}]
    sources = {"font": str(media_root / "bold.ttf")}
    first, _ = render(tmp_path, render_input(layers, fmt="png"), sources=sources)
    second, _ = render(tmp_path, render_input(layers, fmt="png"), sources=sources)
    assert first.path == second.path and second.size > 0
