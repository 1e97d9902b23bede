"""The SDK's tests run against a live platform: `scripts/devstack.py stack` starts one and sets
RENDEROWL_BASE_URL and RENDEROWL_API_KEY. Without them the run stops at once, saying so."""

from __future__ import annotations

import json
import os
import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from renderowl_sdk import Renderowl

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "examples" / "templates" / "promo-card.json"
SMALL = {"format": "mp4", "width": 320, "height": 180, "fps": 15}


def pytest_configure(config):
    missing = [name for name in ("RENDEROWL_BASE_URL", "RENDEROWL_API_KEY") if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError(
            f"{' and '.join(missing)} not set: the SDK's tests need a live platform. Run them through "
            "`python scripts/devstack.py stack sh -c 'cd sdk/python && python -m pytest tests'` "
            "(make sdk-test), which starts one and sets both."
        )


@pytest.fixture(scope="session")
def client():
    with Renderowl() as renderowl:
        yield renderowl


def unique(prefix="sdk"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def project(client):
    """One project for the session; tests that change projects make their own."""
    return client.projects.create(name=unique("SDK session"))


@pytest.fixture(scope="session")
def template(client, project):
    """The promo-card template, uploaded and ready."""
    asset = client.assets.upload(project.id, TEMPLATE, wait=True)
    assert asset.status == "ready", asset.error
    return asset


@pytest.fixture(scope="session")
def completed_render(client, project, template):
    job = client.renders.submit(project.id, template_id=template.id, input_props={"title": "Session"}, output=SMALL)
    done = client.renders.wait(job.id, timeout=120)
    assert done.status == "completed", done.error
    return done


class Receiver:
    """A local HTTP server that records every request and answers from a queue of (status, body) replies."""

    def __init__(self):
        self.requests: queue.Queue = queue.Queue()
        self.replies: list = []
        self.default = (200, b"ok")
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.put({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                status, reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def next(self, timeout=30.0, event_type=None):
        """The next request received (of `event_type`, skipping others), waiting up to `timeout` s."""
        while True:
            request = self.requests.get(timeout=timeout)
            if event_type is None or json.loads(request["body"]).get("type") == event_type:
                return request

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
