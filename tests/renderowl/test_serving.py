"""The web process's ASGI handler (renderowl.serving), driven in-process over the ASGI protocol.

Bodies that stall, bodies too large to read, and uploads their headers already refuse are answered
before any thread runs Django, and without reading what the client would send next.
"""

import io
import json
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.test import override_settings

from assets.storage import get_storage
from renderowl.serving import RenderowlASGIHandler

ANSWER_TIMEOUT_SECONDS = 5


def scope(method, path, headers):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *[(name.encode(), value.encode()) for name, value in headers.items()]],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


@async_to_sync
async def exchange(request_scope, *chunks, complete=False, with_messages=False):
    """Send `chunks` (each followed by more to come), then return (status, headers, body) of the answer.

    `complete` ends the body after the chunks; `with_messages` adds how many body messages the answer had.
    """
    communicator = ApplicationCommunicator(RenderowlASGIHandler(threads=1), request_scope)
    for chunk in chunks:
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": True})
    if complete:
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(ANSWER_TIMEOUT_SECONDS)
    body, messages = b"", 0
    while True:
        message = await communicator.receive_output(ANSWER_TIMEOUT_SECONDS)
        body += message.get("body", b"")
        messages += 1
        if not message.get("more_body", False):
            break
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(ANSWER_TIMEOUT_SECONDS)
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return (start["status"], headers, body, messages) if with_messages else (start["status"], headers, body)


def problem_code(body):
    return json.loads(body)["code"]


@override_settings(REQUEST_BODY_TIMEOUT_SECONDS=0.2)
def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed():
    request_scope = scope("POST", "/v1/projects", {"content-type": "application/json", "content-length": "100"})
    status, headers, body = exchange(request_scope, b'{"name": ')
    assert status == 408
    assert problem_code(body) == "request_timeout"
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert headers["content-length"] == str(len(body))
    assert json.loads(body)["requestId"] == headers["x-request-id"]
    assert headers["x-request-id"].startswith("req_")


@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_a_body_declared_over_the_limit_is_refused_before_any_of_it_is_read():
    request_scope = scope("POST", "/v1/projects", {"content-type": "application/json", "content-length": "1001"})
    status, _, body = exchange(request_scope)
    assert status == 413
    assert problem_code(body) == "request_too_large"


@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_a_chunked_body_over_the_limit_is_refused_once_it_passes_it():
    request_scope = scope("POST", "/v1/projects", {"content-type": "application/json", "transfer-encoding": "chunked"})
    status, _, body = exchange(request_scope, b" " * 600, b" " * 600)
    assert status == 413
    assert problem_code(body) == "request_too_large"


def test_a_signed_upload_its_headers_refuse_is_answered_before_its_body_is_read():
    request_scope = scope(
        "PUT", "/v1/storage/upload/not-a-token", {"content-type": "video/mp4", "content-length": "5000000000"}
    )
    status, _, body = exchange(request_scope)
    assert status == 403
    assert problem_code(body) == "invalid_signature"


def test_a_download_is_sent_in_chunks_as_the_file_is_read(settings, tmp_path):
    settings.ASSET_STORAGE_BACKEND = "local"
    settings.ASSET_STORAGE_ROOT = tmp_path
    storage = get_storage()
    content = bytes(range(256)) * 1200  # 300 KiB: several of the handler's 64 KiB chunks
    storage.save(key="files/clip.bin", content_type="application/octet-stream", stream=io.BytesIO(content))
    path = urlsplit(storage.presigned_download(key="files/clip.bin").url).path

    status, headers, body, messages = exchange(scope("GET", path, {}), complete=True, with_messages=True)
    assert status == 200
    assert body == content
    assert headers["content-length"] == str(len(content))
    assert headers["x-request-id"].startswith("req_")
    assert messages > 4
