"""Regressions found by `make fuzz` (schemathesis against the live API), each replayed through HTTP.

Most are disagreements between the served OpenAPI document and what the server does. They are
written as the property schemathesis checks - a request the document calls valid is accepted, one
it calls invalid is refused - so that either fix (tighten the document or change the server) makes
them pass.
"""

import json

import pytest
from jsonschema import Draft202012Validator


@pytest.fixture
def openapi(anonymous, db):
    response = anonymous.get("/v1/openapi.json", HTTP_ACCEPT="*/*")
    assert response.status_code == 200
    return json.loads(response.content)


def validator(openapi, schema):
    """A JSON Schema validator for `schema`, resolving #/components/… refs against the served document."""
    return Draft202012Validator({**schema, "components": openapi["components"]})


def request_body_schema(openapi, path, method):
    return openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def parameter_schema(openapi, path, method, name):
    for parameter in openapi["paths"][path][method].get("parameters", []):
        if parameter["name"] == name:
            return parameter
    raise AssertionError(f"{method.upper()} {path} does not document {name}")


def lenient(client):
    """The client, answering a server error with its 500 response instead of raising it into the test."""
    client.raise_request_exception = False
    return client


# --- /v1/openapi.json -------------------------------------------------------------------------------


def test_openapi_json_is_json_for_any_accept_header(anonymous, db):
    """Schema loading error: with `Accept: */*` (schemathesis, curl) the document was served as YAML."""
    response = anonymous.get("/v1/openapi.json", HTTP_ACCEPT="*/*")

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in ("application/json", "application/vnd.oai.openapi+json")
    assert "/v1/projects" in json.loads(response.content)["paths"]


# --- Idempotency-Key: documented as any string, server takes 1-255 printable ASCII --------------------


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
def test_idempotency_key_the_schema_allows_is_accepted(tenant, openapi, key):
    """positive_data_acceptance: `POST /v1/projects` with `Idempotency-Key:` (empty) was 400."""
    schema = parameter_schema(openapi, "/v1/projects", "post", "Idempotency-Key")["schema"]
    response = tenant.client.post("/v1/projects", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not validator(openapi, schema).is_valid(key), f"the schema allows {key!r}, which the server refuses"


def test_every_post_documents_the_same_idempotency_key_schema(openapi):
    schemas = {
        json.dumps(parameter_schema(openapi, path, "post", "Idempotency-Key")["schema"], sort_keys=True)
        for path, operations in openapi["paths"].items()
        if "post" in operations and operations["post"].get("security")  # a renderer's signed callback takes none
    }
    assert len(schemas) == 1, schemas


# --- Request bodies: unknown fields and metadata limits are refused but documented as allowed --------


@pytest.mark.parametrize(
    "path, method, body",
    [
        ("/v1/projects", "post", {"name": "A", "colour": "red"}),
        ("/v1/projects/{projectId}", "patch", {"colour": "red"}),
        ("/v1/projects", "post", {"name": "A", "metadata": {"": "x"}}),
        ("/v1/projects", "post", {"name": "A", "metadata": {"k" * 41: "x"}}),
        ("/v1/projects", "post", {"name": "A", "metadata": {f"k{i}": "v" for i in range(51)}}),
        ("/v1/projects/{projectId}", "patch", {"metadata": {"": "x"}}),
    ],
    ids=["unknown-field-post", "unknown-field-patch", "empty-key", "41-char-key", "51-keys", "empty-key-patch"],
)
def test_bodies_the_server_refuses_are_invalid_in_the_schema(tenant, openapi, path, method, body):
    """positive_data_acceptance: a body the document allows (extra property, metadata key "") was 400."""
    url = path.replace("{projectId}", tenant.create_project(name="Target")["id"])
    response = getattr(tenant.client, method)(url, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    schema = request_body_schema(openapi, path, method)
    assert not validator(openapi, schema).is_valid(body), f"the schema allows {body!r}, which the server refuses"


@pytest.mark.parametrize(
    "path, method, body",
    [
        ("/v1/projects", "post", {"name": " "}),
        ("/v1/projects", "post", {"name": "\x1c"}),
        ("/v1/projects/{projectId}", "patch", {"name": " "}),
    ],
    ids=["post-space", "post-file-separator", "patch-space"],
)
def test_the_schema_and_the_server_agree_on_blank_names(tenant, openapi, path, method, body):
    """positive_data_acceptance: PATCH {"name": " "} was 400 "may not be blank" (DRF trims, then refuses
    the empty string), yet the document only asked for minLength 1. Python's str.strip() also removes
    U+001C-U+001F and U+0085, which ECMA-262's \\s does not: blank now means ASCII whitespace only."""
    url = path.replace("{projectId}", tenant.create_project(name="Target")["id"])
    response = getattr(tenant.client, method)(url, body, format="json")

    schema_accepts = validator(openapi, request_body_schema(openapi, path, method)).is_valid(body)
    assert (response.status_code < 300) == schema_accepts, (response.status_code, response.content)
    if not schema_accepts:
        assert response.json()["errors"][0]["field"] == "name"


# --- metadata keys PostgreSQL's jsonb cannot store -----------------------------------------------------


@pytest.mark.parametrize("key", ["a\x00b", "\ud800"], ids=["nul", "lone-surrogate"])
def test_metadata_key_postgres_cannot_store_is_400_not_500(tenant, key):
    """not_a_server_error: values were checked for NUL and surrogates, keys were not (DataError, 500)."""
    client = lenient(tenant.client)
    project = tenant.create_project(name="B")
    # json.dumps escapes the key (\u0000, \ud800) as a client on the wire would.
    created = client.post(
        "/v1/projects", json.dumps({"name": "A", "metadata": {key: "v"}}), content_type="application/json"
    )
    updated = client.patch(
        f"/v1/projects/{project['id']}", json.dumps({"metadata": {key: "v"}}), content_type="application/json"
    )

    for response in (created, updated):
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "validation_error"
        assert response.json()["errors"][0]["field"].startswith("metadata")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "A", "description": "a\x00b"}, "description"),
        ({"name": "A", "metadata": {"k": "a\x00b"}}, "metadata.k"),
        ({"name": "A", "metadata": {"a\x00b": "v"}}, "metadata"),
    ],
    ids=["name", "description", "metadata-value", "metadata-key"],
)
def test_nul_in_a_string_is_a_field_error(tenant, body, field):
    """positive_data_acceptance (seen once the masking failures above were fixed): schemathesis sends
    U+0000, which PostgreSQL text cannot hold. The contract says strings may not contain U+0000 (a
    rule for every string, stated once in API_CONTRACT.md rather than as a pattern on each), and
    `make fuzz` generates no U+0000; the server must refuse it with a clear field error, never a 500."""
    response = tenant.client.post("/v1/projects", json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


# --- List query parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize("query, code", [("limit=", "invalid_limit"), ("sort=", "invalid_sort")])
def test_empty_list_parameter_is_refused_unless_documented(tenant, openapi, query, code):
    """negative_data_rejection: `?limit=` and `?sort=` (not an integer, not in the enum) were 200."""
    name = query.rstrip("=")
    documented_empty = parameter_schema(openapi, "/v1/projects", "get", name).get("allowEmptyValue", False)
    response = tenant.client.get(f"/v1/projects?{query}")

    if documented_empty:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json()["code"] == code


@pytest.mark.parametrize("limit", ["\u00b2", "\u0663", "\uff15"], ids=["superscript-2", "arabic-3", "fullwidth-5"])
def test_limit_with_non_ascii_digits_is_400(tenant, limit):
    """not_a_server_error / negative_data_rejection: str.isdigit() admits '²' (then int() raises: 500)
    and '٣' (int() gives 3: 200); the schema says integer."""
    response = lenient(tenant.client).get("/v1/projects", {"limit": limit})

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_limit"


def test_webhook_url_the_schema_allows_is_not_refused_as_malformed(tenant, openapi):
    """positive_data_acceptance: POST /v1/webhooks {"url": "0"} is 400 url_not_allowed ("must use http or
    https"), yet the document allows any 1-2048 character string."""
    body = {"url": "0", "description": "", "events": [], "projectIds": [], "enabled": True}
    response = tenant.client.post("/v1/webhooks", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "url"
    schema = request_body_schema(openapi, "/v1/webhooks", "post")
    assert not validator(openapi, schema).is_valid(body), f"the schema allows {body!r}, which the server refuses"


# --- Deliberate contract the positive_data_acceptance check cannot know; pinned, not bugs --------------


def test_unissued_cursor_is_400_invalid_cursor(tenant):
    """positive_data_acceptance flags this; the contract makes `cursor` an opaque token only the API issues."""
    # The request schemathesis sent, verbatim.
    response = tenant.client.get(
        "/v1/projects?cursor=%C2%88%C3%BF%C3%8FY%C3%A7%F3%A6%A0%9B%F2%8B%83%9E&limit=19&sort=updatedAt"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


def test_idempotency_key_reused_on_another_path_is_422(tenant):
    """positive_data_acceptance flags this; schemathesis draws keys such as '.exe' and reuses them."""
    first = tenant.create_project(name="First")["id"]
    second = tenant.create_project(name="Second")["id"]

    replayed = tenant.client.post(f"/v1/projects/{first}/webhook-secret/rotate", HTTP_IDEMPOTENCY_KEY=".exe")
    reused = tenant.client.post(f"/v1/projects/{second}/webhook-secret/rotate", HTTP_IDEMPOTENCY_KEY=".exe")

    assert replayed.status_code == 200
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


def test_patch_with_another_slug_is_refused_and_changes_nothing(tenant):
    """positive_data_acceptance flags this (400 is not a status it expects for schema-valid input)."""
    project = tenant.create_project(name="Brand", slug="brand")
    body = {"name": "0", "slug": "0" * 62, "description": "", "metadata": {}}
    response = tenant.client.patch(f"/v1/projects/{project['id']}", body, format="json")

    assert response.status_code in (400, 409, 422)
    assert response.json()["code"] == "slug_immutable"
    assert tenant.client.get(f"/v1/projects/{project['id']}").json()["name"] == "Brand"


def test_a_malformed_ipv6_webhook_url_is_400_not_500(tenant):
    """not_a_server_error: urlsplit() raises ValueError("Invalid IPv6 URL") for an unterminated [literal."""
    response = lenient(tenant.client).post("/v1/webhooks", {"url": "http://[::1/hook"}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == ["url"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/projects/prj_%00"),
        ("patch", "/v1/projects/prj_%00"),
        ("get", "/v1/projects/prj_%00/assets"),
        ("get", "/v1/assets/ast_%00"),
        ("get", "/v1/webhooks/whe_%00"),
        ("get", "/v1/webhooks/whe_%00/deliveries"),
    ],
)
def test_an_id_with_a_nul_byte_is_404_not_500(tenant, method, path):
    """not_a_server_error (found in review): PostgreSQL text cannot hold NUL, so such an id crashed the query."""
    response = getattr(lenient(tenant.client), method)(path)
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_a_nul_tag_filter_is_400(tenant):
    project = tenant.create_project(name="Tags")
    response = lenient(tenant.client).get(f"/v1/projects/{project['id']}/assets?tag=%00")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_filter")


def test_an_unknown_field_named_with_a_lone_surrogate_is_400_not_500(tenant):
    """The 400 echoed the field name, and JSON output cannot carry a lone surrogate: the render crashed."""
    response = lenient(tenant.client).post(
        "/v1/projects", '{"name": "ok", "x\\ud800": 1}', content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["message"] == "Unknown field."
