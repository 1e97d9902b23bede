"""Validate a request against the API's own schema before sending it, naming each field at fault.

A subset of JSON Schema, enough for what openapi.json uses in request bodies and parameters. Field paths
are spelled as the API spells them: dotted camelCase, list items as `events[0]`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, (list, tuple)),
    "object": lambda v: isinstance(v, Mapping),
    "null": lambda v: v is None,
}
_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "an object", "null": "null"}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def schema_errors(value: Any, schema: Mapping[str, Any], path: str = "") -> list[dict[str, str]]:
    """Every fault of `value` against `schema` as [{field, message}]."""
    errors: list[dict[str, str]] = []

    def fail(message):
        errors.append({"field": path or None, "message": message})

    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        if not any(_TYPES[t](value) for t in allowed if t in _TYPES):
            fail("Must be " + " or ".join(_TYPE_NAMES.get(t, t) for t in allowed) + ".")
            return errors
    for sub in schema.get("allOf", []):
        errors.extend(schema_errors(value, sub, path))
    options = schema.get("oneOf") or schema.get("anyOf")
    if options and all(schema_errors(value, option, path) for option in options):
        errors.extend(schema_errors(value, options[0], path))
    if "enum" in schema and value not in schema["enum"]:
        fail(f"{value!r} is not one of " + ", ".join(map(str, schema["enum"])) + ".")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            fail(f"Must be at least {schema['minLength']} characters.")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            fail(f"Must be at most {schema['maxLength']} characters.")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            fail(f"Does not match the pattern {schema['pattern']}.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"Must be at least {schema['minimum']}.")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"Must be at most {schema['maximum']}.")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            fail(f"Must be above {schema['exclusiveMinimum']}.")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            fail(f"Must be below {schema['exclusiveMaximum']}.")
    if isinstance(value, (list, tuple)):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            fail(f"At most {schema['maxItems']} items.")
            return errors
        if "minItems" in schema and len(value) < schema["minItems"]:
            fail(f"At least {schema['minItems']} items.")
        if "items" in schema:
            for index, item in enumerate(value):
                errors.extend(schema_errors(item, schema["items"], f"{path}[{index}]"))
    if isinstance(value, Mapping):
        errors.extend(_object_errors(value, schema, path))
    return errors


def _object_errors(value: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        return [{"field": path or None, "message": f"At most {schema['maxProperties']} keys."}]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    unknown = [key for key in value if key not in properties and extra is False]
    for key in unknown:
        errors.append({"field": _join(path, str(key)), "message": "Unknown field."})
    if unknown:
        return errors  # as the API does: unknown fields are reported on their own
    for key in schema.get("required", []):
        if key not in value:
            errors.append({"field": _join(path, key), "message": "This field is required."})
    names = schema.get("propertyNames")
    for key, item in value.items():
        child = _join(path, str(key))
        if names:
            errors.extend({"field": child, "message": f"Key: {e['message']}"} for e in schema_errors(key, names, child))
        if key in properties:
            if properties[key].get("readOnly"):
                errors.append({"field": child, "message": "Read-only: the API sets it."})
                continue
            errors.extend(schema_errors(item, properties[key], child))
        elif isinstance(extra, Mapping):
            errors.extend(schema_errors(item, extra, child))
    return errors


def validate(value: Any, schema: Mapping[str, Any], *, what: str, path: str = "") -> None:
    """Raise ValidationError (status None, code validation_error) naming every field that fails `schema`."""
    errors = schema_errors(value, schema, path)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        raise ValidationError(f"Invalid {what}, not sent: {detail}", code="validation_error", errors=errors)


def json_body(value: Any, *, what: str) -> bytes:
    """The request body as JSON, refusing what JSON cannot carry (NaN, infinities, dates, sets, a cycle) with
    the field named, instead of sending `NaN` or failing with a bare TypeError: free-form maps such as
    inputProps and metadata take any value the schema cannot check."""
    problem = _unencodable(value, "", set())
    if problem:
        field, message = problem
        raise ValidationError(f"Invalid {what}, not sent: {field or 'body'}: {message}", code="validation_error",
                              errors=[{"field": field or None, "message": message}])
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _unencodable(value: Any, path: str, ancestors: set[int]) -> tuple[str, str] | None:
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value} is not a JSON number.")
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in ancestors:
            return path, "The value contains itself: JSON cannot represent a cycle."
        ancestors.add(id(value))
        items = ((_join(path, str(k)), v) for k, v in value.items()) if isinstance(value, Mapping) \
            else ((f"{path}[{i}]", v) for i, v in enumerate(value))
        for child, item in items:
            problem = _unencodable(item, child, ancestors)
            if problem:
                return problem
        ancestors.discard(id(value))
        return None
    return path, f"A {type(value).__name__} is not JSON: pass a string, number, boolean, list or dict."
