"""Template documents: parsed, validated against the published meta-schema, then checked for what a schema cannot say.

What a schema cannot say: that `inputSchema` is itself a valid, self-contained JSON Schema, that
`defaultProps` satisfy it, that every `{{prop}}` binding in the scene names one of its properties (and
an asset of the right type where a layer needs one), and that each layer's timing fits the composition.
"""

import json
import re
from pathlib import Path

import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match
from referencing.jsonschema import DRAFT202012

from assets.extractors import ExtractionError
from renderowl.text import unstorable_path

TEMPLATE_MAX_BYTES = 1024 * 1024
# Validating a schema costs many stack frames per level; real templates nest about ten levels deep.
TEMPLATE_MAX_DEPTH = 64
TEMPLATE_META_SCHEMA: dict = json.loads(
    (Path(__file__).resolve().parent.parent / "schemas" / "template.json").read_text()
)
ASSET_MARKER = "x-renderowl-asset"
# The one definition of a binding: the engines substitute with this same pattern.
BINDING_PATTERN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# Layer fields that take an asset, and the asset types a prop bound there may name
# (an audio layer can play a clip's soundtrack).
ASSET_FIELDS = {
    ("video", "src"): ("video",),
    ("image", "src"): ("image",),
    ("audio", "src"): ("audio", "video"),
    ("text", "font"): ("font",),
}
ENGINE_ONLY_FIELDS = {"scene": "ffmpeg", "serveUrl": "remotion"}
MAX_MESSAGE = 300

META_VALIDATOR = Draft202012Validator(TEMPLATE_META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def extract_template(path: Path) -> dict:
    """What renders need to know about a template, once it has proved valid."""
    document = _read_json(path)
    if _depth(document) > TEMPLATE_MAX_DEPTH:
        raise _invalid(f"$: objects and arrays nest more than {TEMPLATE_MAX_DEPTH} levels deep; flatten the document")
    _raise_first_error(META_VALIDATOR.iter_errors(document), at="$")
    for field, engine in ENGINE_ONLY_FIELDS.items():
        if field in document and document["engine"] != engine:
            raise _invalid(f"$.{field}: only {engine} templates have a {field}; remove it, or set engine to {engine}")
    input_schema = document["inputSchema"]
    _check_input_schema(input_schema)
    default_props = document.get("defaultProps", {})
    _raise_first_error(input_props_validator(input_schema).iter_errors(default_props), at="$.defaultProps")
    properties = input_schema.get("properties", {})
    asset_props = {
        name: prop[ASSET_MARKER] for name, prop in properties.items() if isinstance(prop, dict) and ASSET_MARKER in prop
    }
    duration_seconds = document["durationInFrames"] / document["fps"]
    metadata = {
        "engine": document["engine"],
        "composition": document.get("composition"),
        "width": document["width"],
        "height": document["height"],
        "fps": document["fps"],
        "durationInFrames": document["durationInFrames"],
        "durationMs": round(duration_seconds * 1000),
        "inputSchema": input_schema,
        "defaultProps": default_props,
        "assetProps": asset_props,
    }
    if document["engine"] == "remotion":
        metadata["serveUrl"] = document["serveUrl"]
    else:
        scene = document["scene"]
        _check_scene(scene, properties=properties, asset_props=asset_props, duration_seconds=duration_seconds)
        metadata["layerCount"] = len(scene["layers"])
    return metadata


def input_props_validator(input_schema: dict) -> Draft202012Validator:
    """The validator for a render's inputProps, so that they are judged exactly as defaultProps were here."""
    return Draft202012Validator(input_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _read_json(path):
    with path.open("rb") as file:
        raw = file.read(TEMPLATE_MAX_BYTES + 1)
    if len(raw) > TEMPLATE_MAX_BYTES:
        raise ExtractionError(
            "template_too_large",
            f"The template is larger than {TEMPLATE_MAX_BYTES} bytes; move large data into assets or inputProps.",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            "invalid_json", f"The template is not UTF-8 text (byte {exc.start}); save it as UTF-8 JSON."
        ) from None
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ExtractionError(
            "invalid_json", f"The template is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except _NotJson as exc:
        raise ExtractionError("invalid_json", f"The template is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ExtractionError("invalid_json", "The template's JSON is nested too deeply to read.") from None
    where = unstorable_path(document)
    if where is not None:
        raise ExtractionError(
            "invalid_json", f"The template contains U+0000 or an unpaired surrogate at {where}; remove it."
        )
    return document


class _NotJson(ValueError):
    pass


def _reject_duplicate_keys(pairs):
    document = {}
    for key, value in pairs:
        if key in document:
            raise _NotJson(f"the key {key!r} appears twice in one object (only one value can win)")
        document[key] = value
    return document


def _reject_constant(name):
    raise _NotJson(f"{name} is not a JSON number")


def _check_input_schema(input_schema):
    try:
        Draft202012Validator.check_schema(input_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    except SchemaError as exc:
        raise _invalid(f"{_join('$.inputSchema', exc.json_path)}: {_shorten(exc.message)}") from None
    base_uri = input_schema.get("$id") or "urn:renderowl:input-schema"
    resolver = (
        referencing.Registry().with_resource(base_uri, DRAFT202012.create_resource(input_schema)).resolver(base_uri)
    )
    for keys, node in _walk(input_schema):
        path = _json_path("$.inputSchema", keys)
        if ASSET_MARKER in node and not (len(keys) == 2 and keys[0] == "properties"):
            raise _invalid(
                f"{path}: {ASSET_MARKER} is only honoured on a property of inputSchema.properties; move it there"
            )
        ref = node.get("$ref")
        if isinstance(ref, str):
            where = _json_path(path, ["$ref"])
            if not ref.startswith("#"):
                raise _invalid(
                    f"{where}: {ref!r} points outside the template; copy that schema into $defs and use '#/$defs/...'"
                )
            try:
                resolver.lookup(ref)
            except referencing.exceptions.Unresolvable:
                raise _invalid(f"{where}: {ref!r} points to nothing in inputSchema") from None


def _check_scene(scene, *, properties, asset_props, duration_seconds):
    if "background" in scene:
        for name in _bindings(scene["background"]):
            if name not in properties:
                raise _unknown_binding(name, where="background")
    for index, layer in enumerate(scene["layers"]):
        where = f"layer {index} ({layer['type']})"
        for field, value in layer.items():
            for name in _bindings(value):
                if name not in properties:
                    raise _unknown_binding(name, where=f"{where}, field {field},")
            allowed = ASSET_FIELDS.get((layer["type"], field))
            bound = BINDING_PATTERN.fullmatch(value) if allowed and isinstance(value, str) else None
            if bound and bound.group(1) in asset_props and asset_props[bound.group(1)] not in allowed:
                raise ExtractionError(
                    "binding_type_mismatch",
                    f"Layer {index} ({layer['type']}) binds {{{{{bound.group(1)}}}}} in {field}, but that prop "
                    f"takes an asset of type {asset_props[bound.group(1)]} and {field} here needs "
                    f"{' or '.join(allowed)}; bind another prop or change its {ASSET_MARKER}.",
                )
        start, end = layer.get("start", 0), layer.get("end")
        if end is not None and end <= start:
            raise _invalid(f"$.scene.layers[{index}].end: {end} must be after start ({start})")
        if start >= duration_seconds:
            raise _invalid(
                f"$.scene.layers[{index}].start: {start} s is not before the composition's end "
                f"({duration_seconds:g} s = durationInFrames / fps), so the layer would never show"
            )


def _bindings(value):
    return BINDING_PATTERN.findall(value) if isinstance(value, str) else []


def _unknown_binding(name, *, where):
    return ExtractionError(
        "unknown_binding",
        f"The scene's {where} binds {{{{{name}}}}}, but inputSchema.properties has no {name!r}; "
        f"add it to inputSchema.properties or correct the binding.",
    )


def _depth(document):
    """How deeply objects and arrays nest, counted without recursion (the point is not to overflow the stack)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _walk(node, keys=()):
    """Every object inside `node` with the keys that lead to it (keywords' values and list items alike)."""
    if isinstance(node, dict):
        yield keys, node
        for key, value in node.items():
            yield from _walk(value, (*keys, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*keys, index))


def _json_path(prefix, keys):
    """`prefix` extended by `keys`, spelled as jsonschema spells an error's `json_path`."""
    path = prefix
    for key in keys:
        if isinstance(key, int):
            path += f"[{key}]"
        elif re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", key):
            path += f".{key}"
        else:
            path += "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def _raise_first_error(errors, *, at):
    error = best_match(errors)
    if error is not None:
        raise _invalid(f"{_join(at, error.json_path)}: {_shorten(error.message)}")


def _join(prefix, json_path):
    """Appends a jsonschema `json_path` ('$.a[0]') to a prefix ('$.defaultProps')."""
    return prefix + json_path[1:]


def _shorten(message):
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _invalid(message):
    return ExtractionError("invalid_template", f"The template is invalid: {message}.")
