"""Projects through the SDK: every method, idempotent creates, typed errors."""

import uuid

import httpx
import pytest
from conftest import unique

from renderowl_sdk import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    Renderowl,
    ValidationError,
)


def test_create_get_update_delete_a_project(client):
    created = client.projects.create(name=unique("Proj"), description="first", metadata={"team": "growth"})
    assert created.id.startswith("prj_") and len(created.webhook_secret) == 64
    fetched = client.projects.get(created.id)
    assert (fetched.name, fetched.description, fetched.metadata) == (created.name, "first", {"team": "growth"})
    assert fetched.created_at.tzinfo is not None

    updated = client.projects.update(created.id, description="second", metadata={"team": "video"})
    assert (updated.description, updated.metadata, updated.slug) == ("second", {"team": "video"}, created.slug)

    client.projects.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        client.projects.get(created.id)
    assert caught.value.status == 404 and caught.value.code == "not_found"
    assert caught.value.request_id.startswith("req_")


def test_rotate_webhook_secret_returns_a_new_secret(client, project):
    rotated = client.projects.rotate_webhook_secret(project.id)
    assert len(rotated.webhook_secret) == 64 and rotated.webhook_secret != project.webhook_secret
    assert rotated.previous_secret_expires_at is not None


def test_create_with_the_same_idempotency_key_replays_the_first_project(client):
    key = str(uuid.uuid4())
    name = unique("Replay")
    first = client.projects.create(name=name, idempotency_key=key)
    second = client.projects.create(name=name, idempotency_key=key)
    assert second.id == first.id
    assert second.webhook_secret is None  # a replay never shows the secret again
    with pytest.raises(ValidationError) as caught:
        client.projects.create(name=unique("Other"), idempotency_key=key)
    assert (caught.value.status, caught.value.code) == (422, "idempotency_key_reused")


def test_a_taken_slug_is_a_conflict_error_naming_the_field(client):
    slug = unique("slug")
    client.projects.create(name="One", slug=slug)
    with pytest.raises(ConflictError) as caught:
        client.projects.create(name="Two", slug=slug)
    assert caught.value.code == "slug_taken"
    assert caught.value.errors[0]["field"] == "slug"


def test_invalid_requests_are_refused_before_sending(client):
    # A client pointed at a closed port: a request that was sent would be a connection error.
    offline = Renderowl(api_key="rwl_test_" + "a" * 40, base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(ValidationError) as caught:
        offline.projects.create(name="x" * 201, slug="Not A Slug", metadata={"team": 7})
    fields = {error["field"] for error in caught.value.errors}
    assert fields == {"name", "slug", "metadata.team"}
    assert caught.value.status is None and caught.value.code == "validation_error"
    assert "name: Must be at most 200 characters" in str(caught.value)
    with pytest.raises(ValidationError, match="Unknown query parameter"):
        offline.paginate("projects_list", colour="blue")
    with pytest.raises(ValidationError, match="limit"):
        offline.projects.list(limit=1000)
    with pytest.raises(ValidationError, match="projectId"):
        offline.projects.get("../../v1/webhooks")
    with pytest.raises(APIConnectionError):
        offline.projects.get("prj_x")


def test_a_wrong_api_key_is_an_authentication_error(client):
    bad = Renderowl(api_key="rwl_test_" + "b" * 40, base_url=client.base_url)
    with pytest.raises(AuthenticationError) as caught:
        bad.projects.list()
    assert (caught.value.status, caught.value.code) == (401, "invalid_api_key")


def test_a_missing_api_key_fails_before_any_request(monkeypatch):
    monkeypatch.delenv("RENDEROWL_API_KEY")
    with pytest.raises(AuthenticationError, match="RENDEROWL_API_KEY"):
        Renderowl()


def test_a_custom_http_client_is_used_and_left_open(client):
    seen = []
    http = httpx.Client(timeout=5.0, event_hooks={"request": [lambda request: seen.append(request)]})
    with Renderowl(base_url=client.base_url, http_client=http) as custom:
        assert custom.timeout == http.timeout
        custom.projects.list(limit=1)
    assert [request.url.path for request in seen] == ["/v1/projects"]
    assert seen[0].headers["User-Agent"].startswith("renderowl-sdk-python/")
    assert not http.is_closed  # the caller's client is the caller's to close
    http.close()


def test_free_form_values_json_cannot_carry_are_refused_naming_the_field():
    import datetime

    offline = Renderowl(api_key="rwl_test_" + "a" * 40, base_url="http://127.0.0.1:9", max_retries=0)
    cyclic = {}
    cyclic["self"] = cyclic
    cases = [(float("nan"), "inputProps.x"), (float("inf"), "inputProps.x"),
             (datetime.date(2026, 1, 1), "inputProps.x"), ({1, 2}, "inputProps.x"), (cyclic, "inputProps.x.self")]
    for value, field in cases:
        with pytest.raises(ValidationError) as caught:
            offline.renders.submit("prj_x", template_id="ast_x", input_props={"x": value})
        assert caught.value.status is None and caught.value.errors[0]["field"] == field, value


def test_a_base_url_that_is_not_http_is_refused_at_once():
    from renderowl_sdk import RenderowlError

    for base_url in ("api.example.com", "ftp://api.example.com"):
        with pytest.raises(RenderowlError) as caught:
            Renderowl(api_key="rwl_test_" + "a" * 40, base_url=base_url)
        assert caught.value.code == "invalid_base_url"


def test_a_render_output_the_api_would_refuse_is_refused_before_sending_naming_the_setting():
    offline = Renderowl(api_key="rwl_test_" + "a" * 40, base_url="http://127.0.0.1:9", max_retries=0)
    cases = [({"format": "avi"}, "output.format"), ({"width": 0}, "output.width"), ({"fps": 0}, "output.fps"),
             ({"quality": "best"}, "output.quality"), ({"colour": "red"}, "output.colour")]
    for output, field in cases:
        with pytest.raises(ValidationError) as caught:
            offline.renders.submit("prj_x", template_id="ast_x", output=output)
        assert caught.value.status is None and caught.value.errors[0]["field"] == field, output
