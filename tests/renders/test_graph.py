"""The pure parts of the built-in engine: scene → one ffmpeg command, text wrapping, GIF timing."""

import pytest

from renders.engines.base import EngineError
from renders.engines.ffmpeg import gif_duration_ms
from renders.engines.graph import graph_compile
from renders.engines.scene import Layer, Scene, Source
from renders.engines.text import text_wrap
from renders.inputs import OutputSpec
from tests.assets import media

pytestmark = pytest.mark.usefixtures("storage_root")  # inputs are read from the media's storage root


CLIP = Source(location="/storage/clip.mp4", is_url=False, has_audio=True)
SIGNED = Source(location="https://cdn.example.com/clip.mp4?sig=abc", is_url=True, has_audio=True)


def scene(*layers, duration=2.0, width=320, height=180):
    return Scene(width=width, height=height, duration=duration, background="0x101820ff", layers=list(layers))


def compile_(scene, *, fmt="mp4", width=320, height=180, fps=10, quality="standard", frame=None, watermark=False):
    output = OutputSpec(format=fmt, width=width, height=height, fps=fps, quality=quality, frame=frame)
    return graph_compile(
        scene, output, fonts={}, default_font="font_default.ttf", watermark=watermark, output_name="out"
    )


def graph(plan):
    [graph] = [plan.args[i + 1] for i, arg in enumerate(plan.args) if arg == "-filter_complex"]
    return graph


def option(plan, name):
    return plan.args[plan.args.index(name) + 1]


def test_text_reaches_drawtext_only_through_a_file():
    title = "a': [x];%{pts}\\\nb"
    plan = compile_(scene(Layer(index=3, type="text", start=0, end=2, text=title, color="0xffffffff")))

    assert plan.files == {"text_3.txt": title}
    assert "drawtext=fontfile=font_default.ttf:textfile=text_3.txt:expansion=none:" in graph(plan)
    assert not any("%{pts}" in arg or "[x]" in arg for arg in plan.args)


def test_the_whole_scene_is_one_filter_graph_with_inputs_as_arguments():
    plan = compile_(
        scene(
            Layer(index=0, type="video", start=0.5, end=2, source=CLIP, trim_start=1.25, loop=True),
            Layer(index=1, type="audio", start=0, end=2, source=SIGNED, volume=0.5),
        )
    )

    assert plan.args.count("-filter_complex") == 1
    assert plan.args.count("-i") == 2
    local = plan.args.index("file:/storage/clip.mp4")
    assert plan.args[local - 7 : local] == ["-protocol_whitelist", "file", "-stream_loop", "-1", "-ss", "1.25", "-i"]
    remote = plan.args.index(SIGNED.location)
    assert plan.args[remote - 5 : remote - 3] == ["-protocol_whitelist", "http,https,tcp,tls,crypto"]
    assert "setpts=PTS+0.5/TB" in graph(plan)
    assert "adelay=delays=500:all=1" in graph(plan)  # the clip's sound starts with it
    assert "amix=inputs=2:normalize=0" in graph(plan)
    assert plan.has_audio and option(plan, "-c:a") == "aac"


@pytest.mark.parametrize(
    ("quality", "preset", "crf"), [("draft", "veryfast", "28"), ("standard", "faster", "23"), ("high", "medium", "18")]
)
def test_quality_picks_the_x264_preset_and_crf(quality, preset, crf):
    plan = compile_(scene(), quality=quality)
    assert (option(plan, "-c:v"), option(plan, "-preset"), option(plan, "-crf")) == ("libx264", preset, crf)
    assert option(plan, "-movflags") == "+faststart"
    assert graph(plan).endswith("format=yuv420p[vout]")


def test_webm_is_vp9_and_opus_gif_is_palette_generated_and_silent():
    layers = [Layer(index=0, type="audio", start=0, end=2, source=CLIP)]
    webm = compile_(scene(*layers), fmt="webm", quality="high")
    gif = compile_(scene(*layers), fmt="gif")

    assert (option(webm, "-c:v"), option(webm, "-crf"), option(webm, "-c:a")) == ("libvpx-vp9", "28", "libopus")
    assert "palettegen=max_colors=128" in graph(gif) and "paletteuse=dither=bayer" in graph(gif)
    assert not gif.has_audio and "-i" not in gif.args


def test_a_still_is_one_frame_and_a_frame_past_the_end_is_refused():
    plan = compile_(scene(duration=1), fmt="png", frame=9)
    assert "trim=start_frame=9:end_frame=10" in graph(plan)
    assert option(plan, "-frames:v") == "1" and "-t" not in plan.args

    with pytest.raises(EngineError) as caught:
        compile_(scene(duration=1), fmt="jpg", frame=10)
    assert caught.value.code == "invalid_scene"
    assert "pick a frame from 0 to 9" in caught.value.message


def test_mp4_needs_an_even_size():
    with pytest.raises(EngineError, match="even width and height"):
        compile_(scene(width=321), width=321)


def test_the_canvas_is_scaled_to_the_output_size_and_test_renders_are_watermarked():
    plan = compile_(scene(width=1280, height=720), width=640, height=360, watermark=True)
    assert "scale=640:360" in graph(plan)
    assert "text=TEST:expansion=none" in graph(plan)
    assert "text=TEST" not in graph(compile_(scene()))


@pytest.mark.parametrize(
    ("fit", "filters"),
    [
        ("cover", "force_original_aspect_ratio=increase,setsar=1,crop=100:50"),
        ("contain", "force_original_aspect_ratio=decrease,setsar=1,format=yuva444p,pad=100:50"),
        ("fill", "scale=100:50,setsar=1,loop"),
    ],
)
def test_fit_modes(fit, filters):
    layer = Layer(index=0, type="image", start=0, end=2, source=CLIP, fit=fit, width=100, height=50, x=10, y="center")
    assert filters in graph(compile_(scene(layer)))
    assert "overlay=x=10:y=65:" in graph(compile_(scene(layer)))


def test_opacity_fades_and_motion_become_filters_on_the_layers_time():
    image = Layer(index=0, type="image", start=0.5, end=2, source=CLIP, opacity=0.5, fade_in=0.25, fade_out=0.5)
    zoom = Layer(index=1, type="image", start=0, end=2, source=CLIP, motion="zoom-out")
    text = Layer(index=2, type="text", start=1, end=2, text="x", color="0xffffffff", opacity=0.8, fade_in=0.5)
    compiled = graph(compile_(scene(image, zoom, text)))

    assert (
        "format=rgba,colorchannelmixer=aa=0.5,fade=t=in:st=0.5:d=0.25:alpha=1,fade=t=out:st=1.5:d=0.5:alpha=1"
        in compiled
    )
    assert "enable='gte(t,0.5)*lt(t,2)'" in compiled
    assert "zoompan" in compiled and "format=" not in compiled.split("zoompan")[1].split("[l1]")[0]  # opaque: no alpha
    assert "zoompan=z='1.2-0.2*clip((it-0)/2,0,1)'" in compiled
    assert "alpha='0.8*clip((t-1)/0.5,0,1)'" in compiled


def test_wrapping_breaks_between_words_and_inside_a_word_too_long_for_a_line():
    font = media.dejavu()
    wrapped = text_wrap("one two three\nfour", font=font, size=20, max_width=90)
    assert wrapped.split("\n") == ["one two", "three", "four"]
    # Without a font to measure, a character is 0.6 em: ten of them fit 60 pixels at size 10.
    assert text_wrap("abcdefghijklmnop", font=None, size=10, max_width=60) == "abcdefghij\nklmnop"
    assert text_wrap("no font here", font=None, size=10, max_width=60) == "no font\nhere"  # 0.6 em a character


def test_gif_duration_is_the_sum_of_its_frame_delays(tmp_path):
    media.ffmpeg("-f", "lavfi", "-i", "testsrc=size=32x32:rate=4", "-t", 2, tmp_path / "a.gif")
    assert gif_duration_ms((tmp_path / "a.gif").read_bytes()) == 2000


def test_only_translucent_layers_get_an_alpha_plane():
    opaque = Layer(index=0, type="color", start=0, end=2, color="0xff0000ff")
    translucent = Layer(index=1, type="color", start=0, end=2, color="0xff000080")
    fading = Layer(index=2, type="video", start=0, end=2, source=CLIP, fade_out=1)
    compiled = graph(compile_(scene(opaque, translucent, fading)))

    assert "d=2[l0]" in compiled
    assert "d=2,format=yuva420p[l1]" in compiled
    assert "setpts=PTS+0/TB,format=yuva420p,fade=t=out:st=1:d=1:alpha=1[l2]" in compiled
