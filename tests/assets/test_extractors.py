"""Metadata extraction on real files that the tests make with ffmpeg and fontTools: pure, no database."""

import json

import pytest
from jsonschema import Draft202012Validator

from assets.extractors import TEMPLATE_META_SCHEMA, ExtractionError, extract_metadata
from assets.extractors.templates import TEMPLATE_MAX_BYTES
from tests.assets import media


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Every sample file, made once for the module (about a second of ffmpeg)."""
    root = tmp_path_factory.mktemp("extractors")
    made = {
        "video.mp4": media.make_video(root / "video.mp4"),
        "silent.mp4": media.make_video(root / "silent.mp4", audio=False),
        "odd.mp4": media.make_video(root / "odd.mp4", size=(321, 239), audio=False),
        "rotated.mp4": media.make_video(root / "rotated.mp4", rotate=90),
        "ntsc.mp4": media.make_video(root / "ntsc.mp4", fps="30000/1001", audio=False),
        "video.webm": media.make_video(root / "video.webm", seconds=2, size=(160, 120)),
        "audio.m4a": media.make_audio(root / "audio.m4a", seconds=1.5, sample_rate=44100, channels=2),
        "audio.mp3": media.make_audio(root / "audio.mp3", seconds=1.5, sample_rate=44100),
        "audio.opus": media.make_audio(root / "audio.opus", seconds=1.5),
        "audio.wav": media.make_audio(root / "audio.wav", seconds=1.5, sample_rate=22050),
        "image.png": media.make_image(root / "image.png", size=(64, 48)),
        "image.jpg": media.make_image(root / "image.jpg", size=(640, 480)),
        "image.gif": media.make_image(root / "image.gif", size=(33, 17)),
        "image.webp": media.make_image(root / "image.webp", size=(200, 150)),
        "text.txt": media.make_text_file(root / "text.txt"),
        "empty.mp4": media.make_text_file(root / "empty.mp4", ""),
        "variable.ttf": media.make_variable_font(root / "variable.ttf"),
        "collection.ttc": media.make_collection(
            root / "collection.ttc", media.dejavu("DejaVuSansMono.ttf"), media.dejavu("DejaVuSansMono-Bold.ttf")
        ),
        "font.woff": media.make_webfont(root / "font.woff", media.dejavu("DejaVuSerif-Italic.ttf"), flavor="woff"),
        "font.woff2": media.make_webfont(
            root / "font.woff2", media.dejavu("DejaVuSerif-Bold.ttf"), flavor="woff2", text="Renderowl 0123456789"
        ),
    }
    for name in (
        "video.mp4",
        "audio.mp3",
        "audio.wav",
        "image.png",
        "image.jpg",
        "image.gif",
        "image.webp",
        "font.woff",
        "font.woff2",
    ):
        made[f"truncated-{name}"] = media.make_truncated(made[name], root / f"truncated-{name}")
    made["truncated-font.ttf"] = media.make_truncated(media.dejavu(), root / "truncated-font.ttf")
    made["stub-font.ttf"] = media.make_truncated(media.dejavu(), root / "stub-font.ttf", keep=0.0001)
    # With the index (moov) at the end, as cameras write it, the cut removes every track.
    made["camera.mp4"] = root / "camera.mp4"
    media.ffmpeg("-i", made["video.mp4"], "-c", "copy", made["camera.mp4"])
    made["truncated-camera.mp4"] = media.make_truncated(made["camera.mp4"], root / "truncated-camera.mp4")
    return made


def extract(asset_type, path, content_type="application/octet-stream"):
    metadata = extract_metadata(asset_type=asset_type, path=path, content_type=content_type)
    assert json.loads(json.dumps(metadata)) == metadata  # returned to clients as is
    return metadata


def failure(asset_type, path, content_type="application/octet-stream"):
    with pytest.raises(ExtractionError) as raised:
        extract_metadata(asset_type=asset_type, path=path, content_type=content_type)
    return raised.value


# Video


def test_video_with_sound_reports_its_tracks(files):
    metadata = extract("video", files["video.mp4"], "video/mp4")
    assert metadata["durationMs"] == pytest.approx(1000, abs=50)
    assert metadata == {
        **metadata,
        "format": "mp4",
        "mimeType": "video/mp4",
        "width": 320,
        "height": 240,
        "displayWidth": 320,
        "displayHeight": 240,
        "rotation": 0,
        "fps": 25.0,
        "videoCodec": "h264",
        "audioCodec": "aac",
        "hasAudio": True,
        "sampleRate": 48000,
        "channels": 1,
    }
    assert 100_000 < metadata["bitrate"] < 5_000_000


def test_silent_video_has_no_audio_fields(files):
    metadata = extract("video", files["silent.mp4"])
    assert (metadata["hasAudio"], metadata["audioCodec"], metadata["sampleRate"], metadata["channels"]) == (
        False,
        None,
        None,
        None,
    )
    assert metadata["videoCodec"] == "h264"


def test_odd_frame_size_is_exact(files):
    metadata = extract("video", files["odd.mp4"])
    assert (metadata["width"], metadata["height"]) == (321, 239)


def test_rotated_phone_clip_reports_clockwise_rotation_and_display_size(files):
    metadata = extract("video", files["rotated.mp4"])
    assert metadata["rotation"] == 90
    assert (metadata["width"], metadata["height"]) == (320, 240)
    assert (metadata["displayWidth"], metadata["displayHeight"]) == (240, 320)


def test_fractional_frame_rate_is_kept(files):
    assert extract("video", files["ntsc.mp4"])["fps"] == 29.97


def test_webm_reports_vp9_and_opus(files):
    metadata = extract("video", files["video.webm"], "video/webm")
    assert (metadata["format"], metadata["videoCodec"], metadata["audioCodec"]) == ("webm", "vp9", "opus")
    assert metadata["durationMs"] == pytest.approx(2000, abs=50)
    assert (metadata["width"], metadata["height"], metadata["fps"]) == (160, 120, 25.0)


def test_truncated_mp4_fails_as_truncated(files):
    error = failure("video", files["truncated-video.mp4"], "video/mp4")
    assert error.code == "truncated_media"
    assert "cut off" in error.message and "Upload the complete file" in error.message


def test_truncated_mp4_with_index_at_the_end_fails_as_truncated_not_as_trackless(files):
    assert extract("video", files["camera.mp4"])["durationMs"] == pytest.approx(1000, abs=50)
    assert failure("video", files["truncated-camera.mp4"]).code == "truncated_media"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("text.txt", "recognises no media format"),
        ("audio.mp3", "upload it as an asset of type audio"),
        ("image.png", "upload it as an asset of type image"),
    ],
)
def test_a_file_without_a_video_track_is_not_a_video(files, name, says):
    error = failure("video", files[name])
    assert error.code == "not_a_video"
    assert says in error.message


def test_an_empty_file_fails_before_parsing(files):
    error = failure("video", files["empty.mp4"])
    assert error.code == "empty_file"


# Audio


@pytest.mark.parametrize(
    ("name", "codec", "container", "sample_rate", "channels"),
    [
        ("audio.m4a", "aac", "mp4", 44100, 2),
        ("audio.mp3", "mp3", "mp3", 44100, 1),
        ("audio.opus", "opus", "ogg", 48000, 1),
        ("audio.wav", "pcm", "wav", 22050, 1),
    ],
)
def test_audio_files_report_codec_rate_and_channels(files, name, codec, container, sample_rate, channels):
    metadata = extract("audio", files[name])
    assert metadata["durationMs"] == pytest.approx(1500, abs=60)  # mp3 rounds up to whole frames
    assert (metadata["audioCodec"], metadata["format"]) == (codec, container)
    assert (metadata["sampleRate"], metadata["channels"]) == (sample_rate, channels)
    assert metadata["bitrate"] > 0


def test_a_video_is_not_audio(files):
    error = failure("audio", files["video.mp4"], "audio/mp4")
    assert error.code == "not_audio"
    assert "-vn" in error.message


@pytest.mark.parametrize("name", ["truncated-audio.mp3", "truncated-audio.wav"])
def test_truncated_audio_fails_as_truncated(files, name):
    assert failure("audio", files[name]).code == "truncated_media"


# Images


@pytest.mark.parametrize(
    ("name", "image_format", "mime_type", "size"),
    [
        ("image.png", "png", "image/png", (64, 48)),
        ("image.jpg", "jpeg", "image/jpeg", (640, 480)),
        ("image.gif", "gif", "image/gif", (33, 17)),
        ("image.webp", "webp", "image/webp", (200, 150)),
    ],
)
def test_images_report_format_and_size(files, name, image_format, mime_type, size):
    metadata = extract("image", files[name], mime_type)
    assert metadata == {"format": image_format, "mimeType": mime_type, "width": size[0], "height": size[1]}


@pytest.mark.parametrize("name", ["image.png", "image.jpg", "image.gif", "image.webp"])
def test_truncated_images_fail_as_truncated(files, name):
    assert failure("image", files[f"truncated-{name}"]).code == "truncated_media"


@pytest.mark.parametrize("name", ["text.txt", "video.mp4", "audio.mp3"])
def test_anything_but_a_still_image_is_not_an_image(files, name):
    assert failure("image", files[name]).code == "not_an_image"


# Declared content type


@pytest.mark.parametrize(
    ("asset_type", "name", "content_type"),
    [
        ("video", "video.webm", "video/mp4"),
        ("video", "video.mp4", "audio/mp4"),
        ("audio", "audio.m4a", "video/mp4"),
        ("image", "image.png", "image/jpeg"),
        ("font", "font.woff", "application/font-woff"),
        ("image", "image.png", "application/octet-stream"),
    ],
)
def test_a_declared_type_of_the_same_kind_is_tolerated(files, asset_type, name, content_type):
    assert extract(asset_type, files[name], content_type)


@pytest.mark.parametrize(
    ("asset_type", "name", "content_type"),
    [("image", "image.png", "video/mp4"), ("video", "video.mp4", "image/png"), ("font", "font.woff", "audio/mpeg")],
)
def test_a_declared_type_of_another_kind_of_media_fails(files, asset_type, name, content_type):
    error = failure(asset_type, files[name], content_type)
    assert error.code == "content_type_mismatch"
    assert content_type in error.message


# Fonts


def test_truetype_font_names_weight_and_style():
    metadata = extract("font", media.dejavu("DejaVuSans.ttf"), "font/ttf")
    face = {
        "family": "DejaVu Sans",
        "subfamily": "Book",
        "fullName": "DejaVu Sans Book",
        "postscriptName": "DejaVuSans",
        "weight": 400,
        "italic": False,
        "isVariable": False,
        "axes": [],
        "namedInstances": [],
    }
    assert metadata == {"format": "ttf", **face, "variants": [face]}


def test_bold_oblique_face_is_heavy_and_italic():
    metadata = extract("font", media.dejavu("DejaVuSans-BoldOblique.ttf"))
    assert (metadata["subfamily"], metadata["weight"], metadata["italic"]) == ("Bold Oblique", 700, True)


def test_variable_font_reports_axes_and_named_instances(files):
    metadata = extract("font", files["variable.ttf"])
    assert metadata["isVariable"] is True
    assert (metadata["family"], metadata["postscriptName"]) == ("Renderowl Test", "RenderowlTest-Regular")
    assert metadata["axes"] == [{"tag": "wght", "name": "Weight", "min": 100, "default": 400, "max": 900}]
    assert metadata["namedInstances"] == [
        {"name": "Thin", "coordinates": {"wght": 100}},
        {"name": "Black", "coordinates": {"wght": 900}},
    ]


def test_collection_lists_every_face_and_leads_with_the_first(files):
    metadata = extract("font", files["collection.ttc"], "font/collection")
    assert metadata["format"] == "ttc"
    assert [variant["fullName"] for variant in metadata["variants"]] == [
        "DejaVu Sans Mono Book",
        "DejaVu Sans Mono Bold",
    ]
    assert [variant["weight"] for variant in metadata["variants"]] == [400, 700]
    assert (metadata["fullName"], metadata["weight"]) == ("DejaVu Sans Mono Book", 400)


@pytest.mark.parametrize(
    ("name", "font_format", "full_name", "weight", "italic"),
    [("font.woff", "woff", "DejaVu Serif Italic", 400, True), ("font.woff2", "woff2", "DejaVu Serif Bold", 700, False)],
)
def test_web_fonts_are_read_through_their_compression(files, name, font_format, full_name, weight, italic):
    metadata = extract("font", files[name], f"font/{font_format}")
    assert (metadata["format"], metadata["fullName"], metadata["weight"], metadata["italic"]) == (
        font_format,
        full_name,
        weight,
        italic,
    )


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("truncated-font.ttf", "runs past the end of the file"),
        ("stub-font.ttf", "fontTools cannot read it"),
        ("truncated-font.woff", "runs past the end of the file"),
        ("truncated-font.woff2", "fontTools cannot read it"),
        ("text.txt", "not a TrueType, OpenType, WOFF, WOFF2 or TTC/OTC font"),
        ("video.mp4", "not a TrueType, OpenType, WOFF, WOFF2 or TTC/OTC font"),
    ],
)
def test_corrupt_or_foreign_files_are_invalid_fonts(files, name, says):
    error = failure("font", files[name])
    assert error.code == "invalid_font"
    assert says in error.message


# Templates


def template_file(tmp_path, document):
    return media.write_template(tmp_path / "template.json", document)


def template_failure(tmp_path, document):
    return failure("template", template_file(tmp_path, document), "application/json")


def test_meta_schema_is_valid_2020_12_and_accepts_the_design_example():
    Draft202012Validator.check_schema(TEMPLATE_META_SCHEMA)
    Draft202012Validator(TEMPLATE_META_SCHEMA).validate(media.title_card_template())
    Draft202012Validator(TEMPLATE_META_SCHEMA).validate(media.remotion_template())


def test_ffmpeg_template_metadata(tmp_path):
    metadata = extract("template", template_file(tmp_path, media.title_card_template()), "application/json")
    assert metadata == {
        "engine": "ffmpeg",
        "composition": "title-card",
        "width": 1280,
        "height": 720,
        "fps": 30,
        "durationInFrames": 150,
        "durationMs": 5000,
        "inputSchema": media.TITLE_CARD["inputSchema"],
        "defaultProps": {"title": "Hello"},
        "assetProps": {"clip": "video", "music": "audio", "font": "font"},
        "layerCount": 3,
        "scene": media.TITLE_CARD["scene"],
    }


def test_remotion_template_metadata(tmp_path):
    metadata = extract("template", template_file(tmp_path, media.remotion_template()))
    assert (metadata["engine"], metadata["composition"], metadata["durationMs"]) == ("remotion", "Promo", 10010)
    assert metadata["serveUrl"] == "https://bundles.example.com/promo/index.html"
    assert metadata["assetProps"] == {"logo": "image"}
    assert "layerCount" not in metadata and "scene" not in metadata


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"engine": "ffmpeg",', "line 1, column 21"),
        (b'{"engine": "ffmpeg"} trailing', "Extra data"),
        (b'{"fps": NaN}', "NaN is not a JSON number"),
        (b'{"width": 1, "width": 2}', "'width' appears twice"),
        ('{"composition": "caf\u00e9"}'.encode("latin-1"), "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_json_is_invalid_json(tmp_path, raw, says):
    path = tmp_path / "template.json"
    path.write_bytes(raw)
    error = failure("template", path)
    assert error.code == "invalid_json"
    assert says in error.message


def test_template_nested_too_deeply_to_validate_is_refused(tmp_path):
    template = media.title_card_template()
    deep = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"inner": deep}}
    template["inputSchema"]["properties"]["deep"] = deep
    error = template_failure(tmp_path, template)
    assert error.code == "invalid_template"
    assert "more than 64 levels deep" in error.message


def test_template_over_the_size_limit_is_refused_unparsed(tmp_path):
    path = tmp_path / "template.json"
    path.write_bytes(b"{}" + b" " * TEMPLATE_MAX_BYTES)
    assert failure("template", path).code == "template_too_large"


def without(document, *path):
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    del target[last]
    return document


def changed(document, value, *path):
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    target[last] = value
    return document


@pytest.mark.parametrize(
    ("mangle", "says"),
    [
        (lambda t: without(t, "scene"), "$: 'scene' is a required property"),
        (lambda t: changed(t, "1280", "width"), "$.width: '1280' is not of type 'integer'"),
        (lambda t: changed(t, "vlc", "engine"), "$.engine: 'vlc' is not one of"),
        (lambda t: changed(t, 12, "durationInFrame"), "'durationInFrame' was unexpected"),
        (
            lambda t: changed(t, "sticker", "scene", "layers", 1, "type"),
            "$.scene.layers[1].type: 'sticker' is not one of",
        ),
        (lambda t: changed(t, "left", "scene", "layers", 1, "x"), "$.scene.layers[1].x: 'center' was expected"),
        (
            lambda t: changed(t, 5, "scene", "layers", 2, "volume"),
            "$.scene.layers[2].volume: 5 is greater than the maximum of 1",
        ),
        (
            lambda t: changed(t, "white", "scene", "layers", 1, "color"),
            "$.scene.layers[1].color: 'white' does not match",
        ),
        (lambda t: without(t, "scene", "layers", 0, "src"), "$.scene.layers[0]: 'src' is a required property"),
        (
            lambda t: changed(t, 2, "scene", "layers", 0, "speed"),
            "$.scene.layers[0]: Additional properties are not allowed ('speed'",
        ),
        (lambda t: changed(t, 1, "scene", "layers", 0, "loop"), "$.scene.layers[0].loop: 1 is not of type 'boolean'"),
        (
            lambda t: changed(t, 1.5, "scene", "layers", 1, "opacity"),
            "$.scene.layers[1].opacity: 1.5 is greater than the maximum of 1",
        ),
        (
            lambda t: changed(t, -1, "scene", "layers", 0, "fadeIn"),
            "$.scene.layers[0].fadeIn: -1 is less than the minimum of 0",
        ),
        (
            lambda t: changed(t, -2, "scene", "layers", 2, "trimStart"),
            "$.scene.layers[2].trimStart: -2 is less than the minimum of 0",
        ),
        (
            lambda t: changed(t, "justify", "scene", "layers", 1, "align"),
            "$.scene.layers[1].align: 'justify' is not one of ['left', 'center', 'right']",
        ),
        (
            lambda t: changed(t, {"color": "#000", "radius": 4}, "scene", "layers", 1, "box"),
            "$.scene.layers[1].box: Additional properties are not allowed ('radius'",
        ),
        (
            lambda t: changed(t, 0, "scene", "layers", 1, "maxWidth"),
            "$.scene.layers[1].maxWidth: 0 is less than or equal to the minimum of 0",
        ),
        (
            lambda t: changed(t, "pan", "scene", "layers", 0, "motion"),
            "$.scene.layers[0]: Additional properties are not allowed ('motion'",
        ),
        (
            lambda t: changed(t, {"type": "image", "src": "{{clip}}", "motion": "spin"}, "scene", "layers", 0),
            "$.scene.layers[0].motion: 'spin' is not one of ['zoom-in', 'zoom-out']",
        ),
        (
            lambda t: changed(t, 0.5, "scene", "layers", 2, "muted"),
            "$.scene.layers[2]: Additional properties are not allowed ('muted'",
        ),
        (
            lambda t: changed(changed(t, 3, "scene", "layers", 1, "fadeIn"), 1.5, "scene", "layers", 1, "fadeOut"),
            "$.scene.layers[1]: fadeIn + fadeOut (4.5 s) is longer than the layer shows (4 s",
        ),
        (
            lambda t: changed(t, "https://x.example/b", "serveUrl"),
            "$.serveUrl: only remotion templates have a serveUrl",
        ),
        (lambda t: changed(t, "array", "inputSchema", "type"), "$.inputSchema.type: 'object' was expected"),
        (
            lambda t: changed(t, "strin", "inputSchema", "properties", "title", "type"),
            "$.inputSchema.properties.title.type",
        ),
        (
            lambda t: changed(t, "movie", "inputSchema", "properties", "clip", "x-renderowl-asset"),
            "$.inputSchema.properties.clip['x-renderowl-asset']: 'movie' is not one of ['video', 'image', 'audio',",
        ),
        (
            lambda t: changed(t, "number", "inputSchema", "properties", "clip", "type"),
            "$.inputSchema.properties.clip.type: 'string' was expected",
        ),
        (
            lambda t: changed(
                t,
                {"type": "array", "items": {"type": "string", "x-renderowl-asset": "image"}},
                "inputSchema",
                "properties",
                "gallery",
            ),
            "$.inputSchema.properties.gallery.items: x-renderowl-asset is only honoured on a property",
        ),
        (
            lambda t: changed(t, {"$ref": "https://example.com/title.json"}, "inputSchema", "properties", "title"),
            "$.inputSchema.properties.title['$ref']: 'https://example.com/title.json' points outside the template",
        ),
        (
            lambda t: changed(t, {"$ref": "#/$defs/missing"}, "inputSchema", "properties", "title"),
            "'#/$defs/missing' points to nothing in inputSchema",
        ),
        (lambda t: changed(t, "H" * 81, "defaultProps", "title"), "$.defaultProps.title: 'HHH"),
        (
            lambda t: changed(t, 1e-300, "fps"),
            "$.durationInFrames: 150 frames at 1e-300 fps last 1.5e+302 s, longer than the 600 s a template may last",
        ),
        (
            lambda t: changed(t, 18_001, "durationInFrames"),
            "$.durationInFrames: 18001 frames at 30 fps last 600.033 s, longer than the 600 s",
        ),
        (
            lambda t: changed(t, 1e9, "scene", "layers", 0, "width"),
            "$.scene.layers[0].width: 1000000000.0 is greater than the maximum of 16384",
        ),
        (
            lambda t: changed(t, -1e9, "scene", "layers", 1, "x"),
            "$.scene.layers[1].x: -1000000000.0 is less than the minimum of -16384",
        ),
        (
            lambda t: changed(t, 0.5, "scene", "layers", 1, "end"),
            "$.scene.layers[1].end: 0.5 must be after start (0.5)",
        ),
        (
            lambda t: changed(t, 5, "scene", "layers", 2, "start"),
            "$.scene.layers[2].start: 5 s is not before the composition's end (5 s",
        ),
    ],
)
def test_schema_violations_name_the_json_path(tmp_path, mangle, says):
    error = template_failure(tmp_path, mangle(media.title_card_template()))
    assert error.code == "invalid_template"
    assert says in error.message


@pytest.mark.parametrize(
    ("mangle", "says"),
    [
        (lambda t: without(t, "serveUrl"), "$: 'serveUrl' is a required property"),
        (lambda t: changed(t, {"layers": []}, "scene"), "$.scene: only ffmpeg templates have a scene"),
        (
            lambda t: changed(t, "ftp://bundles.example.com/", "serveUrl"),
            "$.serveUrl: 'ftp://bundles.example.com/' does not match",
        ),
    ],
)
def test_remotion_template_violations(tmp_path, mangle, says):
    error = template_failure(tmp_path, mangle(media.remotion_template()))
    assert error.code == "invalid_template"
    assert says in error.message


def test_binding_to_a_prop_the_schema_lacks_names_binding_and_layer(tmp_path):
    template = changed(media.title_card_template(), "{{title}}: {{ subtitle }}", "scene", "layers", 1, "text")
    error = template_failure(tmp_path, template)
    assert error.code == "unknown_binding"
    assert "{{subtitle}}" in error.message and "layer 1 (text)" in error.message


def test_background_binding_is_checked_too(tmp_path):
    error = template_failure(tmp_path, changed(media.title_card_template(), "{{brandColor}}", "scene", "background"))
    assert (error.code, "{{brandColor}}" in error.message) == ("unknown_binding", True)


def test_asset_binding_of_the_wrong_type_is_refused(tmp_path):
    error = template_failure(tmp_path, changed(media.title_card_template(), "{{music}}", "scene", "layers", 0, "src"))
    assert error.code == "binding_type_mismatch"
    assert "layer 0" in error.message.lower() and "{{music}}" in error.message
    assert "takes an asset of type audio and src here needs video" in error.message


def test_a_clips_soundtrack_may_feed_an_audio_layer(tmp_path):
    template = changed(media.title_card_template(), "{{clip}}", "scene", "layers", 2, "src")
    assert extract("template", template_file(tmp_path, template))["layerCount"] == 3


def test_every_scene_field_of_the_built_in_engine_is_accepted(tmp_path):
    template = media.title_card_template()
    template["inputSchema"]["properties"]["photo"] = {"type": "string", "x-renderowl-asset": "image"}
    template["inputSchema"]["properties"]["boxColor"] = {"type": "string"}
    video, text, audio = template["scene"]["layers"]
    video.update(trimStart=1.5, loop=True, muted=False, volume=0.5, opacity=0.9, fadeIn=0.5, fadeOut=0.5)
    text.update(align="left", maxWidth=900, box={"color": "{{boxColor}}", "padding": 12}, fadeIn=1, fadeOut=1)
    audio.update(trimStart=2, loop=True, fadeIn=1, fadeOut=2)
    template["scene"]["layers"] += [
        {"type": "image", "src": "{{photo}}", "fit": "contain", "motion": "zoom-out", "opacity": 0.5, "end": 2},
        {"type": "color", "color": "#ff000080", "width": 100, "height": 50, "fadeIn": 0.25, "fadeOut": 0.25},
    ]
    assert extract("template", template_file(tmp_path, template))["layerCount"] == 5


@pytest.mark.parametrize(
    ("where", "url", "says"),
    [
        ((0, "src"), "http://169.254.169.254/latest/meta-data/", "The URL's host is not a public address"),
        ((0, "src"), "https://user:pw@cdn.example.com/clip.mp4", "The URL must not carry credentials"),
        ((0, "src"), "file:///etc/passwd", "Must be an http:// or https:// URL"),
        ((0, "src"), "/srv/storage/clip.mp4", "Must be an http:// or https:// URL"),
        ((1, "font"), "http://[::1]/font.ttf", "The URL's host is not a public address"),
    ],
)
def test_a_url_written_in_the_scene_must_be_one_the_renderer_may_fetch(tmp_path, settings, where, url, says):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    error = template_failure(tmp_path, changed(media.title_card_template(), url, "scene", "layers", *where))
    assert error.code == "invalid_template"
    assert f"$.scene.layers[{where[0]}].{where[1]}: {says}" in error.message
    assert error.message.endswith("; use a public http(s) URL or an asset id.")


def test_urls_that_need_dns_to_judge_and_asset_ids_are_left_to_the_renderer(tmp_path):
    template = media.title_card_template()
    template["scene"]["layers"][0]["src"] = "https://cdn.example.com/clip.mp4"
    template["scene"]["layers"][1]["font"] = "ast_font"
    template["scene"]["layers"][2]["src"] = "http://localhost:8000/music.m4a"
    assert extract("template", template_file(tmp_path, template))["layerCount"] == 3


def test_a_binding_in_the_text_box_is_checked(tmp_path):
    template = changed(media.title_card_template(), {"color": "{{shade}}"}, "scene", "layers", 1, "box")
    error = template_failure(tmp_path, template)
    assert error.code == "unknown_binding"
    assert "layer 1 (text), field box.color, binds {{shade}}" in error.message


def test_template_declared_as_media_is_a_mismatch(tmp_path):
    error = failure("template", template_file(tmp_path, media.title_card_template()), "video/mp4")
    assert error.code == "content_type_mismatch"


# Templates: bounds on customer input


def test_a_catastrophic_pattern_is_answered_at_once(tmp_path):
    # With a backtracking engine each extra `a` doubles the time: 28 took 8.8 s, these 64 would take centuries.
    template = changed(media.title_card_template(), {"type": "string", "pattern": "^(a+)+$"}, "inputSchema",
                       "properties", "title")
    template["defaultProps"]["title"] = "a" * 64 + "!"
    error = template_failure(tmp_path, template)
    assert error.code == "invalid_template"
    assert f"$.defaultProps.title: '{'a' * 64}!' does not match '^(a+)+$'" in error.message


@pytest.mark.parametrize(
    ("where", "schema", "says"),
    [
        (
            "title",
            {"type": "string", "pattern": "^(\\w)\\1$"},
            "$.inputSchema.properties.title.pattern: '^(\\\\w)\\\\1$' is not a regex RE2 can run (invalid escape "
            "sequence: \\1); patterns are evaluated by RE2",
        ),
        (
            "tags",
            {"type": "object", "patternProperties": {"^(?!x)": {"type": "string"}}},
            "$.inputSchema.properties.tags.patternProperties: '^(?!x)' is not a regex RE2 can run (invalid perl "
            "operator: (?!)",
        ),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_naming_it(tmp_path, where, schema, says):
    error = template_failure(tmp_path, changed(media.title_card_template(), schema, "inputSchema", "properties", where))
    assert error.code == "invalid_template"
    assert says in error.message
    assert "backreferences or lookaround" in error.message


def test_a_default_that_is_not_a_regex_re2_can_run_is_refused(tmp_path):
    template = changed(media.title_card_template(), {"type": "string", "format": "regex"}, "inputSchema",
                       "properties", "filter")
    template["defaultProps"]["filter"] = "(?<=a)b"
    error = template_failure(tmp_path, template)
    assert error.code == "invalid_template"
    assert "$.defaultProps.filter: '(?<=a)b' is not a regex RE2 can run" in error.message


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("1" * 4301, "11111111111111111111… (4301 characters)"),
        ("9007199254740993", "9007199254740993"),
        ("-9007199254740993", "-9007199254740993"),
        ("1e400", "1e400"),
        ("-1E+999", "-1E+999"),
    ],
)
def test_numbers_json_cannot_carry_exactly_are_refused_naming_their_path(tmp_path, number, shown):
    path = tmp_path / "template.json"
    text = json.dumps(media.title_card_template()).replace('"defaultProps": {', f'"defaultProps": {{"n": [1, {number}], ')
    path.write_text(text)
    error = failure("template", path)
    assert error.code == "invalid_template"
    assert f"$.defaultProps.n[1]: {shown} is not a number JSON carries exactly" in error.message


def test_integers_up_to_2_to_the_53_are_kept_exactly(tmp_path):
    template = changed(media.title_card_template(), {"type": "integer"}, "inputSchema", "properties", "seed")
    template["defaultProps"]["seed"] = -(2**53)
    assert extract("template", template_file(tmp_path, template))["defaultProps"]["seed"] == -(2**53)


def test_the_longest_duration_is_a_setting(tmp_path, settings):
    settings.TEMPLATE_MAX_DURATION_SECONDS = 4
    error = template_failure(tmp_path, media.title_card_template())  # 150 frames at 30 fps: 5 s
    assert error.code == "invalid_template"
    assert "$.durationInFrames: 150 frames at 30 fps last 5 s, longer than the 4 s a template may last" in error.message


def test_a_prop_required_without_a_default_is_fine(tmp_path):
    template = media.title_card_template()
    template["inputSchema"]["required"] = ["title", "clip"]
    template["inputSchema"]["minProperties"] = 3
    template["defaultProps"] = {}
    assert extract("template", template_file(tmp_path, template))["defaultProps"] == {}


@pytest.mark.parametrize(
    ("schema", "defaults", "says"),
    [
        (
            {"type": "object", "properties": {"n": {"$ref": "#/$defs/count"}}, "$defs": {"count": {"minimum": 1}}},
            {"n": 0},
            "$.defaultProps.n: 0 is less than the minimum of 1",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "object", "required": ["x"]}}},
            {"n": {}},
            "$.defaultProps.n: 'x' is a required property",
        ),
        (
            {"type": "object", "patternProperties": {"^n_": {"type": "integer"}}},
            {"n_1": "one"},
            "$.defaultProps.n_1: 'one' is not of type 'integer'",
        ),
        (
            {"type": "object", "properties": {"n": {}}, "additionalProperties": {"type": "boolean"}},
            {"other": 1},
            "$.defaultProps.other: 1 is not of type 'boolean'",
        ),
        (
            {"type": "object", "properties": {"n": {}}, "additionalProperties": False},
            {"other": 1},
            "$.defaultProps.other: 'other' is not a property of inputSchema, which allows no others",
        ),
        (
            {"type": "object", "propertyNames": {"maxLength": 3}},
            {"long": 1},
            "$.defaultProps.long: the name 'long' is too long",
        ),
        (
            {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True}}},
            {"tags": [{"a": 1}, {"a": 1.0}]},
            "$.defaultProps.tags: [{'a': 1}, {'a': 1.0}] has non-unique elements",
        ),
    ],
)
def test_each_default_is_checked_against_the_schema_of_its_property(tmp_path, schema, defaults, says):
    template = media.remotion_template()
    # `required` waits for a render's merged props, but each default's own schema applies now.
    template["inputSchema"], template["defaultProps"] = {**schema, "required": ["clip"]}, defaults
    error = template_failure(tmp_path, template)
    assert error.code == "invalid_template"
    assert says in error.message


def test_a_ref_that_loops_on_the_same_value_is_refused(tmp_path):
    template = changed(media.title_card_template(), {"$ref": "#/properties/loop"}, "inputSchema", "properties", "loop")
    template["defaultProps"]["loop"] = 1
    error = template_failure(tmp_path, template)
    assert error.code == "invalid_template"
    assert "a $ref leads back to itself for the same value" in error.message


def test_bindings_are_found_in_linear_time(tmp_path):
    # Python's re took cubic time over this pattern: minutes for a text field of `{{` and 5000 spaces.
    template = changed(media.title_card_template(), "{{" + " " * 4990 + "x", "scene", "layers", 1, "text")
    assert extract("template", template_file(tmp_path, template))["layerCount"] == 3
