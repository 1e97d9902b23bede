"""Malformed input of every kind is a problem+json 4xx, never a 500."""

import json

import pytest
from django.test import override_settings


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:renderowl:problem:{code}"
    assert body["title"] and body["detail"]
    assert body["requestId"] == response["X-Request-Id"]
    assert isinstance(body["errors"], list)
    return body


@pytest.mark.parametrize(
    "payload",
    ['{"name": ', "not json", "[1, 2]", '"a string"', "null", '{"name": "\\ud800"}'],
)
def test_malformed_or_non_object_json_is_400(tenant, payload):
    response = tenant.client.generic("POST", "/v1/projects", payload, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_wrong_content_type_is_415(tenant):
    response = tenant.client.generic("POST", "/v1/projects", "name=x", content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported_media_type")


@override_settings(MAX_REQUEST_BODY_BYTES=1024)
def test_body_over_the_limit_is_413(tenant):
    response = tenant.client.post("/v1/projects", {"name": "x" * 2000}, format="json")
    assert_problem(response, 413, "request_too_large")


def test_unknown_route_is_404_problem(tenant):
    assert_problem(tenant.client.get("/v1/nothing-here"), 404, "not_found")


def test_request_id_is_echoed_when_sane_and_replaced_when_not(tenant):
    sane = tenant.client.get("/v1/projects", HTTP_X_REQUEST_ID="client-abc.123")
    assert sane["X-Request-Id"] == "client-abc.123"
    insane = tenant.client.get("/v1/projects", HTTP_X_REQUEST_ID="bad id\u2028<script>")
    assert insane["X-Request-Id"].startswith("req_")
    assert insane["X-Request-Id"] != sane["X-Request-Id"]


def test_every_response_has_a_request_id(anonymous, db):
    for path in ("/healthz", "/v1/projects", "/v1/nothing", "/v1/openapi.json"):
        assert anonymous.get(path)["X-Request-Id"]


# --- Hostile bodies: nesting, huge lists, many errors ------------------------------------------------


def nested(depth, leaf="1"):
    """`depth` arrays inside one another around `leaf`, as JSON text."""
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        nested(1000),
        '{"name": "Deep", "metadata": {"k": ' + nested(1000) + "}}",
        '{"name": "Deep", "metadata": {"k": ' + nested(100_000) + "}}",
    ],
    ids=["array-1000", "metadata-1000", "metadata-100000"],
)
def test_json_nested_too_deep_is_400_malformed_json_and_changes_nothing(tenant, body):
    """A body nested 1,000 deep was a 500 (RecursionError in json.loads); 65 levels passed the parser."""
    response = tenant.client.generic("POST", "/v1/projects", body, content_type="application/json")

    problem = assert_problem(response, 400, "malformed_json")
    assert "64" in problem["detail"]
    assert tenant.client.get("/v1/projects").json()["data"] == []


def test_json_nesting_is_bounded_at_64_levels_the_body_object_included(tenant):
    def post(depth):
        body = '{"name": "Deep", "description": ' + nested(depth - 1) + "}"
        return tenant.client.generic("POST", "/v1/projects", body, content_type="application/json")

    assert_problem(post(64), 400, "validation_error")  # parsed, then refused by the serializer
    assert_problem(post(65), 400, "malformed_json")


def test_an_oversized_list_is_one_error_checked_before_its_items(tenant):
    """POST /v1/webhooks with 200,000 events took 26 s and answered 22 MiB with 200,000 errors."""
    body = json.dumps({"url": "https://example.com/hook", "events": ["x"] * 200_000})
    response = tenant.client.generic("POST", "/v1/webhooks", body, content_type="application/json")

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"] == [{"field": "events", "message": "Ensure this field has no more than 50 elements."}]
    assert len(response.content) < 2000


def test_too_many_metadata_keys_is_one_error_checked_before_the_values(tenant):
    body = json.dumps({"name": "Many", "metadata": {f"k{i}": i for i in range(20_000)}})
    response = tenant.client.generic("POST", "/v1/projects", body, content_type="application/json")

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"] == [{"field": "metadata", "message": "At most 50 keys."}]


def test_an_error_response_lists_at_most_50_field_errors_and_counts_the_rest(tenant):
    body = json.dumps({"name": "Typos", **{f"colour{i}": 1 for i in range(5000)}})
    response = tenant.client.generic("POST", "/v1/projects", body, content_type="application/json")

    problem = assert_problem(response, 400, "validation_error")
    assert len(problem["errors"]) == 50
    assert problem["detail"].startswith("5000 field errors; the first 50 are listed, 4950 more were left out.")
    assert len(problem["detail"]) <= 2000
    assert len(response.content) < 10_000


def test_a_huge_unknown_field_name_is_not_echoed_in_full(tenant):
    body = json.dumps({"name": "Long", "x" * 500_000: 1})
    response = tenant.client.generic("POST", "/v1/projects", body, content_type="application/json")

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"][0]["field"].startswith("xxx")
    assert len(response.content) < 5000


# --- Errors Django answers itself: problem+json in development (DEBUG) too --------------------------


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1/projects/", "/nothing-at-all"])
def test_unknown_path_is_a_problem_404_under_debug_too(tenant, settings, path):
    """`make run` (DEBUG) answered Django's HTML debug page."""
    settings.DEBUG = True
    body = assert_problem(tenant.client.get(path, HTTP_ACCEPT="text/html"), 404, "not_found")
    assert body["detail"] == f"No route matches {path}."


@pytest.mark.urls("tests.renderowl.failing_urls")
def test_a_server_fault_is_a_problem_500_under_debug_too(tenant, settings):
    settings.DEBUG = True
    tenant.client.raise_request_exception = False

    response = tenant.client.get("/v1/test-only/fail", HTTP_ACCEPT="text/html")

    assert_problem(response, 500, "internal_error")
    assert "fault the test provokes" not in response.content.decode()


def test_a_method_a_plain_view_refuses_is_a_problem_405(anonymous, db, settings):
    settings.DEBUG = True
    response = anonymous.post("/")
    body = assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"
    assert body["detail"] == "POST is not allowed here; use GET, HEAD."


@pytest.mark.parametrize("accept", ["application/problem+json", "application/problem+json;q=0.9, text/html"])
def test_accept_problem_json_is_honoured_not_406(tenant, accept):
    listed = tenant.client.get("/v1/projects", HTTP_ACCEPT=accept)
    missing = tenant.client.get("/v1/projects/prj_missing", HTTP_ACCEPT=accept)

    assert listed.status_code == 200
    assert listed.json()["data"] == []
    assert_problem(missing, 404, "not_found")
    assert_problem(tenant.client.get("/v1/projects", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_the_root_points_to_the_api_docs_and_admin(anonymous, db, settings):
    settings.DEBUG = True
    response = anonymous.get("/")

    assert response.status_code == 200
    assert response.json() == {
        "api": "http://testserver/v1",
        "openapi": "http://testserver/v1/openapi.json",
        "docs": "http://testserver/docs",
        "admin": "http://testserver/admin/",
        "health": "http://testserver/healthz",
    }
