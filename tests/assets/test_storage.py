"""Asset storage: both backends honour one contract; the local backend's signed URLs refuse what they did not sign.

The local views run without a database for keys that are not an asset's (these tests' keys carry no
organization UUID): no test here asks for one, so any query would fail the test. An asset's key is
checked against its row (tests/assets/test_cleanup.py).
"""

import io
import os
import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from django.http import HttpRequest
from django.test import Client

from assets.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    StoredObject,
    UploadSizeMismatch,
    get_storage,
    object_key,
    safe_filename,
)
from renderowl.api.middleware import STREAMED_UPLOAD_PATH_PREFIX
from renderowl.ids import random_token

KEY = "org/3f0c/prj/prj_A/ast_B/clip.mp4"
OTHER_KEY = "org/9e9e/prj/prj_X/ast_Y/clip.mp4"
MIB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """Each backend, with its presigned URLs reachable over real HTTP."""
    return request.getfixturevalue(f"{request.param}_storage")


@pytest.fixture
def client():
    # CSRF is enforced as in production: the signed URL must work without a token or cookie.
    return Client(enforce_csrf_checks=True)


def upload_path(storage, *, key=KEY, content_type="video/mp4", size=5, **kwargs):
    presigned = storage.presigned_upload(key=key, content_type=content_type, size=size, **kwargs)
    return urlsplit(presigned.url).path


def put(client, path, body, content_type="video/mp4", **extra):
    return client.generic("PUT", path, body, content_type=content_type, **extra)


def leftovers(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name.endswith(".part"))


# Both backends


def test_round_trip_upload_head_read_download_delete(storage):
    body = os.urandom(256 * 1024 + 7)
    upload = storage.presigned_upload(key=KEY, content_type="video/mp4", size=len(body))

    response = requests.put(upload.url, data=body, headers=upload.headers, timeout=10)
    assert response.status_code in (200, 201), response.text

    assert storage.head(key=KEY) == StoredObject(size=len(body), content_type="video/mp4")
    with storage.open(key=KEY) as stream:
        assert b"".join(iter(lambda: stream.read(64 * 1024), b"")) == body

    download = storage.presigned_download(key=KEY, filename="Clip ü.mp4")
    fetched = requests.get(download.url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == body
    assert fetched.headers["Content-Type"] == "video/mp4"
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Clip%20%C3%BC.mp4" in fetched.headers["Content-Disposition"]

    storage.delete(key=KEY)
    assert storage.head(key=KEY) is None
    storage.delete(key=KEY)  # absent is fine
    with pytest.raises(ObjectNotFound):
        storage.open(key=KEY)
    assert requests.get(download.url, timeout=10).status_code in (403, 404)


def test_listing_yields_each_object_under_a_prefix_with_when_it_was_written(storage):
    prefix = f"org/{os.urandom(4).hex()}/"  # the S3 test bucket is shared by the session
    keys = [f"{prefix}prj/prj_A/ast_B/a.mp4", f"{prefix}prj/prj_A/ast_C/b.mp4"]
    before = datetime.now(UTC) - timedelta(seconds=2)
    for key in keys:
        storage.save(key=key, content_type="video/mp4", stream=io.BytesIO(b"12345"))
    storage.save(key=f"other/{prefix}x.mp4", content_type="video/mp4", stream=io.BytesIO(b"1"))

    listed = sorted(storage.list_objects(prefix=prefix), key=lambda listed: listed.key)

    assert [item.key for item in listed] == keys  # no sidecars, nothing outside the prefix
    assert all(before <= item.modified_at <= datetime.now(UTC) + timedelta(seconds=2) for item in listed)


def test_presigned_upload_names_the_headers_to_send_and_its_expiry(storage):
    before = datetime.now(UTC)
    upload = storage.presigned_upload(key=KEY, content_type="image/png", size=1234)
    assert upload.method == "PUT"
    expected = {"Content-Type": "image/png", "Content-Length": "1234"}
    if isinstance(storage, S3Storage):  # the S3 URL stores once through a signed conditional write
        expected["If-None-Match"] = "*"
    assert upload.headers == expected
    assert before + timedelta(seconds=899) <= upload.expires_at <= before + timedelta(seconds=901)


def test_head_of_absent_object_is_none(storage):
    assert storage.head(key=OTHER_KEY) is None


def test_save_streams_a_file_from_the_platform(storage):
    stored = storage.save(key=KEY, content_type="video/webm", stream=io.BytesIO(b"x" * 3000), size=3000)
    assert stored == StoredObject(size=3000, content_type="video/webm")
    assert storage.head(key=KEY) == stored


@pytest.mark.parametrize("actual", [2999, 3001])
def test_save_of_another_size_than_declared_stores_nothing(storage, actual):
    with pytest.raises(UploadSizeMismatch):
        storage.save(key=KEY, content_type="video/webm", stream=io.BytesIO(b"x" * actual), size=3000)
    assert storage.head(key=KEY) is None


@pytest.mark.parametrize(
    "key",
    ["", "../etc/passwd", "org/../../etc/passwd", "/etc/passwd", "org//x", "org/./x", "org/..", ".hidden",
     "org/x/.clip.mp4.meta.json", "org\\x", "org/with space", "org/ü", "org/x/", "a" * 513],
)
def test_unsafe_keys_are_refused_by_every_operation(storage, key):
    with pytest.raises(InvalidKey):
        storage.presigned_upload(key=key, content_type="video/mp4", size=1)
    with pytest.raises(InvalidKey):
        storage.presigned_download(key=key)
    with pytest.raises(InvalidKey):
        storage.head(key=key)
    with pytest.raises(InvalidKey):
        storage.delete(key=key)


@pytest.mark.parametrize("content_type", ["", "video/mp4\r\nX-Evil: 1", "x" * 256])
def test_unsendable_content_types_are_refused(storage, content_type):
    with pytest.raises(ValueError, match="content_type"):
        storage.presigned_upload(key=KEY, content_type=content_type, size=1)


# Keys and configuration


def test_object_key_is_namespaced_by_organization_and_project_with_a_safe_filename():
    key = object_key(organization_id="3f0c-9a", project_id="prj_A", asset_id="ast_B", filename="../Mÿ clip (1).MP4")
    assert key == "org/3f0c-9a/prj/prj_A/ast_B/My-clip-1.MP4"
    assert safe_filename("视频.mp4") == "file.mp4"
    assert safe_filename(".bashrc") == "file.bashrc"
    assert safe_filename("a" * 300 + ".mov") == "a" * 100 + ".mov"
    with pytest.raises(InvalidKey):
        object_key(organization_id="..", project_id="prj_A", asset_id="ast_B", filename="x")


def test_get_storage_is_cached_and_follows_setting_overrides(settings, tmp_path, s3_endpoint):
    local = get_storage()
    assert isinstance(local, LocalStorage) and get_storage() is local
    assert local.local_path(key=KEY) == (tmp_path / "storage" / KEY).resolve()
    settings.ASSET_STORAGE_ROOT = tmp_path / "elsewhere"
    assert get_storage().local_path(key=KEY) == (tmp_path / "elsewhere" / KEY).resolve()
    settings.ASSET_STORAGE_BACKEND = "s3"
    settings.AWS_STORAGE_BUCKET_NAME = "bucket"
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    assert isinstance(get_storage(), S3Storage)
    assert get_storage().local_path(key=KEY) is None


# Local backend: the signed upload view


def test_upload_streams_a_body_larger_than_the_api_body_limit(settings, client, monkeypatch, asset_storage):
    def body_is_never_read(request):
        raise AssertionError("the upload view read request.body instead of streaming")

    monkeypatch.setattr(HttpRequest, "body", property(body_is_never_read))
    body = os.urandom(3 * MIB + 5)
    assert len(body) > settings.MAX_REQUEST_BODY_BYTES
    path = upload_path(get_storage(), size=len(body))
    assert path.startswith(STREAMED_UPLOAD_PATH_PREFIX)

    response = put(client, path, body)

    assert response.status_code == 201, response.content
    assert response.json() == {"size": len(body), "contentType": "video/mp4"}
    assert (asset_storage / KEY).read_bytes() == body
    assert leftovers(asset_storage) == []


def test_expired_upload_url_is_403(client, monkeypatch):
    path = upload_path(get_storage(), expires_in=60)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)
    response = put(client, path, b"12345")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "signed_url_expired"


def test_tampered_upload_url_is_403(client):
    path = upload_path(get_storage())
    last = path[-1]
    response = put(client, path[:-1] + ("A" if last != "A" else "B"), b"12345")
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"


def test_upload_url_for_one_key_cannot_write_another(client, asset_storage):
    storage = get_storage()
    mine_payload, mine_signature = upload_path(storage, key=KEY).rsplit("/", 1)[1].rsplit(":", 1)
    their_payload, their_signature = upload_path(storage, key=OTHER_KEY).rsplit("/", 1)[1].rsplit(":", 1)
    # The payload naming the other key under this key's signature, and the reverse.
    for token in [f"{their_payload}:{mine_signature}", f"{mine_payload}:{their_signature}"]:
        response = put(client, f"{STREAMED_UPLOAD_PATH_PREFIX}{token}", b"12345")
        assert response.status_code == 403
    # A download URL of the other key is no upload URL.
    download_token = urlsplit(storage.presigned_download(key=OTHER_KEY).url).path.rsplit("/", 1)[1]
    assert put(client, f"{STREAMED_UPLOAD_PATH_PREFIX}{download_token}", b"12345").status_code == 403
    assert not (asset_storage / OTHER_KEY).exists()


def test_upload_with_another_content_type_than_signed_is_400(client, asset_storage):
    response = put(client, upload_path(get_storage()), b"12345", content_type="text/html")
    assert response.status_code == 400
    assert response.json()["code"] == "content_type_mismatch"
    assert not (asset_storage / KEY).exists()


def test_upload_without_content_length_is_411(client):
    response = put(client, upload_path(get_storage()), b"12345", CONTENT_LENGTH="")
    assert response.status_code == 411
    assert response.json()["code"] == "length_required"


@pytest.mark.parametrize(
    ("declared", "status", "code"),
    [("4", 400, "content_length_mismatch"), ("6", 413, "upload_too_large"), ("five", 400, "invalid_content_length")],
)
def test_upload_with_another_content_length_than_signed_stores_nothing(client, asset_storage, declared, status, code):
    body = b"123456"[: int(declared)] if declared.isdigit() else b"12345"
    response = put(client, upload_path(get_storage()), body, CONTENT_LENGTH=declared)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert not (asset_storage / KEY).exists()


def test_upload_far_larger_than_signed_is_413_before_any_byte_is_stored(client, asset_storage):
    body = b"x" * (2 * MIB)
    response = put(client, upload_path(get_storage(), size=1024), body)
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert not asset_storage.exists() or list(asset_storage.rglob("*")) == []


def test_body_that_ends_early_stores_nothing(local_storage, asset_storage):
    upload = local_storage.presigned_upload(key=KEY, content_type="video/mp4", size=100_000)
    parts = urlsplit(upload.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(
            f"PUT {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: video/mp4\r\n"
            f"Content-Length: 100000\r\nConnection: close\r\n\r\n".encode() + b"x" * 60_000
        )
        connection.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"incomplete_upload" in answer
    assert not (asset_storage / KEY).exists()
    assert leftovers(asset_storage) == []


def test_upload_url_accepts_only_put(client):
    response = client.get(upload_path(get_storage()))
    assert response.status_code == 405
    assert response["Allow"] == "PUT"


def test_other_paths_keep_the_api_body_limit(client):
    response = client.generic("PUT", "/v1/storage/download/x", b"x" * (2 * MIB), content_type="video/mp4")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


# Local backend: the signed download view, files and paths


def test_download_serves_the_stored_content_type_inline_only_in_a_sandbox(client):
    storage = get_storage()
    storage.save(key=KEY, content_type="text/html", stream=io.BytesIO(b"<script>alert(1)</script>"))
    response = client.get(urlsplit(storage.presigned_download(key=KEY).url).path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "text/html"
    assert response["Content-Length"] == "25"
    assert "Content-Disposition" not in response
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_url_expires_and_cannot_be_altered(client, monkeypatch):
    storage = get_storage()
    storage.save(key=KEY, content_type="video/mp4", stream=io.BytesIO(b"12345"))
    path = urlsplit(storage.presigned_download(key=KEY, expires_in=60).url).path
    upload = upload_path(storage)
    assert client.get(path.replace("/download/", "/upload/")).status_code == 405
    assert client.get(f"/v1/storage/download/{upload.rsplit('/', 1)[1]}").json()["code"] == "invalid_signature"
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)
    assert client.get(path).json()["code"] == "signed_url_expired"


def test_download_of_absent_object_is_404(client):
    response = client.get(urlsplit(get_storage().presigned_download(key=KEY).url).path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_local_files_live_under_the_root_and_symlinks_cannot_lead_out(asset_storage, tmp_path):
    storage = get_storage()
    storage.save(key=KEY, content_type="video/mp4", stream=io.BytesIO(b"12345"))
    assert storage.local_path(key=KEY) == (asset_storage / KEY).resolve()
    assert storage.local_path(key=KEY).read_bytes() == b"12345"
    (tmp_path / "outside").mkdir()
    (asset_storage / "org" / "escape").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidKey):
        storage.save(key="org/escape/x", content_type="video/mp4", stream=io.BytesIO(b"1"))
    assert list((tmp_path / "outside").iterdir()) == []


def test_save_replaces_atomically_and_keeps_no_temporary_files(asset_storage):
    storage = get_storage()
    storage.save(key=KEY, content_type="video/mp4", stream=io.BytesIO(b"old"))
    storage.save(key=KEY, content_type="video/webm", stream=io.BytesIO(b"new"))
    assert storage.head(key=KEY) == StoredObject(size=3, content_type="video/webm")
    assert sorted(p.name for p in (asset_storage / KEY).parent.iterdir()) == [".clip.mp4.meta.json", "clip.mp4"]


def test_an_upload_url_never_replaces_a_stored_object(client, asset_storage):
    storage = get_storage()
    storage.save(key=KEY, content_type="video/mp4", stream=io.BytesIO(b"old"))

    response = put(client, upload_path(storage, content_type="video/mp4", size=3), b"new", "video/mp4")

    assert (response.status_code, response.json()["code"]) == (409, "already_uploaded")
    with storage.open(key=KEY) as stored:
        assert stored.read() == b"old"
    assert sorted(p.name for p in (asset_storage / KEY).parent.iterdir()) == [".clip.mp4.meta.json", "clip.mp4"]


# S3 backend


def test_s3_presigned_put_signs_content_type_length_and_expiry(s3_storage):
    upload = s3_storage.presigned_upload(key=KEY, content_type="video/mp4", size=42, expires_in=900)
    query = parse_qs(urlsplit(upload.url).query)
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host;if-none-match"]
    assert query["X-Amz-Expires"] == ["900"]
    assert unquote(urlsplit(upload.url).path).endswith(f"/{KEY}")


def test_s3_presigned_put_works_with_exactly_the_returned_headers(s3_storage):
    upload = s3_storage.presigned_upload(key=KEY, content_type="audio/mpeg", size=11)
    prepared = requests.Request("PUT", upload.url, data=b"hello world", headers=upload.headers).prepare()
    assert {k: v for k, v in prepared.headers.items()} == upload.headers
    with requests.Session() as session:
        assert session.send(prepared, timeout=10).status_code == 200
    assert s3_storage.head(key=KEY) == StoredObject(size=11, content_type="audio/mpeg")


def test_s3_size_mismatch_is_visible_through_head(s3_storage):
    # moto, unlike real stores, enforces no signed header: the platform finds out through head.
    upload = s3_storage.presigned_upload(key=KEY, content_type="video/mp4", size=10)
    response = requests.put(upload.url, data=b"12345", headers={"Content-Type": "video/mp4"}, timeout=10)
    assert response.status_code == 200
    assert s3_storage.head(key=KEY).size == 5 != 10


def test_s3_download_without_filename_has_no_disposition(s3_storage):
    s3_storage.save(key=KEY, content_type="video/mp4", stream=io.BytesIO(b"12345"))
    download = s3_storage.presigned_download(key=KEY)
    assert "response-content-disposition" not in download.url
    assert requests.get(download.url, timeout=10).content == b"12345"


@pytest.mark.parametrize("sent", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"])
def test_upload_whose_content_type_differs_only_by_parameters_is_stored_as_declared(client, asset_storage, sent):
    storage = get_storage()
    path = upload_path(storage, content_type="application/json", size=7)
    response = put(client, path, b'{"a":1}', content_type=sent)
    assert response.status_code == 201, response.content
    assert storage.head(key=KEY) == StoredObject(size=7, content_type="application/json")


# Upload URLs of a size unknown when signing (a remote renderer's output)


def fresh_key():
    """A key no earlier test (or run: the S3 test bucket outlives them) has written."""
    return f"org/3f0c/prj/prj_A/rnd_{random_token(12)}/output.mp4"


@pytest.mark.parametrize("size", [1, 7, 10])
def test_an_up_to_upload_url_stores_any_size_up_to_its_limit_once(storage, size):
    key = fresh_key()
    upload = storage.presigned_upload_up_to(key=key, content_type="video/mp4", max_size=10)
    assert "Content-Length" not in upload.headers and upload.headers["Content-Type"] == "video/mp4"

    response = requests.request(upload.method, upload.url, data=b"x" * size, headers=upload.headers, timeout=10)

    assert response.status_code in (200, 201), response.content
    assert storage.head(key=key) == StoredObject(size=size, content_type="video/mp4")
    again = requests.request(upload.method, upload.url, data=b"y" * size, headers=upload.headers, timeout=10)
    assert again.status_code in (409, 412)  # stored once: local refuses, S3 (If-None-Match: *) too


def test_a_local_up_to_upload_url_refuses_more_than_its_limit_before_storing(client, asset_storage):
    upload = get_storage().presigned_upload_up_to(key=KEY, content_type="video/mp4", max_size=10)

    response = put(client, urlsplit(upload.url).path, b"x" * 11)

    assert (response.status_code, response.json()["code"]) == (413, "upload_too_large")
    assert response.json()["detail"] == "This URL accepts at most 10 bytes; nothing was stored."
    assert not (asset_storage / KEY).exists()


def test_an_s3_up_to_upload_url_signs_the_content_type_and_leaves_the_size_to_head(s3_storage):
    key = fresh_key()
    upload = s3_storage.presigned_upload_up_to(key=key, content_type="video/mp4", max_size=10)
    query = parse_qs(urlsplit(upload.url).query)
    assert query["X-Amz-SignedHeaders"] == ["content-type;host;if-none-match"]

    # A real store cannot bound a presigned PUT's size: the render task's HEAD check does.
    requests.put(upload.url, data=b"x" * 20, headers=upload.headers, timeout=10)
    assert s3_storage.head(key=key).size == 20
