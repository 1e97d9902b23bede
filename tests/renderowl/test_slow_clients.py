"""Slow or idle clients cannot starve the server: the Procfile's own `web:` line, started for real.

Clients that never finish their headers, and uploads that stall mid-body, are parked by the server
while other requests are answered. The failure criterion is a generous client timeout
(CLIENT_TIMEOUT_SECONDS): the issue's bound is one second, and a shared 2-core machine must not make
this test flaky; a server that starves answers never, not late.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.db import connections

from assets.storage import LocalStorage
from organizations.services import api_key_create
from tests.conftest import make_organization

SLOW_HEADER_CONNECTIONS = 50
STALLED_UPLOADS = 20
UPLOAD_SIZE = 10
CLIENT_TIMEOUT_SECONDS = 5
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20


def procfile_web_command():
    lines = (settings.BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())["web"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_tests():
    owner = connections["owner"].settings_dict
    auth = quote(owner["USER"]) + (f":{quote(owner['PASSWORD'])}" if owner["PASSWORD"] else "")
    if owner["HOST"].startswith("/"):
        return f"postgresql://{auth}@/{owner['NAME']}?host={owner['HOST']}"
    return f"postgresql://{auth}@{owner['HOST']}:{owner['PORT'] or 5432}/{owner['NAME']}"


def request(port, method, path, *, headers=None, body=None):
    """One request on a fresh connection; returns (status, headers, body) or raises on CLIENT_TIMEOUT_SECONDS."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@contextmanager
def web_server(log_path, environment):
    """The Procfile's `web:` command on a free loopback port; stopped by its PID when the block ends."""
    port = free_port()
    env = {
        **os.environ,
        **environment,
        "PORT": str(port),
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with open(log_path, "w") as log:
        # `exec` makes the server itself the child, so its PID is the one we stop. The default control
        # socket is one path per user, shared with any other gunicorn on the machine (`make run`'s).
        server = subprocess.Popen(
            ["sh", "-c", f"exec {procfile_web_command()} --no-control-socket"],
            env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(server, port, log_path)
            yield port
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_healthy(server, port, log_path):
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited ({server.returncode}):\n{log_path.read_text()[-3000:]}"
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer within {READY_TIMEOUT_SECONDS}s:\n{log_path.read_text()[-3000:]}")


def open_raw(port, data):
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_SECONDS)
    sock.sendall(data)
    return sock


@pytest.mark.django_db(transaction=True)
def test_unfinished_headers_and_stalled_uploads_do_not_block_other_requests(tmp_path):
    organization = make_organization()
    raw_key = api_key_create(organization=organization, name="slow clients").raw_key
    storage_root = tmp_path / "storage"
    storage = LocalStorage(root=storage_root, base_url="http://127.0.0.1")
    uploads = [
        storage.presigned_upload(key=f"slow/{number}.bin", content_type="application/octet-stream", size=UPLOAD_SIZE)
        for number in range(STALLED_UPLOADS)
    ]
    environment = {
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_ENV": "test",
        "ASSET_STORAGE_BACKEND": "local",
        "ASSET_STORAGE_ROOT": str(storage_root),
    }

    with web_server(tmp_path / "server.log", environment) as port, ExitStack() as held:
        for _ in range(SLOW_HEADER_CONNECTIONS):
            held.callback(open_raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").close)
        stalled = []
        for upload in uploads:
            head = (
                f"PUT {urlsplit(upload.url).path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {UPLOAD_SIZE}\r\n\r\n"
            )
            sock = open_raw(port, head.encode() + b"x" * (UPLOAD_SIZE // 2))
            held.callback(sock.close)
            stalled.append(sock)

        # The other clients' requests are answered while all of those connections stay open.
        status, headers, _ = request(port, "GET", "/healthz")
        assert status == 200
        assert headers["X-Request-Id"].startswith("req_")
        status, _, body = request(port, "GET", "/v1/projects", headers={"Authorization": f"Bearer {raw_key}"})
        assert status == 200, body

        # A stalled upload that resumes still completes: it was parked, not dropped.
        stalled[0].sendall(b"x" * (UPLOAD_SIZE - UPLOAD_SIZE // 2))
        response = http.client.HTTPResponse(stalled[0], method="PUT")
        response.begin()
        assert response.status == 201, response.read()
    assert (storage_root / "slow" / "0.bin").read_bytes() == b"x" * UPLOAD_SIZE

