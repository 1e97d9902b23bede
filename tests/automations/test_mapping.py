"""The data-mapping engine, pure: every transform, defaults, bad paths, dates with zones, save-time checks."""

import pytest

from automations.mapping import MappingFailure, mapping_apply, mapping_errors

SCHEMA = {
    "type": "object",
    "required": ["title", "when"],
    "properties": {
        "title": {"type": "string", "maxLength": 10},
        "when": {"type": "string"},
        "count": {"type": "number"},
        "clip": {"type": "string", "x-renderowl-asset": "video"},
    },
}


def apply(spec, payload):
    return mapping_apply({"p": spec}, payload)["p"]


@pytest.mark.parametrize("transform, found, expected", [
    ("uppercase", "Hello", "HELLO"),
    ("lowercase", "HeLLo", "hello"),
    ("trim", "  hi \n", "hi"),
    ("number", "42", 42),
    ("number", " 1.5 ", 1.5),
    ("number", 7, 7),
])
def test_each_transform(transform, found, expected):
    assert apply({"path": "$.v", "transform": transform}, {"v": found}) == expected


@pytest.mark.parametrize("found, spec, expected", [
    ("2026-12-06T08:30:00Z", {"format": "%d %B %Y %H:%M"}, "06 December 2026 08:30"),
    ("2026-12-06T23:30:00Z", {"format": "%d %B %Y %H:%M", "timezone": "Europe/Berlin"}, "07 December 2026 00:30"),
    ("2026-07-01T12:00:00+02:00", {"format": "%H:%M %Z", "timezone": "America/New_York"}, "06:00 EDT"),
    ("2026-12-06", {"format": "%A"}, "Sunday"),
    (0, {"format": "%Y-%m-%d %H:%M"}, "1970-01-01 00:00"),
    (1796515200, {"format": "%d.%m.%Y", "timezone": "Asia/Tokyo"}, "06.12.2026"),
])
def test_format_date_reads_iso_8601_and_unix_timestamps_in_a_zone(found, spec, expected):
    assert apply({"path": "$.at", "transform": "formatDate", **spec}, {"at": found}) == expected


@pytest.mark.parametrize("transform, found, message", [
    ("uppercase", 3, "needs a string, and the path found a number"),
    ("number", "twelve", "'twelve' is not a number"),
    ("number", True, "needs a number"),
    ("formatDate", "yesterday", "is not an ISO 8601 date"),
    ("formatDate", -5, "is not a Unix timestamp"),
    ("formatDate", {"a": 1}, "found an object"),
])
def test_a_transform_that_cannot_apply_fails_naming_the_prop_and_path(transform, found, message):
    spec = {"path": "$.v", "transform": transform, **({"format": "%Y"} if transform == "formatDate" else {})}
    with pytest.raises(MappingFailure) as failure:
        mapping_apply({"title": spec}, {"v": found})
    assert failure.value.prop == "title" and failure.value.path == "$.v"
    assert message in str(failure.value) and str(failure.value).startswith("inputProps.title (path $.v)")


def test_static_values_paths_lists_and_filters():
    payload = {"data": {"object": {"id": "ast_1", "tags": ["a", "b"]}}, "items": [{"n": 1, "ok": True}, {"n": 2, "ok": False}]}
    mapping = {
        "static": {"value": {"any": ["json"]}},
        "id": {"path": "$.data.object.id"},
        "tags": {"path": "$.data.object.tags[*]"},
        "good": {"path": "$.items[?ok == true].n"},
    }
    assert mapping_apply(mapping, payload) == {"static": {"any": ["json"]}, "id": "ast_1", "tags": ["a", "b"], "good": 1}


def test_a_path_that_finds_nothing_takes_its_default_untransformed_or_fails():
    assert apply({"path": "$.missing", "transform": "uppercase", "default": "fallback"}, {}) == "fallback"
    assert apply({"path": "$.missing", "default": None}, {}) is None
    with pytest.raises(MappingFailure, match=r"inputProps.p \(path \$.missing\): found nothing in the payload"):
        apply({"path": "$.missing"}, {"other": 1})


def test_a_payload_that_is_not_an_object_is_read_as_json():
    assert apply({"path": "$[1]"}, ["a", "b"]) == "b"
    assert apply({"path": "$"}, "text") == "text"


def errors_of(mapping, default_props=None):
    return {(error.field, error.message.split(":")[0]) for error in
            mapping_errors(mapping, input_schema=SCHEMA, default_props=default_props or {})}


def test_a_complete_mapping_has_no_errors():
    assert errors_of({"title": {"path": "$.t", "transform": "trim"},
                      "when": {"path": "$.at", "transform": "formatDate", "format": "%d %B", "timezone": "UTC"}}) == set()
    assert errors_of({"when": {"value": "today"}}, default_props={"title": "Hi"}) == set()


def test_save_time_errors_name_each_field():
    errors = errors_of({
        "title": {"value": "far too long for ten"},
        "count": {"path": "$.[", "transform": "camelcase"},
        "clip": {"path": "no-dollar"},
        "extra": {"path": "$.x", "format": "%Y"},
        "both": {"value": 1, "path": "$.x"},
        "odd": "not an object",
        "opt": {"path": "$.x", "transform": "formatDate", "timezone": "Mars/Olympus"},
        "ops": {"path": "$.x", "bogus": 1},
    })
    fields = {field for field, _ in errors}
    assert fields == {
        "dataMapping.title.value", "dataMapping.count.path", "dataMapping.count.transform", "dataMapping.clip.path",
        "dataMapping.extra.format", "dataMapping.both", "dataMapping.odd", "dataMapping.opt.format",
        "dataMapping.opt.timezone", "dataMapping.ops.bogus", "dataMapping.when",
    }


def test_a_closed_schema_refuses_props_it_does_not_have():
    closed = {**SCHEMA, "additionalProperties": False, "required": []}
    errors = mapping_errors({"nope": {"value": 1}}, input_schema=closed, default_props={})
    assert [error.field for error in errors] == ["dataMapping.nope"]


def test_a_mapping_that_is_not_an_object_is_one_error():
    assert [e.field for e in mapping_errors([1], input_schema=SCHEMA, default_props={})] == ["dataMapping"]
