"""Resolving a template's scene against a render's props and sources (no ffmpeg involved)."""

import pytest

from renders.engines.base import EngineError
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
    return scene_resolve(input=input, sources=sources or {}, workdir=workdir)


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


def test_a_url_prop_is_a_source_and_an_asset_id_prop_resolves_through_sources(tmp_path):
    (tmp_path / "a.png").write_bytes(b"png")
    layers = [{"type": "image", "src": "{{url}}"}, {"type": "image", "src": "{{photo}}"}]
    props = {"url": "https://cdn.example.com/a.png", "photo": "ast_photo"}
    scene = resolve(layers, props=props, sources={"ast_photo": str(tmp_path / "a.png")}, workdir=tmp_path)
    assert [(layer.source.location, layer.source.is_url) for layer in scene.layers] == [
        ("https://cdn.example.com/a.png", True),
        (str((tmp_path / "a.png").resolve()), False),
    ]
