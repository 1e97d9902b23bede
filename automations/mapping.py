"""The data-mapping engine: from a trigger's payload to a render's inputProps. Pure: no database, no I/O.

A mapping names, per template prop, either a static `{"value": …}` or `{"path": "$.…", "transform"?,
"format"?, "timezone"?, "default"?}`: a JSONPath (jsonpath-ng's extended parser) into the payload, an
optional transform of what it found, and a default for when it finds nothing. `mapping_errors` checks a
mapping against a template when an automation is saved; `mapping_apply` runs it on a payload when one fires.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse as jsonpath_parse

from assets.input_schema import props_validator

TRANSFORMS = ("uppercase", "lowercase", "trim", "number", "formatDate")
SPEC_KEYS = {"value", "path", "transform", "format", "timezone", "default"}
MAX_PROPS = 100
MAX_PATH_LENGTH = 500
MAX_FORMAT_LENGTH = 100
# Unix timestamps beyond this many seconds (year 9999) are not dates formatDate can print.
MAX_TIMESTAMP = 253402300799


class MappingFailure(Exception):
    """A mapping that could not be applied to a payload: names the prop and the path, for the run's error."""

    def __init__(self, prop, path, message):
        super().__init__(message)
        self.prop = prop
        self.path = path
        self.message = message

    def __str__(self):
        where = f"inputProps.{self.prop}" + (f" (path {self.path})" if self.path else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class MappingError:
    """One fault of a mapping found when it is saved: `field` is its place in the request body."""

    field: str
    message: str


@lru_cache(maxsize=1024)
def compiled_path(path):
    """The parsed JSONPath (cached: a mapping's paths are parsed on every firing); raises ValueError if bad."""
    try:
        return jsonpath_parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001 - the parser raises broadly
        raise ValueError(str(exc).splitlines()[0][:200] or "unparsable") from None


def zone(name):
    """The IANA time zone `name`; ValueError if there is none such."""
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{name!r} is not an IANA time zone name (such as Europe/Berlin or UTC)") from None


# Saving: the mapping against the template


def mapping_errors(mapping, *, input_schema, default_props):
    """Every fault of `mapping` against a template's inputSchema and defaultProps, as MappingErrors (none: fine).

    Checks the mapping's shape, that each path parses and each transform exists with valid options, that
    static values pass their prop's schema, and that every prop the template requires and has no default
    for is mapped. Props it does not name keep the template's defaults.
    """
    if not isinstance(mapping, dict):
        return [MappingError("dataMapping", 'must be an object of prop names to mappings, e.g. {"title": {"path": "$.name"}}')]
    if len(mapping) > MAX_PROPS:
        return [MappingError("dataMapping", f"maps at most {MAX_PROPS} props")]
    errors = []
    properties = input_schema.get("properties", {}) if isinstance(input_schema, dict) else {}
    closed = isinstance(input_schema, dict) and input_schema.get("additionalProperties") is False
    validator = props_validator(input_schema)
    for prop, spec in mapping.items():
        field = f"dataMapping.{prop}"
        if closed and prop not in properties and not input_schema.get("patternProperties"):
            errors.append(MappingError(field, "is not a prop of the template's inputSchema, which allows no others"))
            continue
        spec_errors = _spec_errors(spec, field)
        errors += spec_errors
        if spec_errors or "value" not in spec or prop not in properties:
            continue
        for error in validator.descend(spec["value"], properties[prop], path=prop):
            errors.append(MappingError(f"{field}.value", f"does not fit the prop's schema: {error.message[:300]}"))
    required = input_schema.get("required", []) if isinstance(input_schema, dict) else []
    for prop in required:
        if prop not in mapping and prop not in default_props:
            errors.append(MappingError(
                f"dataMapping.{prop}",
                "is required by the template, which has no default for it: map it from the payload or give a value",
            ))
    return errors


def _spec_errors(spec, field):
    if not isinstance(spec, dict):
        return [MappingError(field, 'must be {"value": …} or {"path": "$.…", "transform"?, "default"?}')]
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        return [MappingError(f"{field}.{unknown[0]}", f"is not a mapping option; use {', '.join(sorted(SPEC_KEYS))}")]
    if ("value" in spec) == ("path" in spec):
        return [MappingError(field, 'must have exactly one of "value" (a static value) and "path" (a JSONPath)')]
    if "value" in spec:
        extra = sorted(set(spec) - {"value"})
        return [MappingError(f"{field}.{extra[0]}", "applies to a path only, not to a static value")] if extra else []
    errors = []
    path = spec["path"]
    if not isinstance(path, str) or not path.startswith("$") or len(path) > MAX_PATH_LENGTH:
        errors.append(MappingError(f"{field}.path", f"must be a JSONPath starting with $ of at most {MAX_PATH_LENGTH} characters"))
    else:
        try:
            compiled_path(path)
        except ValueError as exc:
            errors.append(MappingError(f"{field}.path", f"is not a valid JSONPath: {exc}"))
    transform = spec.get("transform")
    if transform is not None and transform not in TRANSFORMS:
        errors.append(MappingError(f"{field}.transform", f"must be one of {', '.join(TRANSFORMS)}"))
    if transform == "formatDate":
        date_format = spec.get("format")
        if not isinstance(date_format, str) or not date_format or len(date_format) > MAX_FORMAT_LENGTH:
            errors.append(MappingError(
                f"{field}.format", f"formatDate needs a strftime format of 1-{MAX_FORMAT_LENGTH} characters, e.g. %d %B %Y"
            ))
        if "timezone" in spec:
            try:
                zone(spec["timezone"])
            except ValueError as exc:
                errors.append(MappingError(f"{field}.timezone", str(exc)))
    else:
        for option in ("format", "timezone"):
            if option in spec:
                errors.append(MappingError(f"{field}.{option}", 'applies only with "transform": "formatDate"'))
    return errors


# Firing: the mapping on a payload


def mapping_apply(mapping, payload):
    """The props `mapping` makes of `payload` (a parsed JSON value); raises MappingFailure naming the prop and path.

    A path that matches one value yields it, several yield the list of them; one that matches nothing
    yields `default` as given (untransformed), or fails when there is none.
    """
    props = {}
    for prop, spec in mapping.items():
        if "value" in spec:
            props[prop] = spec["value"]
            continue
        path = spec["path"]
        try:
            matches = [match.value for match in compiled_path(path).find(payload)]
        except ValueError as exc:
            raise MappingFailure(prop, path, f"the path is not a valid JSONPath: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a filter comparing unlike types raises TypeError and kin
            raise MappingFailure(prop, path, f"the path could not be evaluated on the payload: {exc}"[:300]) from None
        if not matches:
            if "default" in spec:
                props[prop] = spec["default"]
                continue
            raise MappingFailure(prop, path, "found nothing in the payload, and the mapping has no default")
        value = matches[0] if len(matches) == 1 else matches
        transform = spec.get("transform")
        if transform is not None:
            try:
                value = TRANSFORM_FUNCTIONS[transform](value, spec)
            except TransformError as exc:
                raise MappingFailure(prop, path, f"{transform} cannot apply: {exc}") from None
        props[prop] = value
    return props


class TransformError(ValueError):
    pass


def _kind(value):
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), "null"
    )


def _text(value):
    if not isinstance(value, str):
        raise TransformError(f"it needs a string, and the path found {_kind(value)}")
    return value


def to_number(value, spec=None):
    """A JSON number from a number or a numeric string ("42" -> 42, " 1.5 " -> 1.5)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TransformError(f"it needs a number or a numeric string, and the path found {_kind(value)}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if text.lstrip("+-").isdigit() and len(text) <= 30 else float(text)
        except ValueError:
            raise TransformError(f"{value[:50]!r} is not a number") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise TransformError("the number is not finite")
    return value


def format_date(value, spec):
    """An ISO 8601 string or a Unix timestamp (seconds) printed with `format` in `timezone` (UTC by default).

    A date or time without an offset is read as UTC.
    """
    if isinstance(value, bool):
        raise TransformError("it needs an ISO 8601 date or a Unix timestamp, and the path found a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not 0 <= value <= MAX_TIMESTAMP:
            raise TransformError(f"{value} is not a Unix timestamp in seconds between 1970 and 9999")
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise TransformError(f"{value[:50]!r} is not an ISO 8601 date such as 2026-12-06T09:00:00Z") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    else:
        raise TransformError(f"it needs an ISO 8601 date or a Unix timestamp, and the path found {_kind(value)}")
    try:
        moment = moment.astimezone(zone(spec.get("timezone", "UTC")))
    except (ValueError, OverflowError) as exc:
        raise TransformError(str(exc)) from None
    try:
        return moment.strftime(spec["format"])
    except ValueError as exc:
        raise TransformError(f"the format cannot print it: {exc}") from None


TRANSFORM_FUNCTIONS = {
    "uppercase": lambda value, spec: _text(value).upper(),
    "lowercase": lambda value, spec: _text(value).lower(),
    "trim": lambda value, spec: _text(value).strip(),
    "number": to_number,
    "formatDate": format_date,
}
