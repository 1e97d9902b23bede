"""Gunicorn serving the bench settings on a free loopback port, for the length of a `with` block."""

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15


class ServerFailed(RuntimeError):
    """Gunicorn exited or never became ready; its log says why."""


@contextmanager
def gunicorn(*, workers, root, log_path, environment):
    """Start gunicorn with `workers` sync workers, wait until /healthz answers, yield its port, then stop it."""
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "renderowl.wsgi",
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--graceful-timeout", "5",
        # The default control socket is one path per user, shared with any other gunicorn on the machine.
        "--no-control-socket",
    ]
    env = {**os.environ, **environment, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(process, port, log_path)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_ready(process, port, log_path):
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"gunicorn exited with status {process.returncode}; see {log_path}.")
        if _healthy(port):
            return
        time.sleep(0.1)
    raise ServerFailed(f"gunicorn did not answer /healthz within {READY_TIMEOUT_SECONDS} s; see {log_path}.")


def _healthy(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
