"""Malformed input of every kind is a problem+json 4xx, never a 500."""

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
