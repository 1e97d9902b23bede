"""Asset storage for tests: a private local root per test, moto's S3 server over HTTP, and a live WSGI server.

Set S3_TEST_ENDPOINT_URL (and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, S3_TEST_BUCKET) to run the S3
tests against another S3-compatible server, such as MinIO, instead of starting moto.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from django.core.wsgi import get_wsgi_application

from assets.storage import get_storage

S3_TEST_BUCKET = os.environ.get("S3_TEST_BUCKET", "renderowl-test-assets")
S3_TEST_REGION = "us-east-1"


@pytest.fixture(autouse=True)
def asset_storage(settings, tmp_path):
    """Every asset test stores its files under its own temporary root, with the local backend unless it asks for S3."""
    settings.ASSET_STORAGE_BACKEND = "local"
    settings.ASSET_STORAGE_ROOT = tmp_path / "storage"
    return settings.ASSET_STORAGE_ROOT


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _s3_credentials():
    return {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }


def _wait_until_answering(url, process, deadline_seconds=20):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with status {process.returncode} before answering.")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"moto_server did not answer on {url} within {deadline_seconds} s.")


def _stop(process):
    """Stop the server and anything it spawned (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 API over real HTTP with the test bucket in it: S3_TEST_ENDPOINT_URL, or moto's standalone server."""
    external = os.environ.get("S3_TEST_ENDPOINT_URL")
    process = None
    if external:
        endpoint = external.rstrip("/")
    else:
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        if process is not None:
            _wait_until_answering(endpoint, process)
        client = boto3.client("s3", endpoint_url=endpoint, region_name=S3_TEST_REGION, **_s3_credentials())
        try:
            client.create_bucket(Bucket=S3_TEST_BUCKET)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise
        yield endpoint
    finally:
        if process is not None:
            _stop(process)


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    """Switch the test to the S3 backend on the test bucket."""
    credentials = _s3_credentials()
    settings.ASSET_STORAGE_BACKEND = "s3"
    settings.AWS_STORAGE_BUCKET_NAME = S3_TEST_BUCKET
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = S3_TEST_REGION
    settings.AWS_ACCESS_KEY_ID = credentials["aws_access_key_id"]
    settings.AWS_SECRET_ACCESS_KEY = credentials["aws_secret_access_key"]
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    return get_storage()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def live_server_url():
    """The whole Django app served over real HTTP in a thread (no database: storage views must not need one)."""
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="storage-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def local_storage(settings, live_server_url):
    """The local backend, its signed URLs pointing at the live server."""
    settings.PUBLIC_BASE_URL = live_server_url
    return get_storage()


@pytest.fixture
def store_proxy(s3_endpoint):
    """A proxy in front of the S3 test server that the test can make fail or stall (tests/assets/store_proxy.py)."""
    from tests.assets.store_proxy import StoreProxy

    proxy = StoreProxy(s3_endpoint)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def s3_behind_proxy(s3_storage, settings, store_proxy):
    """The S3 backend, reaching the store through `store_proxy`."""
    settings.AWS_S3_ENDPOINT_URL = store_proxy.url
    return store_proxy


@pytest.fixture
def s3_objects(s3_endpoint):
    """The keys in the test bucket, read straight from the store (not through the proxy or the platform)."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=S3_TEST_REGION, **_s3_credentials())

    def keys(prefix=""):
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=S3_TEST_BUCKET, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", ())}

    return keys
