"""Outgoing HTTP for webhooks, guarded against server-side request forgery.

The host is resolved once per connection, every address it resolves to is checked, and the
socket is opened to the checked address: a DNS answer cannot change between check and dial.
TLS still verifies the certificate against the URL's host name.
"""

import contextvars
import ipaddress
import logging
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

logger = logging.getLogger(__name__)

NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Denied whatever this Python's ipaddress tables say (older 3.11 releases call some of them global).
ALWAYS_DENIED = [
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
        "::/128", "::1/128", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7",
        "fe80::/10", "fec0::/10", "ff00::/8",
    )
]


class BlockedDestination(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to, is not public."""


def address_is_public(address):
    """False for loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved and unspecified."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_is_public(str(embedded))
        if ip.is_site_local:
            return False
    if any(ip in network for network in ALWAYS_DENIED if network.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def address_is_allowed(address):
    if settings.WEBHOOKS_ALLOW_LOOPBACK and ipaddress.ip_address(address).is_loopback:
        return True
    return address_is_public(address)


# One message whether the name does not resolve or resolves somewhere private, so that the
# answer cannot be used to map the operator's internal network; the detail goes to the log.
NOT_PUBLIC = (
    "The URL's host does not resolve to a public address; webhooks are only sent to public "
    "(not private, loopback, link-local or reserved) addresses."
)


def resolve_allowed(host, port):
    """The addresses `host` resolves to, all checked; raises BlockedDestination if any is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        logger.info("webhook host does not resolve", extra={"host": host, "error": str(exc)})
        raise BlockedDestination(NOT_PUBLIC) from exc
    addresses = []
    for family, _, _, _, sockaddr in infos:
        address = sockaddr[0]
        if not address_is_allowed(address):
            logger.info("webhook host is not public", extra={"host": host, "address": address})
            raise BlockedDestination(NOT_PUBLIC)
        addresses.append((family, sockaddr))
    return addresses


def check_url(url):
    """Validate a receiver URL (scheme, host, resolved addresses); raises BlockedDestination with the reason."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. an unterminated [IPv6 literal
        raise BlockedDestination("The URL is malformed.") from exc
    allowed_schemes = {"https"} if settings.WEBHOOKS_REQUIRE_HTTPS else {"http", "https"}
    if parts.scheme not in allowed_schemes:
        raise BlockedDestination(f"The URL must use {' or '.join(sorted(allowed_schemes))}.")
    if not host:
        raise BlockedDestination("The URL has no host.")
    if parts.username or parts.password:
        raise BlockedDestination("The URL must not carry credentials.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedDestination("The URL's port is invalid.") from exc
    resolve_allowed(host, port)


class ExchangeTimeout(Exception):
    """The whole exchange (connect, send, read) took longer than its deadline; the connection was cut."""


_deadline_connections = contextvars.ContextVar("webhook_deadline_connections", default=None)


@contextmanager
def exchange_deadline(seconds):
    """Cut every connection the block uses once `seconds` have passed since it began.

    urllib3's timeouts bound each socket operation, so a receiver that trickles its headers or
    body a byte at a time could hold an attempt for ever; this bounds the whole exchange. A
    watchdog thread shuts the sockets down at the deadline, which makes the blocked read fail.
    """
    watch = _DeadlineWatch()
    token = _deadline_connections.set(watch)
    timer = threading.Timer(seconds, watch.expire)
    timer.daemon = True
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
        _deadline_connections.reset(token)


class _DeadlineWatch:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = []
        self.sockets = []
        self.expired = False

    def add(self, connection):
        with self.lock:
            if self.expired:
                raise ExchangeTimeout("The deadline passed before the request was sent.")
            self.connections.append(connection)

    def add_socket(self, sock):
        """The connected socket; kept apart because a response that closes the connection still reads from it."""
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                self._shut(sock)

    def expire(self):
        with self.lock:
            self.expired = True
            for sock in [*self.sockets, *(getattr(connection, "sock", None) for connection in self.connections)]:
                self._shut(sock)

    @staticmethod
    def _shut(sock):
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read, which then sees the end of the stream
            except OSError:
                pass  # already closed


class _GuardedConnectionMixin:
    def request(self, *args, **kwargs):
        watch = _deadline_connections.get()
        if watch is not None:
            watch.add(self)
        result = super().request(*args, **kwargs)
        if watch is not None:
            watch.add_socket(self.sock)
        return result

    def _new_conn(self):
        last_error = None
        for family, sockaddr in resolve_allowed(self._dns_host, self.port):
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():  # urllib3's TCP_NODELAY: no delayed-ACK stall
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                last_error = exc
        raise urllib3.exceptions.NewConnectionError(self, f"Failed to connect: {last_error}")


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


def guarded_pool_manager(**kwargs):
    """A urllib3 PoolManager whose every connection goes through the address check."""
    manager = urllib3.PoolManager(**kwargs)
    manager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}
    return manager
