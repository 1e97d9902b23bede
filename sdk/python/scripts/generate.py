"""Generate renderowl_sdk/_models.py from the repository's openapi.json; `--check` fails on any drift.

    python sdk/python/scripts/generate.py            # rewrite the module
    python sdk/python/scripts/generate.py --check    # exit 1, with a diff, if the module is out of date

The module holds one dataclass per response schema (decoded leniently: unknown fields are kept aside, not
refused), a TypedDict per request body, Literal aliases for the enums, the request body and parameter
schemas (with $refs inlined) that requests are validated against before they are sent, and one entry per
operation (method, path, parameters, body, responses) that the resources call by operationId.
"""

import argparse
import difflib
import json
import keyword
import pprint
import re
import sys
from pathlib import Path

SDK = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = SDK.parent.parent / "openapi.json"
TARGET = SDK / "renderowl_sdk" / "_models.py"

# Operations an API-key client never calls: the renderer's callback and the unauthenticated automation hook.
SKIPPED_OPERATIONS = {"renders_remote_callback", "hooks_create"}
SCHEMA_KEYWORDS = {
    "type", "enum", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minItems", "maxItems",
    "maxProperties", "propertyNames", "additionalProperties", "required", "properties", "items", "oneOf",
    "anyOf", "allOf", "readOnly", "writeOnly",
}


def snake(name):
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return f"{name}_" if keyword.iskeyword(name) else name


def ref_name(schema):
    return schema["$ref"].rsplit("/", 1)[1]


class Generator:
    def __init__(self, spec):
        self.spec = spec
        self.schemas = spec["components"]["schemas"]

    def is_enum(self, name):
        return "enum" in self.schemas[name] and self.schemas[name].get("type") == "string"

    def is_request(self, name):
        return name.endswith("Request")

    def resolve(self, schema):
        """The schema with $refs inlined and documentation keywords dropped: what the validator reads."""
        if isinstance(schema, list):
            return [self.resolve(item) for item in schema]
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            return self.resolve(self.schemas[ref_name(schema)])
        out = {}
        for key, value in schema.items():
            if key not in SCHEMA_KEYWORDS:
                continue
            if key == "properties":
                out[key] = {prop: self.resolve(sub) for prop, sub in value.items()}
            elif key in {"items", "propertyNames", "oneOf", "anyOf", "allOf"} or (
                key == "additionalProperties" and isinstance(value, dict)
            ):
                out[key] = self.resolve(value)
            else:
                out[key] = value
        return out

    def annotation(self, schema):
        """(python type, decoder kind, model name) for a property schema."""
        if "$ref" in schema:
            name = ref_name(schema)
            if self.is_enum(name):
                return name, "plain", None
            return name, "model", name
        for combinator in ("allOf", "oneOf", "anyOf"):
            if combinator in schema:
                options = [option for option in schema[combinator] if option.get("type") != "null"]
                if len(options) == 1 and options[0]:
                    return self.annotation(options[0])
                return "Any", "plain", None
        types = schema.get("type")
        if isinstance(types, list):
            types = [t for t in types if t != "null"]
            types = types[0] if len(types) == 1 else None
        if types == "string":
            if schema.get("format") == "date-time":
                return "datetime", "datetime", None
            if "enum" in schema:
                return "Literal[" + ", ".join(json.dumps(v) for v in schema["enum"]) + "]", "plain", None
            return "str", "plain", None
        if types == "integer":
            return "int", "plain", None
        if types == "number":
            return "float", "plain", None
        if types == "boolean":
            return "bool", "plain", None
        if types == "array":
            item_type, kind, model = self.annotation(schema.get("items", {}))
            return f"list[{item_type}]", ("list_model" if kind == "model" else "plain"), model
        if types == "object":
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra.get("type") == "string" and not schema.get("properties"):
                return "dict[str, str]", "plain", None
            return "dict[str, Any]", "plain", None
        return "Any", "plain", None

    def docstring(self, schema, fallback):
        text = (schema.get("description") or fallback).strip().splitlines()[0]
        return text.replace('"""', "'''")

    def is_union(self, name):
        options = self.schemas[name].get("oneOf") or ()
        return bool(options) and all("$ref" in option for option in options)

    def union_alias(self, name):
        """A oneOf of models (WebhookEvent): an alias after the classes it names, which must exist by then."""
        options = " | ".join(ref_name(option) for option in self.schemas[name]["oneOf"])
        return f"\n# {self.docstring(self.schemas[name], name)}\n{name} = {options}\n"

    def enum_alias(self, name):
        values = ", ".join(json.dumps(v) for v in self.schemas[name]["enum"])
        return f"{name} = Literal[{values}]\n"

    def response_model(self, name):
        schema = self.schemas[name]
        lines = ["", "", "@dataclass(kw_only=True, eq=False)", f"class {name}(Model):",
                 f'    """{self.docstring(schema, name)}"""', ""]
        specs = []
        for wire, prop in schema.get("properties", {}).items():
            if prop.get("writeOnly"):
                continue
            python_type, kind, model = self.annotation(prop)
            attr = snake(wire)
            lines.append(f"    {attr}: {python_type} | None = None")
            arguments = [repr(attr), repr(wire)]
            if kind != "plain":
                arguments.append(f"kind={kind!r}")
            if model:
                arguments.append(f"model={model!r}")
            specs.append(f"        Field({', '.join(arguments)}),")
        lines.append("")
        lines.append("    _fields: ClassVar[tuple[Field, ...]] = (")
        lines.extend(specs)
        lines.append("    )")
        return "\n".join(lines) + "\n"

    def request_typeddict(self, name):
        schema = self.schemas[name]
        required = set(schema.get("required", []))
        lines = ["", "", f"class {name}(TypedDict, total=False):",
                 f'    """{self.docstring(schema, name)} Required: {", ".join(sorted(required)) or "nothing"}."""', ""]
        for wire, prop in schema.get("properties", {}).items():
            if prop.get("readOnly"):
                continue
            python_type, _, model = self.annotation(prop)
            if model:
                python_type = python_type.replace(model, "dict[str, Any]")
            lines.append(f"    {wire}: {python_type}")
        return "\n".join(lines) + "\n"

    def operations(self):
        table = {}
        for path, item in sorted(self.spec["paths"].items()):
            for method, operation in item.items():
                if method not in {"get", "post", "patch", "put", "delete"}:
                    continue
                op_id = operation["operationId"]
                if op_id in SKIPPED_OPERATIONS:
                    continue
                params = {"path": {}, "query": {}, "header": {}}
                for parameter in operation.get("parameters", []):
                    params[parameter["in"]][parameter["name"]] = self.resolve(parameter.get("schema", {}))
                body = None
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content and "$ref" in content["application/json"].get("schema", {}):
                    body = ref_name(content["application/json"]["schema"])
                responses = {}
                for status, response in operation.get("responses", {}).items():
                    if not status.startswith("2"):
                        continue
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    responses[status] = ref_name(schema) if schema and "$ref" in schema else None
                table[op_id] = {
                    "method": method.upper(), "path": path, "path_params": params["path"],
                    "query": params["query"], "headers": sorted(params["header"]), "body": body,
                    "responses": responses,
                }
        return dict(sorted(table.items()))

    def render(self):
        names = sorted(self.schemas)
        out = [
            '"""Models of the Renderowl API, generated from openapi.json by sdk/python/scripts/generate.py.',
            "",
            "Do not edit: change the API, commit its openapi.json, and run the generator (CI runs it with --check).",
            '"""',
            "",
            "# ruff: noqa: E501",
            "from __future__ import annotations",
            "",
            "from dataclasses import dataclass",
            "from datetime import datetime",
            "from typing import Any, ClassVar, Literal, TypedDict",
            "",
            "from ._base import Field, Model",
            "",
            f"API_VERSION = {self.spec['info']['version']!r}",
            "",
        ]
        out.extend(self.enum_alias(name) for name in names if self.is_enum(name))
        for name in names:
            if self.is_enum(name) or self.is_union(name):
                continue
            out.append(self.request_typeddict(name) if self.is_request(name) else self.response_model(name))
        out.extend(self.union_alias(name) for name in names if self.is_union(name))
        out.append("\n\n__all__ = " + pretty(names + ["API_VERSION", "OPERATIONS", "REQUEST_SCHEMAS"]) + "\n")
        request_schemas = {name: self.resolve(self.schemas[name]) for name in names if self.is_request(name)}
        out.append("\n\n# The request bodies' schemas, $refs inlined: requests are validated against them before sending.")
        out.append(f"REQUEST_SCHEMAS: dict[str, Any] = {pretty(request_schemas)}\n")
        out.append("\n# Every operation an API key can call, by operationId: what the resources send and decode.")
        out.append(f"OPERATIONS: dict[str, Any] = {pretty(self.operations())}")
        return re.sub(r"\n{4,}", "\n\n\n", "\n".join(out)).rstrip("\n") + "\n"


def pretty(value):
    """A Python literal for JSON data, stable and diffable."""
    return pprint.pformat(value, width=110, sort_dicts=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if renderowl_sdk/_models.py is out of date")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI document (default: the repository's)")
    args = parser.parse_args(argv)
    generated = Generator(json.loads(args.spec.read_text())).render()
    if not args.check:
        TARGET.write_text(generated)
        print(f"wrote {TARGET}")
        return 0
    current = TARGET.read_text() if TARGET.exists() else ""
    if current == generated:
        print(f"{TARGET.name} matches {args.spec.name}")
        return 0
    diff = difflib.unified_diff(
        current.splitlines(), generated.splitlines(), f"{TARGET.name} (committed)", f"{TARGET.name} (from {args.spec.name})",
        lineterm="", n=2,
    )
    lines = list(diff)
    print("\n".join(lines[:80]) + ("\n… (diff cut)" if len(lines) > 80 else ""))
    print(f"\n{TARGET} is out of date with {args.spec}: run `python sdk/python/scripts/generate.py` and commit it.",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
