"""A real HTTP(S) server for a render's URL inputs: files from a directory plus scripted routes, on a loopback port.

It counts the connections it accepts and records the paths it is asked for, so a test can prove that
the guard refused a URL before anything reached the server.
"""

import datetime
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".m4a": "audio/mp4", ".ttf": "font/ttf"}


class SourceServer:
    """Serves `root`'s files at `/<name>`; `routes[path](handler)` answers a path instead. A context manager."""

    def __init__(self, root, *, tls_files=None):
        self.root = Path(root)
        self.routes = {}
        self.paths = []
        self.connections = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                with server.lock:
                    server.connections += 1
                super().setup()

            def do_GET(self):
                with server.lock:
                    server.paths.append(self.path)
                route = server.routes.get(self.path.split("?", 1)[0])
                try:
                    if route is not None:
                        route(self)
                    else:
                        self.send_file(server.root / self.path.lstrip("/").split("?", 1)[0])
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

            def send_file(self, path):
                if not path.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls_files is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_files)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path, *, host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.server.server_port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()  # ends the routes that wait or trickle
        self.server.shutdown()
        self.server.server_close()


def redirect(location, status=302):
    """A route that redirects to `location`."""

    def answer(handler):
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def body(size, *, declare_length=True):
    """A route that answers `size` bytes, with a Content-Length or chunked (its size unknown until the end)."""

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        if declare_length:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        block = b"\0" * 65536
        sent = 0
        while sent < size:
            part = block[: min(len(block), size - sent)]
            handler.wfile.write(part if declare_length else b"%x\r\n%s\r\n" % (len(part), part))
            sent += len(part)
        if not declare_length:
            handler.wfile.write(b"0\r\n\r\n")

    return answer


def drip(server, *, every=0.05, headers=True):
    """A route that trickles a byte every `every` seconds until the client goes or the server stops.

    Without `headers` it sends nothing at all: a server that accepts the connection and never answers.
    """

    def answer(handler):
        handler.close_connection = True
        if headers:
            handler.send_response(200)
            handler.send_header("Content-Type", "video/mp4")
            handler.send_header("Connection", "close")  # no length: the body ends when the connection does
            handler.end_headers()
        while not server.stopping.wait(every):
            if headers:
                handler.wfile.write(b"\0")
                handler.wfile.flush()

    return answer


def self_signed_certificate(directory, host="127.0.0.1"):
    """A certificate and key for `host` that no one trusts: (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
