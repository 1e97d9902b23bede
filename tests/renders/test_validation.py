"""Resolving a render submission: real templates and assets uploaded through the API, judged by the service."""

import pytest

from assets.models import Asset
from renderowl.errors import Conflict, Invalid, NotFound, Unprocessable
from renderowl.tenancy import tenant_context
from renders.inputs import AssetRef, OutputSpec
from renders.validation import render_input_resolve
from tests.assets import media
from tests.renders.conftest import upload, upload_media, upload_template


def resolve(tenant, project, template_id, input_props=None, **kwargs):
    with tenant_context(tenant.id):
        return render_input_resolve(
            organization_id=tenant.id, project_id=project["id"], template_id=template_id,
            input_props={} if input_props is None else input_props, **kwargs,
        )


def refused(error_class, tenant, project, template_id, input_props=None, **kwargs):
    with pytest.raises(error_class) as caught:
        resolve(tenant, project, template_id, input_props, **kwargs)
    return caught.value


def template_with(input_schema, default_props=None, **changes):
    """An ffmpeg template with one text layer and the given inputSchema (and defaultProps)."""
    return {
        "engine": "ffmpeg", "width": 1280, "height": 720, "fps": 30, "durationInFrames": 150,
        "inputSchema": input_schema, "defaultProps": default_props or {},
        "scene": {"layers": [{"type": "text", "text": "Hi", "start": 0, "end": 1}]},
        **changes,
    }


@pytest.fixture
def project(tenant):
    return tenant.create_project(name="Renders")


@pytest.fixture
def title_card(tenant, project):
    template = upload_template(tenant, project["id"], media.title_card_template())
    assert template["status"] == "ready", template
    return template


# A successful resolution


def test_a_submission_resolves_to_merged_props_its_assets_and_the_templates_output(
    tenant, project, title_card, media_files
):
    clip, music, font = (upload_media(tenant, project["id"], kind, media_files) for kind in ("video", "audio", "font"))

    resolved = resolve(
        tenant, project, title_card["id"], {"clip": clip["id"], "music": music["id"], "font": font["id"]},
        livemode=False,
    )

    assert (resolved.engine, resolved.template_id, resolved.livemode) == ("ffmpeg", title_card["id"], False)
    assert resolved.props == {"title": "Hello", "clip": clip["id"], "music": music["id"], "font": font["id"]}
    assert resolved.output == OutputSpec(format="mp4", width=1280, height=720, fps=30, quality="standard", frame=None)
    assert resolved.template == media.TITLE_CARD
    assert resolved.duration_seconds == 5
    with tenant_context(tenant.id):
        stored = {asset.id: asset for asset in Asset.objects.filter(pk__in=[clip["id"], music["id"], font["id"]])}
    assert resolved.assets == {
        name: AssetRef(id=asset["id"], type=kind, content_type=asset["contentType"],
                       storage_key=stored[asset["id"]].storage_key, metadata=stored[asset["id"]].metadata)
        for name, kind, asset in (("clip", "video", clip), ("music", "audio", music), ("font", "font", font))
    }


def test_input_props_win_over_defaults_and_optional_asset_props_may_be_left_out(tenant, project, title_card):
    resolved = resolve(tenant, project, title_card["id"], {"title": "Launch day"})

    assert resolved.props == {"title": "Launch day"}
    assert resolved.assets == {}
    assert resolved.livemode is True


def test_the_output_takes_what_is_asked_and_the_rest_from_the_template(tenant, project, title_card):
    asked = {"format": "webm", "width": 640, "fps": 24, "quality": "high"}

    assert resolve(tenant, project, title_card["id"], output=asked).output == OutputSpec(
        format="webm", width=640, height=360, fps=24, quality="high"
    )
    assert resolve(tenant, project, title_card["id"], output={"format": "png"}).output == OutputSpec(
        format="png", width=1280, height=720, fps=30, frame=0
    )
    assert resolve(tenant, project, title_card["id"], output={"format": "jpg", "frame": 149}).output.frame == 149
    # A gif has no chroma subsampling: an odd size is fine.
    assert resolve(tenant, project, title_card["id"], output={"format": "gif", "height": 241}).output == OutputSpec(
        format="gif", width=428, height=241, fps=30
    )


def test_an_odd_size_taken_from_the_template_is_rounded_down_to_even_for_mp4(tenant, project):
    template = upload_template(tenant, project["id"], template_with({"type": "object"}, width=1281, height=721))

    output = resolve(tenant, project, template["id"]).output
    assert (output.width, output.height) == (1280, 720)
    assert resolve(tenant, project, template["id"], output={"width": 1000}).output.height == 562  # 562.9 rounded down
    assert resolve(tenant, project, template["id"], output={"format": "png"}).output.width == 1281


def test_a_template_without_its_scene_in_metadata_is_read_from_storage(tenant, project, title_card, asset_storage):
    # A template processed before scenes were kept in metadata.
    with tenant_context(tenant.id):
        asset = Asset.objects.get(pk=title_card["id"])
        asset.metadata = {key: value for key, value in asset.metadata.items() if key != "scene"}
        asset.save(update_fields=["metadata"])

    assert resolve(tenant, project, title_card["id"]).template["scene"] == media.TITLE_CARD["scene"]

    (asset_storage / asset.storage_key).unlink()
    error = refused(Conflict, tenant, project, title_card["id"])
    assert (error.code, error.field) == ("template_unreadable", "templateId")
    assert "upload the template again as a new asset" in error.detail


def test_a_remotion_template_resolves_once_a_remotion_server_is_configured(tenant, project, settings):
    template = upload_template(tenant, project["id"], media.remotion_template())
    settings.REMOTION_SERVER_URL = "http://remotion.internal:3000"

    resolved = resolve(tenant, project, template["id"], {"headline": "Sale"})

    assert (resolved.engine, resolved.template["serveUrl"]) == ("remotion", media.REMOTION_PROMO["serveUrl"])
    assert "scene" not in resolved.template
    assert resolved.output.fps == 29.97


# The template


def test_a_template_the_project_does_not_have_is_not_found_whoever_has_it(
    tenant, other_tenant, project, title_card, media_files
):
    others = other_tenant.create_project(name="Theirs")
    theirs = upload_template(other_tenant, others["id"], media.title_card_template())
    sibling = tenant.create_project(name="Sibling")
    in_sibling = upload_template(tenant, sibling["id"], media.title_card_template())
    video = upload_media(tenant, project["id"], "video", media_files)

    details = {}
    for label, template_id in (
        ("missing", "ast_doesnotexist0000000000000"), ("other organization", theirs["id"]),
        ("other project", in_sibling["id"]), ("not a template", video["id"]), ("not a string", 42),
    ):
        error = refused(NotFound, tenant, project, template_id)
        assert (error.code, error.field) == ("not_found", "templateId"), label
        details[label] = error.detail.replace(repr(template_id), "<id>")
    assert len(set(details.values())) == 1, details
    assert details["missing"].startswith("No template asset <id> in this project; templateId must name a template asset")


def test_a_template_of_a_deleted_project_is_not_found(tenant, project, title_card):
    assert tenant.client.delete(f"/v1/projects/{project['id']}").status_code in (200, 204)

    assert refused(NotFound, tenant, project, title_card["id"]).code == "not_found"


def test_a_template_that_is_not_ready_is_a_conflict_that_says_what_to_do(tenant, project):
    pending = upload_template(tenant, project["id"], media.title_card_template(), complete=False)
    processing = upload_template(tenant, project["id"], media.title_card_template(), process=False)
    failed = upload_template(tenant, project["id"], b"{not json")
    assert (pending["status"], processing["status"], failed["status"]) == ("pending", "processing", "failed")

    for template in (pending, processing):
        error = refused(Conflict, tenant, project, template["id"])
        assert (error.code, error.field) == ("template_not_ready", "templateId")
        assert error.detail == (
            f"The template {template['id']!r} is {template['status']}, not ready yet; wait for its asset.ready event "
            "(or poll the asset) and submit again."
        )
    error = refused(Conflict, tenant, project, failed["id"])
    assert (error.code, error.field) == ("template_not_ready", "templateId")
    assert error.detail == (
        f"The template {failed['id']!r} failed processing (invalid_json), so it cannot render; fix the file (the "
        "asset's error says how) and upload it again as a new asset."
    )


def test_a_remotion_template_without_a_remotion_server_is_engine_unavailable(tenant, project, settings):
    settings.REMOTION_SERVER_URL = ""
    template = upload_template(tenant, project["id"], media.remotion_template())

    error = refused(Conflict, tenant, project, template["id"])

    assert (error.code, error.field) == ("engine_unavailable", "templateId")
    assert "REMOTION_SERVER_URL" in error.detail and "use an ffmpeg template" in error.detail


# Props against the template's inputSchema


@pytest.mark.parametrize("input_props", [["title"], "title", None, 3])
def test_input_props_that_are_not_an_object_are_refused(tenant, project, title_card, input_props):
    with pytest.raises(Unprocessable) as caught:
        with tenant_context(tenant.id):
            render_input_resolve(organization_id=tenant.id, project_id=project["id"], template_id=title_card["id"],
                                 input_props=input_props)

    assert (caught.value.code, caught.value.field) == ("invalid_input_props", "inputProps")
    assert "must be a JSON object" in caught.value.detail


def test_every_schema_error_is_reported_at_its_json_path(tenant, project):
    schema = {
        "type": "object",
        "required": ["title", "name", "the end"],
        "properties": {
            "title": {"type": "string", "maxLength": 5},
            "count": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "odd key": {"type": "boolean"},
            "size": {"type": "string", "pattern": "^[0-9]+x[0-9]+$"},
        },
    }
    template = upload_template(tenant, project["id"], template_with(schema, {"title": "Hi"}))

    error = refused(Unprocessable, tenant, project, template["id"],
                    {"title": "Too long", "count": 1.5, "tags": ["a", 2], "odd key": "yes", "size": "big"})

    assert error.code == "invalid_input_props"
    assert sorted(error.errors, key=lambda e: e["field"]) == [
        {"field": "inputProps.count", "message": "1.5 is not of type 'integer'"},
        {"field": "inputProps.name", "message": "'name' is a required property"},
        {"field": "inputProps.size", "message": "'big' does not match '^[0-9]+x[0-9]+$'"},
        {"field": "inputProps.tags[1]", "message": "2 is not of type 'string'"},
        {"field": "inputProps.title", "message": "'Too long' is too long"},
        {"field": "inputProps['odd key']", "message": "'yes' is not of type 'boolean'"},
        {"field": "inputProps['the end']", "message": "'the end' is a required property"},
    ]
    assert error.detail.startswith("inputProps (merged over the template's defaultProps) break the template's "
                                   "inputSchema or name unusable assets in 7 places, which are listed in errors")


def test_required_applies_to_the_merged_props(tenant, project, media_files):
    schema = {"type": "object", "required": ["title", "clip"],
              "properties": {"title": {"type": "string"}, "clip": {"type": "string", "x-renderowl-asset": "video"}}}
    template = upload_template(tenant, project["id"], template_with(schema, {"title": "Hello"}))
    assert template["status"] == "ready", template["error"]

    error = refused(Unprocessable, tenant, project, template["id"], {})

    assert error.errors == [{"field": "inputProps.clip", "message": "'clip' is a required property"}]
    clip = upload_media(tenant, project["id"], "video", media_files)
    assert resolve(tenant, project, template["id"], {"clip": clip["id"]}).props == {"title": "Hello", "clip": clip["id"]}


def test_at_most_fifty_errors_are_reported_and_the_detail_says_there_were_more(tenant, project):
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    template = upload_template(tenant, project["id"], template_with(schema))

    error = refused(Unprocessable, tenant, project, template["id"], {f"p{index:03}": "x" for index in range(80)})

    assert len(error.errors) == 50
    assert error.errors[0] == {"field": "inputProps.p000", "message": "'x' is not of type 'integer'"}
    assert "in more than 50 places; the first 50 are listed in errors" in error.detail


def test_a_ref_that_loops_for_the_same_value_is_a_clear_422_not_a_crash(tenant, project):
    # Processing checks defaultProps property by property, so a loop through the root only shows at submission.
    schema = {"type": "object", "allOf": [{"$ref": "#"}], "properties": {"title": {"type": "string"}}}
    template = upload_template(tenant, project["id"], template_with(schema, {"title": "Hi"}))
    assert template["status"] == "ready", template["error"]

    error = refused(Unprocessable, tenant, project, template["id"], {"title": "x"})

    assert (error.code, error.field) == ("invalid_template", "templateId")
    assert "a $ref in it leads back to itself for the same value; fix the template" in error.detail


def test_props_too_deep_or_unstorable_are_refused_before_validation(tenant, project, title_card):
    deep = "x"
    for _ in range(70):
        deep = [deep]

    too_deep = refused(Unprocessable, tenant, project, title_card["id"], {"title": deep})
    unstorable = refused(Unprocessable, tenant, project, title_card["id"], {"title": "a\x00b"})

    assert (too_deep.code, too_deep.field) == ("invalid_input_props", "inputProps")
    assert "nest more than 64 levels" in too_deep.detail
    assert (unstorable.code, unstorable.field) == ("invalid_input_props", "inputProps.title")


# Asset props


def test_each_asset_prop_must_name_a_ready_asset_of_its_type_in_the_project(
    tenant, other_tenant, project, media_files
):
    schema = {
        "type": "object",
        "properties": {
            name: {"type": "string", "x-renderowl-asset": kind}
            for name, kind in (("missing", "video"), ("foreign", "video"), ("sibling", "video"), ("wrong", "video"),
                               ("pending", "image"), ("failed", "audio"), ("number", "font"), ("good", "image"),
                               ("my clip", "video"))
        },
    }
    template = upload_template(tenant, project["id"], template_with(schema))
    assert template["status"] == "ready", template["error"]
    foreign = upload_media(other_tenant, other_tenant.create_project(name="Theirs")["id"], "video", media_files)
    sibling = upload_media(tenant, tenant.create_project(name="Sibling")["id"], "video", media_files)
    image = upload_media(tenant, project["id"], "image", media_files)
    pending = upload_media(tenant, project["id"], "image", media_files, complete=False)
    bad_audio = upload(tenant, project["id"], type="audio", name="tone.wav", data=b"not audio", content_type="audio/wav")
    assert bad_audio["status"] == "failed"

    error = refused(Unprocessable, tenant, project, template["id"], {
        "missing": "ast_doesnotexist0000000000000", "foreign": foreign["id"], "sibling": sibling["id"],
        "wrong": image["id"], "pending": pending["id"], "failed": bad_audio["id"], "number": 7, "good": image["id"],
        "my clip": "ast_doesnotexist0000000000000",
    })

    assert error.code == "invalid_input_props"
    messages = {entry["field"]: entry["message"] for entry in error.errors}
    assert set(messages) == {f"inputProps.{name}" for name in
                             ("missing", "foreign", "sibling", "wrong", "pending", "failed", "number")} | {
        "inputProps['my clip']"
    }
    for name, asset_id in (("missing", "ast_doesnotexist0000000000000"), ("foreign", foreign["id"]),
                           ("sibling", sibling["id"])):
        assert messages[f"inputProps.{name}"] == (
            f"No video asset {asset_id!r} in this project; upload it to this project first."
        )
    assert messages["inputProps.wrong"] == f"{image['id']!r} is an image asset; this prop (x-renderowl-asset) takes a video asset."
    assert messages["inputProps.pending"] == (
        f"The image asset {pending['id']!r} is pending, not ready yet; wait for its asset.ready event and submit again."
    )
    assert messages["inputProps.failed"] == (
        f"The audio asset {bad_audio['id']!r} failed processing; upload the file again as a new asset."
    )
    assert messages["inputProps.number"] == "7 is not of type 'string'"  # inputSchema's error only


def test_an_asset_prop_that_breaks_its_schema_is_reported_once(tenant, project, title_card):
    error = refused(Unprocessable, tenant, project, title_card["id"], {"clip": 5})

    assert error.errors == [{"field": "inputProps.clip", "message": "5 is not of type 'string'"}]


# Output


@pytest.mark.parametrize(
    ("output", "field", "message"),
    [
        ("mp4", "output", 'Must be an object such as {"format": "mp4"}.'),
        ({"codec": "h264"}, "output.codec", "Not an output setting; use format, width, height, fps, quality, frame."),
        ({"format": "mov"}, "output.format", "Must be one of mp4, webm, gif, png, jpg."),
        ({"quality": "ultra"}, "output.quality", "Must be one of draft, standard, high."),
        ({"width": 0}, "output.width", "Must be a whole number of pixels, at least 1."),
        ({"width": "640"}, "output.width", "Must be a whole number of pixels, at least 1."),
        ({"height": True}, "output.height", "Must be a whole number of pixels, at least 1."),
        ({"width": 640.0}, "output.width", "Must be a whole number of pixels, at least 1."),
        ({"width": 3842}, "output.width", "3842 is above the 3840 pixels a render may have."),
        ({"height": 4000, "format": "gif"}, "output.height", "4000 is above the 3840 pixels a render may have."),
        ({"width": 641}, "output.width", "Must be even for mp4 (yuv420p); use 640 or 642."),
        ({"format": "webm", "height": 361}, "output.height", "Must be even for webm (yuv420p); use 360 or 362."),
        ({"width": 3840, "format": "gif"}, None, None),  # within bounds
        ({"fps": 0}, "output.fps", "Must be a number of frames per second above 0."),
        ({"fps": "30"}, "output.fps", "Must be a number of frames per second above 0."),
        ({"fps": 120}, "output.fps", "120 is above the 60 fps a render may have."),
        ({"frame": 3}, "output.frame", "Only png and jpg render a single frame; remove frame, or set format to png or jpg."),
        ({"format": "png", "frame": 150}, "output.frame", "Must be a whole frame number from 0 to 149 (the template lasts 150 frames)."),
        ({"format": "jpg", "frame": -1}, "output.frame", "Must be a whole frame number from 0 to 149 (the template lasts 150 frames)."),
        ({"format": "png", "frame": 1.5}, "output.frame", "Must be a whole frame number from 0 to 149 (the template lasts 150 frames)."),
    ],
)
def test_output_settings_are_checked_and_the_error_names_the_field(tenant, project, title_card, output, field, message):
    if field is None:
        assert resolve(tenant, project, title_card["id"], output=output).output.width == 3840
        return
    error = refused(Invalid, tenant, project, title_card["id"], output=output)

    assert (error.code, error.field) == ("invalid_output", field)
    assert error.errors == [{"field": field, "message": message}]


def test_every_output_error_is_reported_at_once(tenant, project, title_card):
    error = refused(Invalid, tenant, project, title_card["id"], output={"format": "avi", "fps": -1, "extra": 1})

    assert [entry["field"] for entry in error.errors] == ["output.extra", "output.format", "output.fps"]
    assert error.detail.startswith("output.extra: not an output setting;")


def test_the_templates_own_size_and_fps_are_bounded_too(tenant, project, title_card, settings):
    settings.RENDER_MAX_WIDTH, settings.RENDER_MAX_FPS = 1000, 25

    error = refused(Invalid, tenant, project, title_card["id"])

    assert error.errors == [
        {"field": "output.width", "message": "The 1280 pixels it takes from the template are above the 1000 a render "
                                             "may have; ask for a smaller output.width."},
        {"field": "output.fps", "message": "The template's 30 fps is above the 25 a render may have; ask for "
                                           "output.fps of at most 25."},
    ]
    assert resolve(tenant, project, title_card["id"], output={"width": 960, "fps": 25}).output == OutputSpec(
        format="mp4", width=960, height=540, fps=25
    )


def test_a_template_longer_than_a_render_may_last_is_refused_but_its_stills_are_not(tenant, project, title_card, settings):
    settings.RENDER_MAX_DURATION_SECONDS = 4

    error = refused(Invalid, tenant, project, title_card["id"])

    assert (error.code, error.field) == ("render_too_long", "templateId")
    assert error.detail == (
        "The template lasts 5 s, longer than the 4 s a render may last; use a shorter template, or render a still "
        "(format png or jpg)."
    )
    assert resolve(tenant, project, title_card["id"], output={"format": "png", "frame": 140}).output.frame == 140
