"""Assets: upload from a path, bytes or a file object, wait, download, list, update, delete."""

import io

import pytest
from conftest import TEMPLATE, unique

from renderowl_sdk import ConflictError, NotFoundError, ValidationError


def test_upload_from_a_path_waits_until_ready_and_downloads_the_same_bytes(client, project, tmp_path):
    sent = []
    asset = client.assets.upload(project.id, TEMPLATE, tags=["cards"], wait=True,
                                 on_progress=lambda done, total: sent.append((done, total)))
    assert (asset.type, asset.content_type, asset.status) == ("template", "application/json", "ready")
    assert asset.name == "promo-card.json" and asset.size == TEMPLATE.stat().st_size
    assert sent[-1] == (asset.size, asset.size)

    with_url = client.assets.get(asset.id, include_download_url=True)
    assert with_url.download_url.startswith(client.base_url) and with_url.download_url_expires_at
    target = tmp_path / "copy.json"
    assert client.assets.download(asset.id, target) == asset.size
    assert target.read_bytes() == TEMPLATE.read_bytes()
    assert client.assets.get(asset.id).download_url is None


def test_upload_from_bytes_and_from_a_file_object(client, project):
    data = TEMPLATE.read_bytes()
    from_bytes = client.assets.upload(project.id, data, name="from-bytes.json")
    assert from_bytes.status == "processing"  # confirmed, not waited for
    handle = io.BytesIO(b"xx" + data)
    handle.seek(2)  # a file object is uploaded from where it stands
    from_file = client.assets.upload(project.id, handle, name="from-file.json", wait=True)
    assert from_file.status == "ready" and from_file.size == len(data)
    assert client.assets.wait(from_bytes.id).status == "ready"


def test_a_file_that_is_not_what_it_claims_ends_failed(client, project):
    asset = client.assets.upload(project.id, b"this is not a png", name="fake.png", wait=True)
    assert asset.type == "image" and asset.status == "failed"
    assert asset.error.code and asset.error.message


def test_create_then_a_fresh_upload_url_then_complete(client, project):
    data = TEMPLATE.read_bytes()
    created = client.assets.create(project.id, type="template", name="manual.json", content_type="application/json",
                                   size=len(data))
    assert created.asset.status == "pending" and created.upload.method == "PUT"
    with pytest.raises(ConflictError) as caught:
        client.assets.complete_upload(created.asset.id)
    assert caught.value.code == "upload_missing"
    fresh = client.assets.create_upload_url(created.asset.id)
    assert fresh.asset.id == created.asset.id and fresh.upload.headers["Content-Length"] == str(len(data))
    from renderowl_sdk.resources.assets import _Source

    client.assets.put_file(fresh.upload, _Source(data, "manual.json"))
    assert client.assets.complete_upload(created.asset.id).status == "processing"


def test_list_filters_update_and_delete(client):
    own = client.projects.create(name=unique("Assets"))
    template = client.assets.upload(own.id, TEMPLATE, wait=True)
    image = client.assets.upload(own.id, b"not an image", name="broken.png", tags=["x"], wait=True)

    assert [a.id for a in client.assets.list(own.id)] == [image.id, template.id]
    assert [a.id for a in client.assets.list(own.id, type="template", status="ready")] == [template.id]
    assert [a.id for a in client.assets.list(own.id, tag="x")] == [image.id]
    with pytest.raises(ValidationError):
        client.assets.list(own.id, type="spreadsheet")  # refused before sending: not one of the types

    updated = client.assets.update(template.id, name="Promo card", tags=["promo", "q4", "promo"])
    assert (updated.name, updated.tags) == ("Promo card", ["promo", "q4"])

    client.assets.delete(image.id)
    with pytest.raises(NotFoundError):
        client.assets.get(image.id)


def test_a_file_without_a_name_or_known_type_is_refused_before_upload(client, project):
    with pytest.raises(ValidationError, match="name"):
        client.assets.upload(project.id, b"abc")
    with pytest.raises(ValidationError, match="content type"):
        client.assets.upload(project.id, b"abc", name="notes.unknownext")
