"""Template documents: parsed, validated against the published meta-schema, then checked for what a schema cannot say.

What a schema cannot say: that `inputSchema` is itself a valid, self-contained JSON Schema whose regexes
RE2 can run, that each of `defaultProps` satisfies its property's schema, that every `{{prop}}` binding in
the scene names one of its properties (and an asset of the right type where a layer needs one), that a URL
written as a layer's `src` or `font` may be fetched as far as can be told without DNS (`renderowl.network.
url_check`), that the composition lasts at most TEMPLATE_MAX_DURATION_SECONDS, and that each layer's timing
(start, end, and fadeIn + fadeOut within them) fits it.

Everything here is customer input, so everything is bounded: the file's size and nesting, its numbers
(integers within ±2^53, nothing infinite), the regexes (RE2, linear time), and the whole validation
(TEMPLATE_PROCESSING_TIMEOUT_SECONDS of wall time, else `template_too_complex`).
"""

import json
import math
import re
from pathlib import Path

import re2
import referencing
import referencing.exceptions
from django.conf import settings
from jsonschema import ValidationError
from jsonschema.exceptions import SchemaError, best_match
from referencing.jsonschema import DRAFT202012

from assets.extractors import ExtractionError
from assets.extractors.time_budget import TimeBudgetExceeded, time_budget
from assets.input_schema import FORMAT_CHECKER, PatternError, Re2Draft202012Validator, pattern_matches, props_validator
from renderowl.network import BlockedDestination, url_check
from renderowl.text import json_depth, unstorable_path

TEMPLATE_MAX_BYTES = 1024 * 1024
# Validating a schema costs many stack frames per level; real templates nest about ten levels deep.
TEMPLATE_MAX_DEPTH = 64
TEMPLATE_META_SCHEMA: dict = json.loads(
    (Path(__file__).resolve().parent.parent / "schemas" / "template.json").read_text()
)
ASSET_MARKER = "x-renderowl-asset"
# The one definition of a binding: the engines substitute with this same pattern. RE2, because Python's
# `re` takes cubic time over it on a `{{` followed by thousands of spaces.
BINDING_PATTERN = re2.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# Layer fields that take an asset, and the asset types a prop bound there may name
# (an audio layer can play a clip's soundtrack).
ASSET_FIELDS = {
    ("video", "src"): ("video",),
    ("image", "src"): ("image",),
    ("audio", "src"): ("audio", "video"),
    ("text", "font"): ("font",),
}
ENGINE_ONLY_FIELDS = {"scene": "ffmpeg", "serveUrl": "remotion"}
LITERAL_URL_REFUSED = "The URL's host is not a public address; render inputs are only fetched from public ones."
MAX_MESSAGE = 300
# The largest integer a JSON number carries exactly everywhere (RFC 8259 section 6, I-JSON): JavaScript's
# Number.MAX_SAFE_INTEGER + 1, and what a render's props go through on their way to a Remotion server.
JSON_MAX_EXACT_INTEGER = 2**53

META_VALIDATOR = Re2Draft202012Validator(TEMPLATE_META_SCHEMA, format_checker=FORMAT_CHECKER)


def extract_template(path: Path) -> dict:
    """What renders need to know about a template, once it has proved valid within the time budget."""
    budget = settings.TEMPLATE_PROCESSING_TIMEOUT_SECONDS
    try:
        with time_budget(budget):
            return _extract_template(path)
    except RecursionError:  # a $ref that leads back to itself for the same value, as {"$ref": "#"} does
        raise _invalid(
            "$.inputSchema: checking defaultProps against it never ends, because a $ref leads back to itself for "
            "the same value; make every $ref cycle pass through properties or items"
        ) from None
    except TimeBudgetExceeded:
        raise ExtractionError(
            "template_too_complex",
            f"Validating the template took more than {budget:g} s, the most one may take; simplify inputSchema "
            f"(fewer and simpler subschemas, no uniqueItems over long arrays) and defaultProps.",
        ) from None


def _extract_template(path):
    document = _read_json(path)
    if json_depth(document) > TEMPLATE_MAX_DEPTH:
        raise _invalid(f"$: objects and arrays nest more than {TEMPLATE_MAX_DEPTH} levels deep; flatten the document")
    _raise_first_error(META_VALIDATOR.iter_errors(document), at="$")
    for field, engine in ENGINE_ONLY_FIELDS.items():
        if field in document and document["engine"] != engine:
            raise _invalid(f"$.{field}: only {engine} templates have a {field}; remove it, or set engine to {engine}")
    duration_seconds = document["durationInFrames"] / document["fps"]
    longest = settings.TEMPLATE_MAX_DURATION_SECONDS
    if duration_seconds > longest:
        raise _invalid(
            f"$.durationInFrames: {document['durationInFrames']:g} frames at {document['fps']:g} fps last "
            f"{duration_seconds:g} s, longer than the {longest:g} s a template may last; lower durationInFrames "
            f"or raise fps"
        )
    input_schema = document["inputSchema"]
    _check_input_schema(input_schema)
    default_props = document.get("defaultProps", {})
    _raise_first_error(_default_props_errors(input_schema, default_props), at="$.defaultProps")
    properties = input_schema.get("properties", {})
    asset_props = {
        name: prop[ASSET_MARKER] for name, prop in properties.items() if isinstance(prop, dict) and ASSET_MARKER in prop
    }
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
        metadata["scene"] = scene  # what the engine draws: a render needs no read of the stored file
    return metadata


def _default_props_errors(input_schema, default_props):
    """Each default prop against the schemas that apply to it by name.

    Rules about the props as a whole (`required`, `minProperties`, the root's `allOf`...) wait for a
    render's merged props: a template may require a prop it has no default for, such as an asset.
    """
    validator = props_validator(input_schema)
    properties = input_schema.get("properties", {})
    patterns = input_schema.get("patternProperties", {})
    additional = input_schema.get("additionalProperties", True)
    for name, value in default_props.items():
        if "propertyNames" in input_schema:
            for error in validator.descend(name, input_schema["propertyNames"]):
                yield ValidationError(f"the name {error.message}", path=(name,))
        subschemas = [properties[name]] if name in properties else []
        subschemas += [subschema for pattern, subschema in patterns.items() if pattern_matches(pattern, name)]
        if not subschemas:
            if additional is False:
                yield ValidationError(
                    f"{name!r} is not a property of inputSchema, which allows no others (additionalProperties "
                    f"is false); remove it or add it to inputSchema.properties",
                    path=(name,),
                )
                continue
            subschemas = [additional]
        for subschema in subschemas:
            yield from validator.descend(value, subschema, path=name)


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
        document = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_int=_exact_int,
            parse_float=_finite_float,
        )
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
    where, number = _first_unusable_number(document)
    if number is not None:
        raise _invalid(
            f"{where}: {number} is not a number JSON carries exactly: integers must lie within ±2^53 "
            f"(±{JSON_MAX_EXACT_INTEGER}) and numbers must be finite; use a smaller number, or a string"
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


class _UnusableNumber(str):
    """A number from the file that no JSON reader can be trusted with, kept as the text it was written as."""

    def __str__(self):
        return self if len(self) <= 40 else f"{self[:20]}… ({len(self)} characters)"


def _exact_int(text):
    # Judged by its length before int() is called: converting a 5,000-digit integer is refused by Python
    # (ValueError, and the asset would sit in `processing`), and any length costs quadratic time.
    digits = len(text.lstrip("-"))
    if digits > len(str(JSON_MAX_EXACT_INTEGER)) or abs(int(text)) > JSON_MAX_EXACT_INTEGER:
        return _UnusableNumber(text)
    return int(text)


def _finite_float(text):
    number = float(text)
    return number if math.isfinite(number) else _UnusableNumber(text)


def _first_unusable_number(document):
    """(JSON path, number) of an _UnusableNumber in `document`, or (None, None); iterative."""
    stack = [(document, ())]
    while stack:
        node, keys = stack.pop()
        if isinstance(node, _UnusableNumber):
            return _json_path("$", keys), node
        if isinstance(node, dict):
            stack.extend((value, (*keys, key)) for key, value in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((value, (*keys, index)) for index, value in reversed(list(enumerate(node))))
    return None, None


def _check_input_schema(input_schema):
    try:
        Re2Draft202012Validator.check_schema(input_schema, format_checker=FORMAT_CHECKER)
    except SchemaError as exc:
        raise _invalid(f"{_join('$.inputSchema', exc.json_path)}: {_shorten(_message(exc))}") from None
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
        for field, value in _fields(layer):
            for name in _bindings(value):
                if name not in properties:
                    raise _unknown_binding(name, where=f"{where}, field {field},")
            allowed = ASSET_FIELDS.get((layer["type"], field))
            bound = BINDING_PATTERN.fullmatch(value) if allowed and isinstance(value, str) else None
            if allowed and isinstance(value, str) and not bound and not value.startswith("ast_"):
                _check_literal_url(value, where=f"$.scene.layers[{index}].{field}")
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
        length = min(end if end is not None else duration_seconds, duration_seconds) - start
        fades = layer.get("fadeIn", 0) + layer.get("fadeOut", 0)
        if fades > length:
            raise _invalid(
                f"$.scene.layers[{index}]: fadeIn + fadeOut ({fades:g} s) is longer than the layer shows "
                f"({length:g} s, from start to end or the composition's end); shorten the fades"
            )


def _check_literal_url(value, *, where):
    """A URL written in the scene, judged as far as it can be without DNS (the render worker resolves and checks it)."""
    try:
        url_check(value, resolve=False, refusal=LITERAL_URL_REFUSED)
    except BlockedDestination as exc:
        raise _invalid(f"{where}: {str(exc).rstrip('.')}; use a public http(s) URL or an asset id") from None


def _fields(layer):
    """(field, value) of a layer's fields, a nested object's (the text box's) spelled `box.color`."""
    for field, value in layer.items():
        if isinstance(value, dict):
            yield from ((f"{field}.{key}", nested) for key, nested in value.items())
        else:
            yield field, value


def _bindings(value):
    return BINDING_PATTERN.findall(value) if isinstance(value, str) else []


def _unknown_binding(name, *, where):
    return ExtractionError(
        "unknown_binding",
        f"The scene's {where} binds {{{{{name}}}}}, but inputSchema.properties has no {name!r}; "
        f"add it to inputSchema.properties or correct the binding.",
    )




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
        raise _invalid(f"{_join(at, error.json_path)}: {_shorten(_message(error))}")


def _message(error):
    """The error's message, or for a regex RE2 cannot run, why and what to do instead."""
    if error.validator == "format" and error.validator_value == "regex" and isinstance(error.cause, PatternError):
        return (
            f"{error.cause.pattern!r} is not a regex RE2 can run ({error.cause.reason}); patterns are evaluated by "
            f"RE2, in time linear in the text, which has no backreferences or lookaround: rewrite it without them"
        )
    return error.message


def _join(prefix, json_path):
    """Appends a jsonschema `json_path` ('$.a[0]') to a prefix ('$.defaultProps')."""
    return prefix + json_path[1:]


def _shorten(message):
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _invalid(message):
    return ExtractionError("invalid_template", f"The template is invalid: {message}.")
