"""The assets API from create to ready, through HTTP, with the local storage backend."""

import json
from urllib.parse import urlsplit

import pytest

from assets.models import Asset
from assets.processing import asset_process
from renderowl.ids import new_id
from renderowl.tenancy import tenant_context
from tests.assets.media import make_video


def create(tenant, project_id, **body):
    body = {"type": "template", "name": "card.json", "contentType": "application/json", "size": 10, **body}
    return tenant.client.post(f"/v1/projects/{project_id}/assets", body, format="json")


def put(tenant, upload, data, **headers):
    """PUT the bytes to the presigned URL as a client would, with exactly the headers it came with."""
    parts = urlsplit(upload["url"])
    content_type = headers.pop("content_type", upload["headers"]["Content-Type"])
    return tenant.client.generic(
        "PUT", f"{parts.path}?{parts.query}" if parts.query else parts.path, data, content_type=content_type, **headers
    )


TEMPLATE = json.dumps(
    {
        "engine": "ffmpeg",
        "composition": "title-card",
        "width": 1280, "height": 720, "fps": 30, "durationInFrames": 150,
        "inputSchema": {
            "type": "object", "required": ["title"],
            "properties": {"title": {"type": "string", "maxLength": 80},
                           "clip": {"type": "string", "x-renderowl-asset": "video"}},
        },
        "defaultProps": {"title": "Hello"},
        "scene": {"background": "#101820", "layers": [
            {"type": "video", "src": "{{clip}}", "fit": "cover", "start": 0, "end": 5},
            {"type": "text", "text": "{{title}}", "size": 64, "color": "#ffffff", "x": "center", "y": "center",
             "start": 0.5, "end": 4.5},
        ]},
    }
).encode()


def upload_asset(tenant, project_id, data, **body):
    created = create(tenant, project_id, size=len(data), **body)
    assert created.status_code == 201, created.content
    asset, upload = created.json()["asset"], created.json()["upload"]
    assert put(tenant, upload, data).status_code in (200, 201, 204)
    return asset


def process(tenant, asset_id):
    """What the worker does with a queued asset (the task entry point's service, in the task's context)."""
    return asset_process(organization_id=tenant.id, asset_id=asset_id)


@pytest.fixture
def project(tenant):
    return tenant.create_project(name="Assets")


def test_create_returns_a_pending_asset_and_a_presigned_put(tenant, project):
    response = create(tenant, project["id"], name="Intro clip", type="video", contentType="video/mp4", size=1234,
                      tags=["intro", "q4"], description="d")

    assert response.status_code == 201, response.content
    asset, upload = response.json()["asset"], response.json()["upload"]
    assert asset["id"].startswith("ast_") and asset["projectId"] == project["id"]
    assert (asset["status"], asset["size"], asset["contentType"], asset["tags"]) == ("pending", 1234, "video/mp4", ["intro", "q4"])
    assert asset["metadata"] == {} and asset["error"] is None and asset["checksum"] == ""
    assert upload["method"] == "PUT"
    assert upload["headers"]["Content-Type"] == "video/mp4"
    assert upload["expiresAt"] > asset["createdAt"]


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"type": "video", "contentType": "text/plain"}, 400, "validation_error"),
        ({"type": "video", "contentType": "image/png"}, 400, "content_type_not_allowed"),
        ({"type": "sticker"}, 400, "validation_error"),
        ({"size": 0}, 400, "validation_error"),
        ({"size": "10"}, 400, "validation_error"),
        ({"type": "template", "size": 2 * 1024 * 1024}, 413, "asset_too_large"),
        ({"type": "image", "contentType": "image/png", "size": 101 * 1024 * 1024}, 413, "asset_too_large"),
        ({"tags": [f"t{i}" for i in range(21)]}, 400, "validation_error"),
        ({"tags": ["y" * 51]}, 400, "validation_error"),
        ({"name": " "}, 400, "validation_error"),
        ({"checksum": "abc"}, 400, "validation_error"),
    ],
)
def test_bad_creates_are_refused_before_any_url_is_issued(tenant, project, body, status, code):
    response = create(tenant, project["id"], **body)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    with tenant_context(tenant.id):
        assert not Asset.objects.exists()


def test_a_deleted_or_foreign_project_is_404(tenant, other_tenant, project):
    foreign = other_tenant.create_project(name="Theirs")
    tenant.client.delete(f"/v1/projects/{project['id']}")
    assert create(tenant, project["id"]).status_code == 404
    assert create(tenant, foreign["id"]).status_code == 404
    assert tenant.client.get(f"/v1/projects/{foreign['id']}/assets").status_code == 404


def test_from_create_to_ready(tenant, project):
    asset = upload_asset(tenant, project["id"], TEMPLATE, name="card.json")

    completed = tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")
    assert completed.status_code == 200, completed.content
    assert completed.json()["status"] == "processing"
    again = tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")
    assert (again.status_code, again.json()["status"]) == (200, "processing")

    assert process(tenant, asset["id"]) == "ready"

    ready = tenant.client.get(f"/v1/assets/{asset['id']}").json()
    assert ready["status"] == "ready"
    assert ready["checksum"].startswith("sha256:") and len(ready["checksum"]) == 71
    assert ready["metadata"]["engine"] == "ffmpeg" and ready["metadata"]["assetProps"] == {"clip": "video"}
    assert ready["metadata"]["inputSchema"]["properties"]["title"]["maxLength"] == 80


def test_upload_complete_checks_what_was_stored(tenant, project):
    missing = create(tenant, project["id"], size=len(TEMPLATE)).json()["asset"]
    response = tenant.client.post(f"/v1/assets/{missing['id']}/upload-complete")
    assert (response.status_code, response.json()["code"]) == (409, "upload_missing")

    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    shorter = TEMPLATE[:-5]
    # The signed local URL itself refuses a short body; the store could also have been a lax S3.
    assert put(tenant, created["upload"], shorter).status_code >= 400
    response = tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")
    assert response.json()["code"] in ("upload_missing", "upload_size_mismatch")
    assert tenant.client.get(f"/v1/assets/{created['asset']['id']}").json()["status"] == "pending"


def test_a_file_that_is_not_what_it_claims_ends_failed_with_an_actionable_error(tenant, project):
    asset = upload_asset(tenant, project["id"], b"just some text, not a video",
                         type="video", contentType="video/mp4", name="fake.mp4")
    tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")

    assert process(tenant, asset["id"]) == "failed"

    failed = tenant.client.get(f"/v1/assets/{asset['id']}").json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] and failed["error"]["message"]
    again = tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")
    assert (again.status_code, again.json()["code"]) == (409, "asset_failed")


def test_a_real_video_is_ready_with_its_metadata(tenant, project, tmp_path):
    path = make_video(tmp_path / "clip.mp4", seconds=1, size=(320, 240), audio=True)
    asset = upload_asset(tenant, project["id"], path.read_bytes(), type="video", contentType="video/mp4", name="clip.mp4")
    tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")

    assert process(tenant, asset["id"]) == "ready"

    metadata = tenant.client.get(f"/v1/assets/{asset['id']}").json()["metadata"]
    assert (metadata["width"], metadata["height"], metadata["hasAudio"]) == (320, 240, True)
    assert 900 <= metadata["durationMs"] <= 1100


def test_download_url_on_request(tenant, project):
    asset = upload_asset(tenant, project["id"], TEMPLATE)
    tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")

    plain = tenant.client.get(f"/v1/assets/{asset['id']}").json()
    with_url = tenant.client.get(f"/v1/assets/{asset['id']}?include=downloadUrl").json()
    bad = tenant.client.get(f"/v1/assets/{asset['id']}?include=everything")

    assert plain["downloadUrl"] is None
    downloaded = tenant.client.get(urlsplit(with_url["downloadUrl"]).path)
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == TEMPLATE
    assert bad.status_code == 400


def test_list_filters_and_paginates(tenant, project):
    upload_asset(tenant, project["id"], TEMPLATE, name="a.json", tags=["x"])
    create(tenant, project["id"], type="video", contentType="video/mp4", name="b.mp4", tags=["y"])
    base = f"/v1/projects/{project['id']}/assets"

    names = lambda query: [a["name"] for a in tenant.client.get(f"{base}?{query}").json()["data"]]  # noqa: E731

    assert names("sort=name") == ["a.json", "b.mp4"]
    assert names("type=video") == ["b.mp4"]
    assert names("status=pending&tag=x") == ["a.json"]
    assert names("tag=none") == []
    page = tenant.client.get(f"{base}?limit=1&sort=name").json()
    assert page["hasMore"] and len(page["data"]) == 1
    for query in ("type=sticker", "status=lost", "colour=red"):
        assert tenant.client.get(f"{base}?{query}").status_code == 400


def test_patch_changes_only_labels(tenant, project):
    asset = create(tenant, project["id"]).json()["asset"]
    patched = tenant.client.patch(f"/v1/assets/{asset['id']}", {"name": "renamed", "tags": ["a", "a", "b"]}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["tags"]) == ("renamed", ["a", "b"])
    for body in ({"size": 5}, {"status": "ready"}, {"contentType": "video/mp4"}, {"tags": "a"}):
        assert tenant.client.patch(f"/v1/assets/{asset['id']}", body, format="json").status_code == 400


def test_delete_removes_the_row_and_the_stored_file(tenant, project, asset_storage, django_capture_on_commit_callbacks):
    asset = upload_asset(tenant, project["id"], TEMPLATE)
    assert any(path.is_file() for path in asset_storage.rglob("*"))

    with django_capture_on_commit_callbacks(execute=True):
        assert tenant.client.delete(f"/v1/assets/{asset['id']}").status_code == 204

    assert tenant.client.get(f"/v1/assets/{asset['id']}").status_code == 404
    assert not [path for path in asset_storage.rglob("*") if path.is_file() and not path.name.endswith(".json")]


def test_deleting_the_project_orphans_its_assets(tenant, project):
    asset = create(tenant, project["id"]).json()["asset"]
    tenant.client.delete(f"/v1/projects/{project['id']}")
    with tenant_context(tenant.id):
        assert Asset.objects.get(pk=asset["id"]).orphaned_at is not None
    assert tenant.client.get(f"/v1/assets/{asset['id']}").status_code == 404


def test_another_organizations_asset_is_404_everywhere(tenant, other_tenant):
    theirs = other_tenant.create_project(name="Theirs")
    asset = create(other_tenant, theirs["id"]).json()["asset"]
    for response in (
        tenant.client.get(f"/v1/assets/{asset['id']}"),
        tenant.client.patch(f"/v1/assets/{asset['id']}", {"name": "mine"}, format="json"),
        tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete"),
        tenant.client.delete(f"/v1/assets/{asset['id']}"),
        tenant.client.get(f"/v1/assets/{new_id('ast')}"),
    ):
        assert response.status_code == 404
    assert other_tenant.client.get(f"/v1/assets/{asset['id']}").json()["name"] == "card.json"


def test_the_template_meta_schema_is_published(anonymous, db):
    response = anonymous.get("/v1/schemas/template.json")
    assert response.status_code == 200
    assert response.json()["$schema"].startswith("https://json-schema.org/draft/2020-12")


def test_the_published_meta_schema_states_the_bounds_processing_applies(anonymous, db):
    schema = anonymous.get("/v1/schemas/template.json").json()
    properties, definitions = schema["properties"], schema["$defs"]
    assert (properties["fps"]["exclusiveMinimum"], properties["fps"]["maximum"]) == (0, 120)
    assert (properties["durationInFrames"]["type"], properties["durationInFrames"]["minimum"]) == ("integer", 1)
    assert "600 s" in properties["durationInFrames"]["description"]
    assert (definitions["frameSize"]["minimum"], definitions["frameSize"]["maximum"]) == (16, 7680)
    assert definitions["length"]["maximum"] == 16384
    assert (definitions["position"]["minimum"], definitions["position"]["maximum"]) == (-16384, 16384)
    assert "RE2" in definitions["inputSchema"]["description"]


def test_an_upload_url_cannot_replace_the_file_it_already_stored(tenant, project):
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    assert put(tenant, created["upload"], TEMPLATE).status_code == 201
    tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")

    swapped = TEMPLATE.replace(b"title-card", b"other-card")
    again = put(tenant, created["upload"], swapped)

    assert (again.status_code, again.json()["code"]) == (409, "already_uploaded")
    url = tenant.client.get(f"/v1/assets/{created['asset']['id']}?include=downloadUrl").json()["downloadUrl"]
    assert b"".join(tenant.client.get(urlsplit(url).path).streaming_content) == TEMPLATE
