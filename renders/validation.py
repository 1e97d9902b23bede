"""Resolving a render submission into the `RenderInput` an engine renders, or the domain error that names the fix.

`render_input_resolve` runs inside the caller's tenant transaction, stores and queues nothing, and is
what both a submission and its dry run call. Its errors (`field` / `errors[].field` name the input):

| code                  | kind (HTTP)         | when |
|-----------------------|---------------------|------|
| `not_found`           | NotFound (404)      | `templateId` names no `template` asset of this live project (another organization's, too) |
| `template_not_ready`  | Conflict (409)      | the template is pending, processing or failed |
| `engine_unavailable`  | Conflict (409)      | a `remotion` template while `REMOTION_SERVER_URL` is unset |
| `template_unreadable` | Conflict (409)      | a template processed before its scene was kept in metadata, whose stored file is gone |
| `invalid_template`    | Unprocessable (422) | checking props never ends: a `$ref` of inputSchema leads back to itself for the same value; the scene names a URL that may not be fetched (below; `errors[].message` names the layer) |
| `invalid_input_props` | Unprocessable (422) | `inputProps` is not an object, nests too deeply, holds text PostgreSQL cannot store; the merged props break inputSchema (every error, at most 50, each at `inputProps.<path>`); an asset prop names no ready asset of its type in the project (another project's or organization's reads as missing); a prop bound to a layer's `src` or `font` is not a URL that may be fetched (below) |
| `invalid_output`      | Invalid (400)       | `output` is not an object, has an unknown key, a bad format or quality, a size or fps beyond the RENDER_MAX_* settings, an odd mp4/webm size, or a misused `frame` |
| `render_too_long`     | Invalid (400)       | the template lasts longer than RENDER_MAX_DURATION_SECONDS (stills excepted) |

Props: `inputProps` are merged over the template's `defaultProps` key by key (shallow), and `required`
applies to the merged props. Output: size and fps default to the template's; given only one of width and
height, the other keeps the template's aspect ratio. mp4 and webm are encoded yuv420p, which needs even
sizes: a size the caller gave must be even (an odd one is refused, naming the even neighbours), a size
derived from the template is rounded down to even. `frame` (stills only, default 0) counts the template's
frames.

URL inputs: a layer's `src` or `font` written in the scene (other than an asset id), or bound to a prop that
is not an asset prop, is a URL the worker downloads through the outbound guard. What can be judged without
DNS is refused here: anything but an `http(s)` URL with a valid host and port, credentials in it, more than
2048 characters, an IP address that is not public (or that the operator denies). Host names are resolved
and checked when the worker fetches (`renders.engines.fetch`).
"""

import json
import math
import re

from django.conf import settings

from assets.extractors.templates import ASSET_FIELDS, ASSET_MARKER, BINDING_PATTERN, TEMPLATE_MAX_DEPTH
from assets.input_schema import props_validator
from assets.selectors import assets_live
from assets.storage import StorageError, get_storage
from renderowl.errors import Conflict, Invalid, NotFound, Unprocessable
from renderowl.network import BlockedDestination, url_check
from renderowl.text import json_depth, unstorable_path
from renders.inputs import AssetRef, OutputSpec, RenderInput

FORMATS = ("mp4", "webm", "gif", "png", "jpg")
STILL_FORMATS = ("png", "jpg")
EVEN_SIZE_FORMATS = ("mp4", "webm")  # yuv420p halves the chroma planes in both directions
QUALITIES = ("draft", "standard", "high")
OUTPUT_KEYS = ("format", "width", "height", "fps", "quality", "frame")
# Like the API's other errors: at most this many field errors, and the detail says when there were more.
MAX_PROPS_ERRORS = 50
MAX_MESSAGE = 300
TEMPLATE_KEYS = ("engine", "composition", "width", "height", "fps", "durationInFrames", "inputSchema", "defaultProps")


def render_input_resolve(*, organization_id, project_id, template_id, input_props, output=None, livemode=True):
    """Check a submission against its template, its assets and the render limits, and resolve it to a RenderInput."""
    template = _ready_template(organization_id=organization_id, project_id=project_id, template_id=template_id)
    metadata = template.metadata
    spec = _output_spec(output, metadata)
    document = _template_document(template)
    _check_scene_urls(document)
    props = _merged_props(input_props, metadata)
    errors = _props_errors(props, metadata["inputSchema"])
    assets, asset_errors = _asset_props(
        props, metadata.get("assetProps", {}), organization_id=organization_id, project_id=project_id,
        already_wrong={error["field"] for error in errors},
    )
    url_errors = _prop_url_errors(
        document, props, metadata.get("assetProps", {}), already_wrong={error["field"] for error in errors},
    )
    _raise_props_errors(errors + asset_errors + url_errors)
    return RenderInput(
        engine=metadata["engine"],
        template_id=template.id,
        template=document,
        props=props,
        assets=assets,
        output=spec,
        livemode=livemode,
    )


# The template


def _ready_template(*, organization_id, project_id, template_id):
    template = (
        assets_live(organization_id=organization_id, project_id=project_id)
        .filter(pk=template_id, type="template")
        .first()
        if isinstance(template_id, str)
        else None
    )
    if template is None:
        raise NotFound(
            f"No template asset {template_id!r} in this project; templateId must name a template asset of the "
            f"project the render is submitted to (GET /v1/projects/{project_id}/assets?type=template lists them).",
            code="not_found",
            field="templateId",
        )
    if template.status == "failed":
        raise Conflict(
            f"The template {template.id!r} failed processing ({(template.error or {}).get('code')}), so it cannot "
            "render; fix the file (the asset's error says how) and upload it again as a new asset.",
            code="template_not_ready",
            field="templateId",
        )
    if template.status != "ready":
        raise Conflict(
            f"The template {template.id!r} is {template.status}, not ready yet; wait for its asset.ready event (or "
            "poll the asset) and submit again.",
            code="template_not_ready",
            field="templateId",
        )
    if template.metadata["engine"] == "remotion" and not settings.REMOTION_SERVER_URL:
        raise Conflict(
            f"The template {template.id!r} is rendered by Remotion, and this platform has no Remotion render server "
            "(the operator sets REMOTION_SERVER_URL); use an ffmpeg template, or ask the operator to configure one.",
            code="engine_unavailable",
            field="templateId",
        )
    return template


def _template_document(template):
    """The template as the engine reads it: from metadata, or for one processed before scenes were kept there, its file."""
    metadata = template.metadata
    document = {key: metadata[key] for key in TEMPLATE_KEYS if key in metadata}
    if metadata["engine"] == "remotion":
        document["serveUrl"] = metadata["serveUrl"]
    elif "scene" in metadata:
        document["scene"] = metadata["scene"]
    else:
        document["scene"] = _stored_scene(template)
    return document


def _stored_scene(template):
    try:
        with get_storage().open(key=template.storage_key) as stream:
            return json.loads(stream.read().decode("utf-8-sig"))["scene"]
    except (StorageError, OSError, ValueError, KeyError):
        raise Conflict(
            f"The template {template.id!r} can no longer be read from storage; upload the template again as a new "
            "asset and submit with its id.",
            code="template_unreadable",
            field="templateId",
        ) from None


# URL inputs

URL_REFUSED = (
    "The URL's host is not a public address; render inputs are only fetched from public (not private, loopback, "
    "link-local or reserved) addresses."
)


def _source_fields(document):
    """(where, value) of every layer field that takes an input (`src`, `font`), as `scene.layers[i].src`."""
    layers = document.get("scene", {}).get("layers", []) if document.get("engine") == "ffmpeg" else []
    for index, layer in enumerate(layers):
        for (kind, field) in ASSET_FIELDS:
            if layer.get("type") == kind and isinstance(layer.get(field), str):
                yield f"scene.layers[{index}].{field}", layer[field]


def _url_problem(value):
    """Why `value` cannot be a URL input, judged without DNS; None if the worker may try it."""
    try:
        url_check(value, resolve=False, refusal=URL_REFUSED)
    except BlockedDestination as exc:
        return str(exc)
    return None


def _check_scene_urls(document):
    errors = []
    for where, value in _source_fields(document):
        if BINDING_PATTERN.fullmatch(value) or value.startswith("ast_"):
            continue  # a binding (its prop is checked with the props), or an asset id
        problem = _url_problem(value)
        if problem:
            errors.append({"field": "templateId", "message": f"{where}: {problem}"})
    if errors:
        raise Unprocessable(
            f"The template's scene names {'a URL' if len(errors) == 1 else 'URLs'} that cannot be fetched, so it "
            f"cannot render; use a public http(s) URL or an asset, and upload the template again as a new asset. "
            f"First: {errors[0]['message']}",
            code="invalid_template",
            field="templateId",
            errors=errors[:MAX_PROPS_ERRORS],
        )


def _prop_url_errors(document, props, asset_props, *, already_wrong):
    """An error for each prop bound to an input field (not an asset prop) whose value cannot be a URL input."""
    errors = {}
    for where, value in _source_fields(document):
        bound = BINDING_PATTERN.fullmatch(value)
        name = bound.group(1) if bound else None
        if name is None or name in asset_props or not isinstance(props.get(name), str):
            continue
        field = _prop_field(name)
        if field in already_wrong or field in errors:
            continue
        problem = _url_problem(props[name])
        if problem:
            if props[name].startswith("ast_"):
                problem += f" To pass an asset, the template's inputSchema must mark the prop {ASSET_MARKER}."
            errors[field] = {"field": field, "message": f"{where} takes this prop as a URL to download. {problem}"}
    return list(errors.values())


# Output


def _output_spec(output, metadata):
    if output is None:
        output = {}
    if not isinstance(output, dict):
        raise _invalid_output([("output", 'must be an object such as {"format": "mp4"}')])
    errors = [
        (f"output.{key}", f"not an output setting; use {', '.join(OUTPUT_KEYS)}")
        for key in output
        if key not in OUTPUT_KEYS
    ]
    format = output.get("format", "mp4")
    if format not in FORMATS:
        errors.append(("output.format", f"must be one of {', '.join(FORMATS)}"))
    quality = output.get("quality", "standard")
    if quality not in QUALITIES:
        errors.append(("output.quality", f"must be one of {', '.join(QUALITIES)}"))
    width, height = _output_size(output, metadata, format=format, errors=errors)
    fps = _output_fps(output, metadata, errors=errors)
    frame = _output_frame(output, metadata, format=format, errors=errors)
    if errors:
        raise _invalid_output(errors)
    if format not in STILL_FORMATS:
        _check_duration(metadata)
    return OutputSpec(format=format, width=width, height=height, fps=fps, quality=quality, frame=frame)


def _output_size(output, metadata, *, format, errors):
    even = format in EVEN_SIZE_FORMATS
    limits = {"width": settings.RENDER_MAX_WIDTH, "height": settings.RENDER_MAX_HEIGHT}
    given = {}
    for name in ("width", "height"):
        if name not in output:
            continue
        value = output[name]
        if not _is_integer(value) or value < 1:
            errors.append((f"output.{name}", "must be a whole number of pixels, at least 1"))
        elif value > limits[name]:
            errors.append((f"output.{name}", f"{value} is above the {limits[name]} pixels a render may have"))
        elif even and value % 2:
            errors.append(
                (f"output.{name}", f"must be even for {format} (yuv420p); use {value - 1} or {value + 1}")
            )
        else:
            given[name] = value
    if len(given) != sum(name in output for name in ("width", "height")):
        return None, None
    size = dict(given)
    template_size = {"width": metadata["width"], "height": metadata["height"]}
    for name, other in (("width", "height"), ("height", "width")):
        if name in size:
            continue
        derived = template_size[name] * size[other] / template_size[other] if other in size else template_size[name]
        derived = max(2 * math.floor(derived / 2), 2) if even else max(round(derived), 1)
        if derived > limits[name]:
            errors.append(
                (
                    f"output.{name}",
                    f"the {derived} pixels it takes from the template are above the {limits[name]} a render may "
                    f"have; ask for a smaller output.{name}",
                )
            )
        size[name] = derived
    return size["width"], size["height"]


def _output_fps(output, metadata, *, errors):
    limit = settings.RENDER_MAX_FPS
    if "fps" not in output:
        if metadata["fps"] > limit:
            errors.append(
                ("output.fps", f"the template's {metadata['fps']:g} fps is above the {limit:g} a render may have; "
                               f"ask for output.fps of at most {limit:g}")
            )
        return metadata["fps"]
    fps = output["fps"]
    if not _is_number(fps) or fps <= 0:
        errors.append(("output.fps", "must be a number of frames per second above 0"))
    elif fps > limit:
        errors.append(("output.fps", f"{fps:g} is above the {limit:g} fps a render may have"))
    return fps


def _output_frame(output, metadata, *, format, errors):
    if format not in STILL_FORMATS:
        if "frame" in output:
            errors.append(
                ("output.frame", "only png and jpg render a single frame; remove frame, or set format to png or jpg")
            )
        return None
    frame = output.get("frame", 0)
    frames = metadata["durationInFrames"]
    if not _is_integer(frame) or not 0 <= frame < frames:
        errors.append(
            ("output.frame", f"must be a whole frame number from 0 to {frames - 1} (the template lasts {frames} frames)")
        )
    return frame


def _check_duration(metadata):
    seconds = metadata["durationInFrames"] / metadata["fps"]
    limit = settings.RENDER_MAX_DURATION_SECONDS
    if seconds > limit:
        raise Invalid(
            f"The template lasts {seconds:g} s, longer than the {limit:g} s a render may last; use a shorter "
            "template, or render a still (format png or jpg).",
            code="render_too_long",
            field="templateId",
        )


def _invalid_output(errors):
    return Invalid(
        "; ".join(f"{field}: {message}" for field, message in errors) + ".",
        code="invalid_output",
        field=errors[0][0],
        errors=[{"field": field, "message": message[:1].upper() + message[1:] + "."} for field, message in errors],
    )


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# Props


def _merged_props(input_props, metadata):
    if not isinstance(input_props, dict):
        raise Unprocessable(
            'inputProps must be a JSON object of prop names to values, such as {"title": "Hello"}.',
            code="invalid_input_props",
            field="inputProps",
        )
    if json_depth(input_props) > TEMPLATE_MAX_DEPTH:
        raise Unprocessable(
            f"inputProps nest more than {TEMPLATE_MAX_DEPTH} levels of objects and arrays deep; flatten them.",
            code="invalid_input_props",
            field="inputProps",
        )
    where = unstorable_path(input_props, "inputProps")
    if where is not None:
        raise Unprocessable(
            f"{where} contains U+0000 or an unpaired surrogate, which cannot be stored; remove it.",
            code="invalid_input_props",
            field=where,
        )
    return {**metadata.get("defaultProps", {}), **input_props}




def _props_errors(props, input_schema):
    """Up to MAX_PROPS_ERRORS + 1 errors of the merged props against inputSchema, as [{field, message}]."""
    errors = []
    try:
        for error in props_validator(input_schema).iter_errors(props):
            errors.append({"field": _field(error), "message": _shorten(error.message)})
            if len(errors) > MAX_PROPS_ERRORS:
                break
    except RecursionError:
        raise Unprocessable(
            "Checking inputProps against the template's inputSchema never ends, because a $ref in it leads back to "
            "itself for the same value; fix the template (every $ref cycle must pass through properties or items) "
            "and upload it again as a new asset.",
            code="invalid_template",
            field="templateId",
        ) from None
    return errors


def _field(error):
    field = "inputProps" + error.json_path[1:]
    if error.validator == "required" and isinstance(error.instance, dict):
        # jsonschema reports a missing property at its parent object; the client must fix the property itself.
        for name in error.validator_value:
            if name not in error.instance and error.message == f"{name!r} is a required property":
                return field + _path_step(name)
    return field


def _prop_field(name):
    return "inputProps" + _path_step(name)


def _path_step(key):
    """`.key`, or `['my key']` where it must be quoted: a step of a JSON path as jsonschema spells one."""
    if re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", key):
        return f".{key}"
    return "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _asset_props(props, asset_props, *, organization_id, project_id, already_wrong):
    """The AssetRef of each asset prop present, and an error for each that names no usable asset."""
    named = {
        name: props[name]
        for name in asset_props
        if name in props and _prop_field(name) not in already_wrong and isinstance(props[name], str)
    }
    found = {
        asset.id: asset
        for asset in assets_live(organization_id=organization_id, project_id=project_id)
        .filter(pk__in=set(named.values()))
    } if named else {}
    refs, errors = {}, []
    for name, wanted in asset_props.items():
        if name not in named:  # absent, or already reported by inputSchema (which makes every asset prop a string)
            continue
        field = _prop_field(name)
        asset = found.get(named[name])
        if asset is None:
            problem = f"no {wanted} asset {_shorten(repr(named[name]))} in this project; upload it to this project first"
        elif asset.type != wanted:
            problem = f"{asset.id!r} is {_a(asset.type)} asset; this prop ({ASSET_MARKER}) takes {_a(wanted)} asset"
        elif asset.status == "failed":
            problem = f"the {wanted} asset {asset.id!r} failed processing; upload the file again as a new asset"
        elif asset.status != "ready":
            problem = (
                f"the {wanted} asset {asset.id!r} is {asset.status}, not ready yet; wait for its asset.ready event "
                "and submit again"
            )
        else:
            refs[name] = AssetRef(
                id=asset.id, type=asset.type, content_type=asset.content_type, storage_key=asset.storage_key,
                metadata=asset.metadata,
            )
            continue
        errors.append({"field": field, "message": problem[:1].upper() + problem[1:] + "."})
    return refs, errors


def _raise_props_errors(errors):
    if not errors:
        return
    if len(errors) > MAX_PROPS_ERRORS:
        errors = errors[:MAX_PROPS_ERRORS]
        count = f"more than {MAX_PROPS_ERRORS} places; the first {MAX_PROPS_ERRORS} are"
    else:
        count = "1 place, which is" if len(errors) == 1 else f"{len(errors)} places, which are"
    raise Unprocessable(
        f"inputProps (merged over the template's defaultProps) break the template's inputSchema or name unusable "
        f"assets in {count} listed in errors; fix each and submit again. First: {errors[0]['field']}: "
        f"{errors[0]['message']}",
        code="invalid_input_props",
        field=errors[0]["field"],
        errors=errors,
    )


def _a(word):
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _shorten(message):
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
