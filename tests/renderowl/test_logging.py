import io
import json
import logging

import pytest


@pytest.fixture
def json_lines():
    """Log records written with the configured console handler's JSON formatter and context filter."""
    root = logging.getLogger()
    console = next(h for h in root.handlers if "Json" in type(h.formatter).__name__)
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(console.formatter)
    for log_filter in console.filters:
        capture.addFilter(log_filter)
    root.addHandler(capture)

    def read():
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        stream.seek(0)
        stream.truncate()
        return lines

    yield read
    root.removeHandler(capture)


def test_request_logs_are_json_with_request_and_organization_ids_and_no_key(tenant, json_lines):
    json_lines()
    response = tenant.client.get("/v1/projects", HTTP_X_REQUEST_ID="trace-42")

    lines = json_lines()
    request_line = next(line for line in lines if line["message"] == "request")
    assert request_line["request_id"] == "trace-42" == response["X-Request-Id"]
    assert request_line["organization_id"] == str(tenant.id)
    assert request_line["status"] == 200
    assert tenant.issued.raw_key not in json.dumps(lines)


def test_secrets_never_reach_the_logs(tenant, json_lines):
    json_lines()
    project = tenant.create_project(name="Secretive")
    tenant.client.post("/v1/projects", {"name": "Secretive", "slug": project["slug"]}, format="json")

    text = json.dumps(json_lines())
    assert project["webhookSecret"] not in text
    assert tenant.issued.raw_key not in text


def test_signed_storage_urls_are_not_logged(tenant, json_lines, settings, tmp_path):
    settings.ASSET_STORAGE_ROOT = tmp_path
    project = tenant.create_project(name="P")
    upload = tenant.client.post(
        f"/v1/projects/{project['id']}/assets",
        {"type": "template", "name": "t.json", "contentType": "application/json", "size": 2},
        format="json",
    ).json()["upload"]
    token = upload["url"].rsplit("/", 1)[1]
    json_lines()
    from urllib.parse import urlsplit

    tenant.client.generic("PUT", urlsplit(upload["url"]).path, b"{}", content_type="text/plain")  # refused: 400

    lines = json_lines()
    assert any(line.get("path") == "/v1/storage/upload/…" for line in lines)
    assert token not in json.dumps(lines)
