"""An HTTP proxy in front of the S3 test server, which a test drives to make the store fail the way real ones do.

The store is outside the platform, so making it fail is fair game: the proxy can answer every
request `503 SlowDown`-style (the store is down), refuse the DELETE of chosen keys, or stall a GET
after some bytes until the test releases it (a worker then blocks at a known point, mid-read).
"""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
UNAVAILABLE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
    b"<Message>The store proxy was told to fail this request.</Message></Error>"
)


class StoreProxy:
    """Forwards to `upstream`; set `down`, add to `refused_deletes` (substrings of keys) or set `stall_reads_after`."""

    def __init__(self, upstream):
        self.upstream = urlsplit(upstream)
        self.down = False
        self.refused_deletes = set()
        self.stall_reads_after = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="store-proxy", daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def refuses(self, method, path):
        if self.down:
            return True
        return method == "DELETE" and any(part in unquote(path) for part in self.refused_deletes)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _handler_for(proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if proxy.refuses(self.command, self.path):
                return self.reply(503, {"Content-Type": "application/xml"}, UNAVAILABLE)
            upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host", "expect"}}
                headers["Host"] = proxy.upstream.netloc
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                content = response.read()
                headers = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
            finally:
                upstream.close()
            stall = proxy.stall_reads_after if self.command == "GET" and response.status == 200 else None
            self.reply(response.status, headers, content, stall_after=stall)

        def reply(self, status, headers, content, stall_after=None):
            self.send_response(status)
            head = self.command == "HEAD"  # no body, but the object's Content-Length passes through
            for name, value in headers.items():
                if head or name.lower() != "content-length":
                    self.send_header(name, value)
            if not head:
                self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if head:
                return
            if stall_after is not None and stall_after < len(content):
                self.wfile.write(content[:stall_after])
                self.wfile.flush()
                proxy.stalled.set()
                proxy.release.wait(timeout=120)
                self.close_connection = True
                return  # the reader was killed, or the test is over: the rest is never sent
            self.wfile.write(content)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    return Handler
