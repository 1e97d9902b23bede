"""The client against a local server that misbehaves on purpose: what is retried, how long it waits, that a
retried POST reuses its Idempotency-Key (so the platform replays instead of creating twice), event streams
that break, and answers of the wrong shape."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from conftest import unique

from renderowl_sdk import (
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    RateLimitError,
    Renderowl,
    RenderowlError,
    ServerError,
    ValidationError,
)

PROJECT = {"id": "prj_fake", "name": "Fake", "slug": "fake", "description": "", "metadata": {},
           "createdAt": "2026-12-06T09:00:00Z", "updatedAt": "2026-12-06T09:00:00Z", "deletedAt": None,
           "webhookSecret": "00" * 32}


def problem(status, code, **extra):
    return {"type": f"urn:renderowl:problem:{code}", "title": "x", "status": status, "detail": f"{code} on purpose",
            "code": code, "errors": [], "requestId": "req_fake", **extra}


class FlakyServer:
    """Answers each request with the next scripted action: (status, body, headers), "drop" (close the
    connection without answering), "hang" (answer nothing until the test ends) or "proxy" (forward to the
    platform and answer with its response) / ("proxy-then", status) (forward, then answer `status` instead)."""

    def __init__(self, script, upstream=None):
        self.script = list(script)
        self.seen = []
        self.release = threading.Event()
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                flaky.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                   "body": body})
                action = flaky.script.pop(0) if flaky.script else "proxy"
                if action == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if action == "hang":
                    flaky.release.wait(30)
                    self.close_connection = True
                    return
                if action == "proxy" or (isinstance(action, tuple) and action[0] == "proxy-then"):
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    upstream_response = httpx.request(self.command, upstream + self.path, headers=headers, content=body)
                    flaky.upstream.append(upstream_response)
                    if action == "proxy":
                        self.reply(upstream_response.status_code, upstream_response.content,
                                   {"Content-Type": upstream_response.headers["content-type"]})
                        return
                    action = (action[1], problem(action[1], "internal_error"), {})
                status, payload, headers = action
                if isinstance(payload, bytes):  # sent as it is, with the headers given
                    self.reply(status, payload, headers)
                    return
                self.reply(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})

            def reply(self, status, body, headers):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any

            def log_message(self, *args):
                pass

        self.upstream_url = upstream
        self.upstream = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky(request):
    servers = []

    def make(script, upstream=None, **client_options):
        server = FlakyServer(script, upstream)
        servers.append(server)
        client = Renderowl(api_key="rwl_test_" + "f" * 40 if upstream is None else None, base_url=server.url,
                           **client_options)
        client.sleeps = []
        client._sleep = client.sleeps.append  # observe the backoff instead of waiting it out
        return server, client

    yield make
    for server in servers:
        server.close()


def test_a_lost_response_is_retried_with_the_same_key_and_the_platform_replays(flaky, client):
    name = unique("Retried")
    server, retrying = flaky([("proxy-then", 503), "proxy"], upstream=client.base_url)
    created = retrying.projects.create(name=name)

    keys = {request["headers"]["Idempotency-Key"] for request in server.seen}
    assert len(server.seen) == 2 and len(keys) == 1
    first, replay = server.upstream
    assert first.status_code == 201 and first.headers["Idempotent-Replayed"] == "false"
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert created.id == first.json()["id"]
    assert [p.id for p in client.projects.list(limit=100) if p.name == name] == [created.id]


def test_429_waits_as_long_as_retry_after_says(flaky):
    server, client = flaky([(429, problem(429, "rate_limited"), {"Retry-After": "7"}), (200, PROJECT, {})])
    assert client.projects.get("prj_fake").id == "prj_fake"
    assert client.sleeps == [7.0] and len(server.seen) == 2


def test_5xx_is_retried_twice_with_exponential_backoff_then_raised(flaky):
    server, client = flaky([(500, problem(500, "internal_error"), {})] * 3)
    with pytest.raises(ServerError) as caught:
        client.projects.update("prj_fake", name="x")
    assert caught.value.status == 500 and caught.value.request_id == "req_fake"
    assert len(server.seen) == 3
    first, second = client.sleeps
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0  # 0.5 s, then 1 s, each less up to 25 % jitter


def test_max_retries_is_configurable(flaky):
    server, client = flaky([(503, problem(503, "unavailable"), {})] * 2, max_retries=0)
    with pytest.raises(ServerError):
        client.projects.get("prj_fake")
    assert len(server.seen) == 1 and client.sleeps == []


def test_408_and_a_concurrent_idempotent_request_are_retried(flaky):
    server, client = flaky([
        (408, problem(408, "request_timeout"), {}),
        (409, problem(409, "idempotency_request_in_progress"), {}),
        (201, PROJECT, {}),
    ])
    assert client.projects.create(name="Fake").id == "prj_fake"
    assert len(server.seen) == 3
    assert len({request["headers"]["Idempotency-Key"] for request in server.seen}) == 1


def test_other_conflicts_and_validation_errors_are_not_retried(flaky):
    server, client = flaky([(409, problem(409, "slug_taken"), {}),
                            (400, problem(400, "validation_error", errors=[{"field": "name", "message": "Bad."}]), {})])
    with pytest.raises(ConflictError):
        client.projects.create(name="Fake")
    with pytest.raises(ValidationError) as caught:
        client.projects.create(name="Fake")
    assert caught.value.errors == [{"field": "name", "message": "Bad."}]
    assert len(server.seen) == 2 and client.sleeps == []
    assert server.seen[0]["headers"]["Idempotency-Key"] != server.seen[1]["headers"]["Idempotency-Key"]


def test_a_dropped_connection_is_retried(flaky):
    server, client = flaky(["drop", (200, PROJECT, {})])
    assert client.projects.get("prj_fake").id == "prj_fake"
    assert len(server.seen) == 2


def test_a_connection_that_keeps_dropping_is_an_api_connection_error(flaky):
    server, client = flaky(["drop"] * 3)
    with pytest.raises(APIConnectionError):
        client.projects.get("prj_fake")
    assert len(server.seen) == 3


def test_a_slow_answer_is_a_timeout_error(flaky):
    server, client = flaky(["hang"], max_retries=0, timeout=0.3)
    with pytest.raises(APITimeoutError):
        client.projects.get("prj_fake")


def test_rate_limit_error_carries_retry_after(flaky):
    server, client = flaky([(429, problem(429, "rate_limited"), {"Retry-After": "30"})], max_retries=0)
    with pytest.raises(RateLimitError) as caught:
        client.projects.get("prj_fake")
    assert caught.value.retry_after == 30.0


def test_a_failed_upload_put_is_sent_again_in_full(flaky, tmp_path):
    from renderowl_sdk.models import Upload
    from renderowl_sdk.resources.assets import _Source

    server, client = flaky([(503, b"busy", {}), (201, b"{}", {"Content-Type": "application/json"})])
    data = bytes(range(256)) * 5000  # more than one chunk
    path = tmp_path / "clip.bin"
    path.write_bytes(data)
    upload = Upload.from_dict({"url": server.url + "/v1/storage/upload/token", "method": "PUT",
                               "headers": {"Content-Type": "video/mp4", "Content-Length": str(len(data))}})
    client.assets.put_file(upload, _Source(path, None))
    assert [request["body"] for request in server.seen] == [data, data]
    assert all("Authorization" not in request["headers"] for request in server.seen)


def sse(*events):
    return "".join(f"id: {event_id}\ndata: {json.dumps(job)}\n\n" for event_id, job in events).encode()


def test_the_event_stream_resumes_after_the_last_event_when_cut(flaky):
    rendering = {"id": "rnd_1", "status": "rendering", "stage": "rendering", "progress": 0.5}
    completed = {"id": "rnd_1", "status": "completed", "stage": "", "progress": 1.0, "outputUrl": "http://x/o.mp4"}
    stream_headers = {"Content-Type": "text/event-stream"}
    server, client = flaky([
        (200, b"retry: 2000\n\n: keepalive\n\n" + sse(("1-0", rendering)), stream_headers),  # then closed early
        (200, sse(("2-0", completed)), stream_headers),
    ])
    seen = []
    final = client.renders.wait("rnd_1", on_progress=seen.append)
    assert [job.status for job in seen] == ["rendering", "completed"] and final.output_url == "http://x/o.mp4"
    assert "Last-Event-ID" not in server.seen[0]["headers"]
    assert server.seen[1]["headers"]["Last-Event-ID"] == "1-0"


def test_a_finished_stream_answers_204_and_ends(flaky):
    server, client = flaky([(204, b"", {})])
    assert list(client.renders.stream("rnd_1", last_event_id="9-0")) == []


def test_retry_after_as_an_http_date():
    import email.utils
    import time

    from renderowl_sdk._client import parse_retry_after

    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= parse_retry_after(in_ten) <= 10
    assert parse_retry_after("soon") is None and parse_retry_after("-3") == 0.0


def test_a_stream_that_keeps_closing_without_news_falls_back_to_polling(flaky):
    empty = (200, b": keepalive\n\n", {"Content-Type": "text/event-stream"})
    completed = {"id": "rnd_1", "status": "completed", "progress": 1.0, "outputUrl": "http://x/o.mp4"}
    server, client = flaky([empty, empty, empty, (200, completed, {})])
    assert client.renders.wait("rnd_1").status == "completed"
    assert [request["path"] for request in server.seen] == ["/v1/renders/rnd_1/events"] * 3 + ["/v1/renders/rnd_1"]
    assert client.sleeps == [0.5, 1.0]


def test_a_response_that_is_not_an_object_is_an_api_error_not_a_crash(flaky):
    from renderowl_sdk import APIStatusError

    server, client = flaky([(200, ["not", "a", "project"], {}),
                            (200, b"<html>Sign in to the Wi-Fi</html>", {"Content-Type": "text/html"})])
    with pytest.raises(APIStatusError, match="Expected a Project object") as caught:
        client.projects.get("prj_fake")
    assert caught.value.code == "invalid_response"
    with pytest.raises(APIStatusError, match="Expected JSON") as caught:  # a captive portal
        client.projects.get("prj_fake")
    assert (caught.value.status, caught.value.code) == (200, "invalid_response")


def test_waiting_on_a_stream_that_only_keeps_alive_ends_at_the_timeout(flaky):
    from renderowl_sdk import WaitTimeoutError

    quiet = b"id: 1-0\ndata: " + json.dumps({"id": "rnd_1", "status": "queued"}).encode() + b"\n\n" + b": keepalive\n\n" * 3
    server, client = flaky([(200, quiet, {"Content-Type": "text/event-stream"})])
    with pytest.raises(WaitTimeoutError):
        client.renders.wait("rnd_1", timeout=0)


def test_a_retry_after_over_the_cap_is_raised_at_once_not_retried(flaky):
    server, client = flaky([(429, problem(429, "rate_limited"), {"Retry-After": "3600"})] * 3)
    with pytest.raises(RateLimitError) as caught:
        client.projects.get("prj_fake")
    assert caught.value.retry_after == 3600.0
    assert len(server.seen) == 1 and client.sleeps == []


def test_connection_and_timeout_errors_carry_a_code(flaky):
    server, client = flaky(["drop"], max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        client.projects.get("prj_fake")
    assert caught.value.code == "connection_error" and caught.value.to_dict()["code"] == "connection_error"
    server, client = flaky(["hang"], max_retries=0, timeout=0.3)
    with pytest.raises(APITimeoutError) as caught:
        client.projects.get("prj_fake")
    assert caught.value.code == "timeout"


def test_an_html_error_page_from_a_proxy_is_a_short_typed_error(flaky):
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"<p>padding</p>" * 200_000 + b"</body></html>"
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code></Error>'
    server, client = flaky([(502, page, {"Content-Type": "text/html"}), (414, b"URI Too Long\n\nmore", {}),
                            (403, xml, {"Content-Type": "application/xml"})], max_retries=0)
    with pytest.raises(ServerError) as caught:
        client.projects.get("prj_fake")
    error = caught.value
    assert (error.status, error.code, error.request_id) == (502, "http_502", None)
    assert "HTML" in error.detail and "<html" not in error.detail and len(str(error)) < 300
    with pytest.raises(Exception) as caught:
        client.projects.get("prj_fake")
    assert caught.value.detail == "HTTP 414: URI Too Long"
    with pytest.raises(Exception) as caught:  # storage's XML keeps its code
        client.projects.get("prj_fake")
    assert caught.value.detail == 'HTTP 403: <?xml version="1.0" encoding="UTF-8"?> <Error><Code>AccessDenied</Code></Error>'


def test_malformed_field_errors_in_a_problem_are_dropped_not_passed_on(flaky):
    body = problem(400, "validation_error", errors=[None, "text", {"field": "name", "message": "Bad."}])
    server, client = flaky([(400, body, {})])
    with pytest.raises(ValidationError) as caught:
        client.projects.get("prj_fake")
    assert caught.value.errors == [{"field": "name", "message": "Bad."}]


def test_a_stream_event_that_is_not_an_object_is_resumed_like_a_cut_one(flaky):
    stream_headers = {"Content-Type": "text/event-stream"}
    completed = {"id": "rnd_1", "status": "completed", "progress": 1.0, "outputUrl": "http://x/o.mp4"}
    server, client = flaky([(200, b"id: 1-0\ndata: [1, 2]\n\n", stream_headers),
                            (200, sse(("2-0", completed)), stream_headers)])
    assert [job.status for job in client.renders.stream("rnd_1")] == ["completed"]
    assert len(server.seen) == 2
    assert "Last-Event-ID" not in server.seen[1]["headers"]  # event 1-0 was not read: it is asked for again


def test_a_newer_servers_field_and_enum_value_do_not_break_this_client(flaky):
    newer = {"id": "rnd_1", "projectId": "prj_1", "status": "paused", "stage": "thawing", "progress": 0.5,
             "carbonGrams": 12, "error": {"code": "x", "message": "y", "hint": "new"}}
    server, client = flaky([(200, newer, {})])
    job = client.renders.get("rnd_1")
    assert (job.status, job.stage, job.extra) == ("paused", "thawing", {"carbonGrams": 12})
    assert job.error.extra == {"hint": "new"} and job.to_dict() == newer


def test_a_page_whose_next_cursor_is_its_own_is_an_error_not_an_endless_walk(flaky):
    page = {"data": [PROJECT], "hasMore": True, "nextCursor": "again"}
    server, client = flaky([(200, page, {}), (200, page, {}), (200, page, {})])
    seen = []
    with pytest.raises(RenderowlError) as caught:
        for project in client.projects.list():
            seen.append(project.id)
    assert caught.value.code == "invalid_response"
    assert seen == ["prj_fake", "prj_fake"]  # the first page, then the page "again" that names itself
    assert len(server.seen) == 2
