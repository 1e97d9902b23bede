"""The Procfile's web server, with the bench settings, on a free loopback port for the length of a `with` block.

BENCH_WEB_COMMAND replaces the Procfile's `web:` command; bench/run.py's BENCH_COMPARE_WEB_COMMAND runs a
second server beside it, to measure another serving model side by side (see bench/README.md).
"""

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
def gunicorn(*, workers, root, log_path, environment, command=None):
    """Start the web command (or `command`) with `workers` processes, wait for /healthz, yield its port, stop it."""
    port = _free_port()
    # The default control socket is one path per user, shared with any other gunicorn on the machine.
    command = f"exec {command or web_command(root)} --no-control-socket"
    env = {
        **os.environ,
        **environment,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with open(log_path, "w") as log:
        # `exec`: the server is the child itself, so its PID is the one stopped (and measured).
        process = subprocess.Popen(["sh", "-c", command], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
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


def web_command(root):
    """BENCH_WEB_COMMAND, or the Procfile's `web:` command: what `make run` serves."""
    if os.environ.get("BENCH_WEB_COMMAND"):
        return os.environ["BENCH_WEB_COMMAND"]
    return procfile_command(root, "web")


def procfile_command(root, process_type):
    """The Procfile's command for `process_type` (web, renders, …), as `make run` starts it."""
    lines = (Path(root) / "Procfile").read_text().splitlines()
    commands = dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))
    if process_type not in commands:
        raise RuntimeError(f"The Procfile has no {process_type}: line; the benchmark starts that process from it.")
    return commands[process_type]


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
