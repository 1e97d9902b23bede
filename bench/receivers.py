"""Webhook receivers for benchmarks: loopback HTTP servers in a process of their own that answer 200 at once.

    python -m bench.receivers COUNT    # prints {"ports": [...]} on one line, serves until stdin closes

The servers keep connections alive (HTTP/1.1), read the body and answer `200` with no body. They count
what they receive and remember when (`time.monotonic()`, which every process on the machine shares), so
the benchmark can tell when the N-th request arrived. They run in their own process so that their work
never competes for the benchmark process's GIL. Any port also answers the control paths:

- `POST /_control/reset`: forget everything received so far.
- `GET /_control/count`: `{"count": n}`, cheap enough to poll.
- `GET /_control/stats`: the count, the distinct `webhook-id`s per port, every arrival time, and the
  last request's headers and body (to check a signature).
"""

import http.client
import json
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTROL = "/_control/"
START_TIMEOUT_SECONDS = 10
STOP_TIMEOUT_SECONDS = 5


class Stats:
    """What every receiver of the process received; shared by all their connection threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.times = []
        self.deliveries = set()
        self.last_request = None

    def record(self, *, port, headers, body):
        now = time.monotonic()
        delivery_id = headers.get("webhook-id")
        with self.lock:
            self.times.append(now)
            if delivery_id:
                self.deliveries.add((port, delivery_id))
            self.last_request = {"headers": dict(headers), "body": body.decode("utf-8", "replace")}

    def snapshot(self, *, full):
        with self.lock:
            if not full:
                return {"count": len(self.times)}
            return {
                "count": len(self.times),
                "distinct": len(self.deliveries),
                "times": list(self.times),
                "last_request": self.last_request,
            }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers behind a load balancer offer

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith(CONTROL):
            self.server.stats.reset()
        else:
            self.server.stats.record(port=self.server.server_port, headers=self.headers, body=body)
        self._reply(b"")

    def do_GET(self):
        if self.path == CONTROL + "count":
            self._reply(json.dumps(self.server.stats.snapshot(full=False)).encode())
        elif self.path == CONTROL + "stats":
            self._reply(json.dumps(self.server.stats.snapshot(full=True)).encode())
        else:
            self.send_error(404)

    def _reply(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def serve(count):
    stats = Stats()
    servers = []
    for _ in range(count):
        server = Server(("127.0.0.1", 0), Handler)
        server.stats = stats
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    print(json.dumps({"ports": [server.server_port for server in servers]}), flush=True)
    # Serve until the parent closes stdin, or dies: then the pipe closes and so does this process.
    sys.stdin.read()


class Receivers:
    """The parent's handle on the receivers process."""

    def __init__(self, ports):
        self.ports = ports
        self.urls = [f"http://127.0.0.1:{port}/hooks/{number}" for number, port in enumerate(ports, start=1)]

    def reset(self):
        self._control("POST", "reset")

    def count(self):
        return self._control("GET", "count")["count"]

    def stats(self):
        return self._control("GET", "stats")

    def wait_for(self, count, *, timeout, poll=0.02):
        """Wait until `count` requests have arrived; returns False if `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return True
            time.sleep(poll)
        return False

    def _control(self, method, name):
        connection = http.client.HTTPConnection("127.0.0.1", self.ports[0], timeout=10)
        try:
            connection.request(method, CONTROL + name, body=b"" if method == "POST" else None)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{method} {CONTROL}{name} answered {response.status}")
            return json.loads(body) if body else None
        finally:
            connection.close()


@contextmanager
def receivers(*, count, root):
    """Start `count` receivers in a subprocess, yield a Receivers handle, then stop the process by its PID."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receivers", str(count)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ports = _read_ports(process)
        yield Receivers(ports)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _read_ports(process):
    result = {}
    reader = threading.Thread(target=lambda: result.update(json.loads(process.stdout.readline() or "{}")))
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    if "ports" not in result:
        raise RuntimeError(
            f"The receivers did not start within {START_TIMEOUT_SECONDS} s (exit status {process.poll()})."
        )
    return result["ports"]


if __name__ == "__main__":
    serve(int(sys.argv[1]))
