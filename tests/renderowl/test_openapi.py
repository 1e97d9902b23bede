"""The committed openapi.json is the contract: it must equal what the code generates."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "openapi.json"


def generated_schema(tmp_path):
    target = tmp_path / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(target), "--validate", "--fail-on-warn")
    return json.loads(target.read_text())


def test_committed_schema_matches_the_code(tmp_path):
    assert generated_schema(tmp_path) == json.loads(COMMITTED.read_text()), (
        "openapi.json is stale: run `make openapi` and commit the result."
    )


def walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def test_every_body_is_typed_camel_case_and_errors_are_problem_json():
    schema = json.loads(COMMITTED.read_text())
    for path, node in walk(schema["components"]["schemas"]):
        if node.get("type") == "object" and path.count("/") <= 1:
            assert node.get("properties"), f"{path} is a bare object"
        for name in node.get("properties", {}) if node.get("type") == "object" else ():
            assert "_" not in name, f"{path}.{name} is not camelCase"
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (route, method, status)
                elif (route, status) == ("/v1/renders/{renderId}/events", "200"):
                    assert list(response["content"]) == ["text/event-stream"]  # the one streamed answer
                elif status != "204":
                    assert "application/json" in response["content"], (route, method, status)
            if method == "post" and operation.get("security"):  # a renderer's signed callback takes no key
                assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", [])]


def test_schema_and_docs_are_served(anonymous, db):
    response = anonymous.get("/v1/openapi.json")
    assert response.status_code == 200
    assert "/v1/projects" in json.loads(response.content)["paths"]
    assert anonymous.get("/docs").status_code == 200


def test_docs_load_redoc_from_this_server_not_a_cdn(anonymous, db):
    page = anonymous.get("/docs").content.decode()

    script = "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
    assert f'src="{script}"' in page
    assert "https://" not in page  # neither a CDN nor Google Fonts
    served = anonymous.get(script)
    assert served.status_code == 200
    assert b"Redoc" in b"".join(served.streaming_content)


def test_path_parameters_are_camel_case_and_name_their_resource():
    schema = json.loads(COMMITTED.read_text())
    names = set()
    for route, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in route
                    names.add(parameter["name"])
    # organizationId and attemptId: only in a Remotion server's callback URL.
    assert names == {"projectId", "assetId", "renderId", "webhookId", "deliveryId", "organizationId", "attemptId",
                     "automationId", "automationRunId", "token"}
    assert "/v1/hooks/{automationId}/{token}" in schema["paths"]  # a hook's token follows its automation's id
    assert "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry" in schema["paths"]


def test_every_201_documents_its_location_header():
    schema = json.loads(COMMITTED.read_text())
    created = [
        operation["responses"]["201"]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if "201" in operation["responses"]
    ]
    assert len(created) == 5
    assert all("Location" in response["headers"] for response in created)
