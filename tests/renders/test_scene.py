"""Resolving a template's scene against a render's props and sources (no ffmpeg involved)."""

import pytest

from renders.engines.base import EngineError
from renders.engines.fetch import SourceFetcher
from renders.engines.scene import scene_resolve
from renders.inputs import OutputSpec, RenderInput

pytestmark = pytest.mark.usefixtures("storage_root")  # inputs are read from the media's storage root


def resolve(layers, *, props=None, sources=None, workdir, background="#000", seconds=2):
    template = {
        "engine": "ffmpeg",
        "width": 320,
        "height": 180,
        "fps": 10,
        "durationInFrames": seconds * 10,
        "inputSchema": {"type": "object"},
        "scene": {"background": background, "layers": layers},
    }
    input = RenderInput(
        engine="ffmpeg",
        template_id="ast_t",
        template=template,
        props=props or {},
        assets={},
        output=OutputSpec(format="mp4", width=320, height=180, fps=10),
    )
    fetcher = SourceFetcher(workdir=workdir)
    try:
        return scene_resolve(input=input, sources=sources or {}, workdir=workdir, fetch=fetcher.fetch)
    finally:
        fetcher.close()


def test_text_bindings_take_each_props_value_as_text_once(tmp_path):
    props = {"n": 3, "x": 2.5, "ok": True, "title": "{{n}} stays"}
    scene = resolve(
        [{"type": "text", "text": "{{n}}/{{ x }}/{{ok}}/{{title}}/{{missing}}."}], props=props, workdir=tmp_path
    )
    assert scene.layers[0].text == "3/2.5/true/{{n}} stays/."


def test_colours_resolve_from_bindings_to_ffmpeg_notation(tmp_path):
    layers = [{"type": "color", "color": "{{brand}}"}, {"type": "text", "text": "t", "box": {"color": "#00000088"}}]
    scene = resolve(layers, props={"brand": "#FF8000"}, background="#abc", workdir=tmp_path)
    assert (scene.background, scene.layers[0].color, scene.layers[1].box_color) == (
        "0xaabbccff",
        "0xff8000ff",
        "0x00000088",
    )


@pytest.mark.parametrize("value", ["red", "#ff0000:x=1", "0xff0000", 12])
def test_a_bound_colour_that_is_not_a_colour_is_refused(tmp_path, value):
    with pytest.raises(EngineError) as caught:
        resolve([{"type": "color", "color": "{{brand}}"}], props={"brand": value}, workdir=tmp_path)
    assert caught.value.code == "invalid_scene"
    assert "use #rgb, #rrggbb or #rrggbbaa" in caught.value.message


def test_words_that_reach_the_graph_are_checked_again(tmp_path):
    with pytest.raises(EngineError, match='align is "l\':x=1"; use one of left, center, right'):
        resolve([{"type": "text", "text": "t", "align": "l':x=1"}], workdir=tmp_path)


def test_layer_times_are_clamped_to_the_composition_and_empty_layers_dropped(tmp_path):
    layers = [
        {"type": "color", "color": "#fff", "start": 1, "end": 60},
        {"type": "color", "color": "#fff", "start": 5},
        {"type": "text", "text": "{{blank}}"},
    ]
    scene = resolve(layers, props={"blank": "  "}, workdir=tmp_path)
    assert [(layer.index, layer.start, layer.end) for layer in scene.layers] == [(0, 1.0, 2.0)]


def test_a_bound_source_needs_a_value(tmp_path):
    with pytest.raises(EngineError, match=r"binds \{\{clip\}\}, which has no value"):
        resolve([{"type": "video", "src": "{{clip}}"}], workdir=tmp_path)


def test_a_url_is_downloaded_into_the_workdir_and_an_asset_id_prop_resolves_through_sources(
    tmp_path, media_server, media_root, settings
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the media server listens on 127.0.0.1
    layers = [
        {"type": "image", "src": "{{url}}"},
        {"type": "image", "src": "{{photo}}"},
        {"type": "video", "src": f"{media_server}/clip.mp4"},
        {"type": "video", "src": f"{media_server}/silent.mp4"},
    ]
    props = {"url": f"{media_server}/red.png", "photo": "ast_photo"}
    sources = {"ast_photo": str(media_root / "red.png")}
    scene = resolve(layers, props=props, sources=sources, workdir=tmp_path)

    assert [(layer.source.location, layer.source.is_url, layer.source.has_audio) for layer in scene.layers] == [
        (str(tmp_path.resolve() / "source_0.png"), False, False),
        (str((media_root / "red.png").resolve()), False, False),
        (str(tmp_path.resolve() / "source_1.mp4"), False, True),  # probed once downloaded: its sound is mixed
        (str(tmp_path.resolve() / "source_2.mp4"), False, False),
    ]
    assert (tmp_path / "source_0.png").read_bytes() == (media_root / "red.png").read_bytes()


@pytest.mark.parametrize(
    "value", ["/etc/hostname", "file:///etc/hostname", "concat:/a|/b", "clip.mp4", "ast_unknown", "//example.com/a"]
)
def test_a_customer_value_that_is_not_an_http_url_is_refused_naming_the_prop(tmp_path, storage_root, value):
    with pytest.raises(EngineError) as caught:
        resolve([{"type": "image", "src": "{{photo}}"}], props={"photo": value}, workdir=tmp_path)
    assert caught.value.code == "source_not_allowed"
    assert caught.value.message.startswith("inputProps.photo (bound at scene.layers[0].src) is not an http(s) URL")


def test_a_path_inside_asset_storage_is_refused_when_a_customer_writes_it(tmp_path, storage_root):
    # Only the platform's sources may be paths: a customer naming a stored file reads no one's asset.
    with pytest.raises(EngineError) as caught:
        resolve([{"type": "image", "src": str(storage_root / "red.png")}], workdir=tmp_path)
    assert caught.value.code == "source_not_allowed"
    assert caught.value.message.startswith("scene.layers[0].src is not an http(s) URL")
