"""The props validator: JSON Schema 2020-12 with every customer regex run by RE2, and uniqueItems in linear time."""

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from assets.input_schema import PatternError, compile_pattern, props_validator

EVIL = "^(a+)+$"
# Tens of thousands of years with a backtracking engine (each character doubles the time); microseconds with RE2.
LONG = "a" * 10_000 + "!"


def messages(schema, props):
    return sorted(error.message for error in props_validator(schema).iter_errors(props))


def test_a_catastrophic_pattern_is_linear():
    assert messages({"properties": {"t": {"pattern": EVIL}}}, {"t": LONG}) == [f"{LONG!r} does not match {EVIL!r}"]
    assert props_validator({"properties": {"t": {"pattern": EVIL}}}).is_valid({"t": "a" * 10_000})


def test_catastrophic_pattern_properties_are_linear_wherever_they_are_matched():
    schema = {
        "patternProperties": {EVIL: {"type": "integer"}},
        "additionalProperties": False,
        "properties": {"nested": {"$ref": "#/$defs/strict"}},
        "$defs": {"strict": {"allOf": [{"patternProperties": {EVIL: True}}], "unevaluatedProperties": False}},
    }
    assert messages(schema, {LONG: 1, "aaa": "x", "nested": {LONG: 1, "a": 1}}) == [
        f"{LONG!r} does not match any of the regexes: {EVIL!r}",
        "'x' is not of type 'integer'",
        f"Unevaluated properties are not allowed ({LONG!r} was unexpected)",
    ]


def test_a_nested_schema_dialect_does_not_bring_back_the_backtracking_engine():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {
            "old": {"$schema": "http://json-schema.org/draft-07/schema#", "pattern": EVIL},
            "self": {"$ref": "#"},
        },
    }
    assert messages(schema, {"old": LONG, "self": {"old": LONG}}) == [f"{LONG!r} does not match {EVIL!r}"] * 2


def test_format_regex_means_a_regex_re2_can_run():
    validator = props_validator({"format": "regex"})
    assert validator.is_valid("^[a-z]+(?:-[a-z]+)*$")
    error = best_match(validator.iter_errors("(a)\\1"))
    assert isinstance(error.cause, PatternError)
    assert error.cause.reason == "invalid escape sequence: \\1"


def test_a_pattern_re2_cannot_run_is_an_error_not_a_fallback():
    assert messages({"pattern": "(?=a)"}, "a") == [
        "'(?=a)' is not a regex RE2 can run: invalid perl operator: (?=; the template must be fixed before this can "
        "be checked"
    ]
    assert messages({"patternProperties": {"(?!a)": {}}}, {"b": 1}) == [
        "'(?!a)' is not a regex RE2 can run: invalid perl operator: (?!; the template must be fixed before this can "
        "be checked"
    ]
    assert "'b' does not match any of the regexes: '(?!a)'" in messages(
        {"patternProperties": {"(?!a)": {}}, "additionalProperties": False}, {"b": 1}
    )
    with pytest.raises(PatternError, match="invalid repetition size"):
        compile_pattern("a{1001}")
    with pytest.raises(PatternError, match="unpaired surrogate"):
        compile_pattern("\ud800")


def test_text_with_an_unpaired_surrogate_matches_no_pattern():
    assert messages({"pattern": "."}, "\ud800") == ["'\\ud800' does not match '.'"]


@pytest.mark.parametrize(
    ("items", "unique"),
    [
        ([1, 1.0], False),
        ([True, 1], True),
        ([0, False, None, "0", [], {}], True),
        ([{"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]}], False),
        ([{"a": 1, "b": 2}, {"b": 2, "a": 1}], False),
        ([[1, 2], [2, 1]], True),
    ],
)
def test_unique_items_follows_json_equality(items, unique):
    assert props_validator({"uniqueItems": True}).is_valid(items) is unique


def test_unique_items_is_linear():
    # jsonschema compares every pair of objects: 20,000 of them take it about five minutes.
    items = [{"i": i} for i in range(20_000)]
    assert props_validator({"uniqueItems": True}).is_valid(items)
    assert not props_validator({"uniqueItems": True}).is_valid([*items, {"i": 0}])


SAME_AS_JSONSCHEMA = [
    # Every keyword this validator reimplements, where jsonschema's own answer is quick: both must agree.
    ({"pattern": "^[a-z]+$"}, "abc"),
    ({"pattern": "^[a-z]+$"}, "ABC"),
    ({"pattern": "^[a-z]+$"}, 12),
    ({"patternProperties": {"^x-": {"type": "string"}}}, {"x-a": 1, "x-b": "b", "y": 1}),
    ({"patternProperties": {"^x-": {}}}, ["not", "an", "object"]),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2, "c": 3}),
    ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"a": "s", "b": 2, "c": "three"}),
    ({"patternProperties": {"^x-": {}}, "additionalProperties": False}, {"x-a": 1, "b": 2, "c": 3}),
    ({"additionalProperties": False}, "not an object"),
    (
        {
            "$defs": {"base": {"properties": {"id": {"type": "integer"}}}},
            "allOf": [{"$ref": "#/$defs/base"}],
            "anyOf": [{"properties": {"kind": {"const": "a"}}}, {"patternProperties": {"^k": True}}],
            "oneOf": [{"required": ["id"]}, {"required": ["zz"]}],
            "unevaluatedProperties": False,
        },
        {"id": 1, "kind": "a", "kk": 2, "extra": 3, "more": 4},
    ),
    (
        {
            "if": {"properties": {"kind": {"const": "video"}}, "required": ["kind"]},
            "then": {"properties": {"clip": {"type": "string"}}},
            "else": {"properties": {"image": {"type": "string"}}},
            "dependentSchemas": {"clip": {"properties": {"start": {"type": "number"}}}},
            "properties": {"kind": {}},
            "unevaluatedProperties": {"type": "boolean"},
        },
        {"kind": "video", "clip": "c", "start": 1, "image": "i", "flag": True, "other": "x", "last": 1},
    ),
    (
        {"if": {"required": ["kind"]}, "else": {"properties": {"image": {}}}, "unevaluatedProperties": False},
        {"image": "i", "stray": 1},
    ),
    ({"additionalProperties": {"type": "string"}, "unevaluatedProperties": False}, {"a": "s", "b": 1}),
    ({"$dynamicAnchor": "node", "properties": {"child": {"$dynamicRef": "#node"}}, "unevaluatedProperties": False},
     {"child": {"child": {}, "x": 1}}),
    ({"unevaluatedProperties": False}, [1]),
    ({"allOf": [True], "anyOf": [False, True], "unevaluatedProperties": False}, {"a": 1}),
    ({"uniqueItems": True}, [1, 2, 1]),
    ({"uniqueItems": False}, [1, 1]),
    ({"uniqueItems": True}, "not an array"),
    ({"format": "regex"}, "^[a-z]+$"),
    ({"format": "regex"}, "[unclosed"),
    ({"format": "regex"}, 42),
]


@pytest.mark.parametrize(("schema", "instance"), SAME_AS_JSONSCHEMA)
def test_it_answers_as_jsonschema_does_where_jsonschema_is_quick(schema, instance):
    def answers(validator):
        return sorted((error.json_path, error.message) for error in validator.iter_errors(instance))

    expected = answers(Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER))
    assert answers(props_validator(schema)) == expected
