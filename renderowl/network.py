"""Outgoing HTTP to URLs a customer gave (webhook receivers, render sources), guarded against server-side request forgery.

The host is resolved once per connection, every address it resolves to is checked, and the
socket is opened to the checked address: a DNS answer cannot change between check and dial.
TLS still verifies the certificate against the URL's host name. URLs are dialed as
`normalize_url` writes them. Refused: every non-public address (`address_is_public`), and the
operator's OUTBOUND_DENY_NETWORKS; loopback is allowed only with OUTBOUND_ALLOW_LOOPBACK
(development and tests).

`url_check` judges a URL (with or without resolving its host), `guarded_pool_manager` dials only
checked addresses, and `exchange_deadline` bounds a whole exchange, not just each socket operation.
"""

import contextvars
import functools
import heapq
import ipaddress
import itertools
import logging
import os
import re
import socket
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import idna
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
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
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


@functools.lru_cache(maxsize=8)
def _operator_denied(networks):
    return [ipaddress.ip_network(network, strict=False) for network in networks]


def address_is_allowed(address):
    """Public and outside the operator's OUTBOUND_DENY_NETWORKS; loopback too if OUTBOUND_ALLOW_LOOPBACK."""
    ip = ipaddress.ip_address(address)
    candidates = [ip, ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else [ip]
    denied = _operator_denied(tuple(settings.OUTBOUND_DENY_NETWORKS))
    if any(candidate in network for candidate in candidates for network in denied if network.version == candidate.version):
        return False
    if settings.OUTBOUND_ALLOW_LOOPBACK and ip.is_loopback:
        return True
    return address_is_public(address)


# One message whether the name does not resolve or resolves somewhere private, so that the
# answer cannot be used to map the operator's internal network; the detail goes to the log.
NOT_PUBLIC = (
    "The URL's host does not resolve to a public address; only public (not private, loopback, link-local or "
    "reserved) addresses may be called."
)


def resolve_allowed(host, port, *, refusal=NOT_PUBLIC):
    """The addresses `host` resolves to, all checked; raises BlockedDestination(refusal) if any is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        logger.info("outbound host does not resolve", extra={"host": host, "error": str(exc)})
        raise BlockedDestination(refusal) from exc
    addresses = []
    for family, _, _, _, sockaddr in infos:
        address = sockaddr[0]
        if not address_is_allowed(address):
            logger.info("outbound host is not public", extra={"host": host, "address": address})
            raise BlockedDestination(refusal)
        addresses.append((family, sockaddr))
    return addresses


class InvalidUrl(ValueError):
    """The text is not an http(s) URL with a valid host and port; the message says what to fix."""


URL_MESSAGE = "Must be an http:// or https:// URL with a host, without spaces."
_HOST_NAME = re.compile(r"^(?=.{1,253}\.?$)[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*\.?$")
_INET_ATON_FORM = re.compile(r"^[0-9a-fx.]+$")


def normalize_url(url):
    """The URL as it will be dialed: scheme and host in lower case, the host IDNA-encoded (UTS #46: full-width
    characters, upper case and Unicode mapped as browsers map them), IP literals and the port canonical.

    Raises InvalidUrl for anything but an http(s) URL with a valid host and a port from 1 to 65535.
    """
    if not isinstance(url, str) or any(character.isspace() or not character.isprintable() for character in url):
        raise InvalidUrl(URL_MESSAGE)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. an unterminated [IPv6 literal
        raise InvalidUrl(f"The URL is malformed. {URL_MESSAGE}") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidUrl(URL_MESSAGE)
    if not host:
        raise InvalidUrl("The URL has no host.")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise InvalidUrl("The URL's port must be a number from 1 to 65535.")
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@" if userinfo else ""
    netloc += _normalize_host(host, literal=parts.netloc[len(netloc):].startswith("["))
    if port is not None:
        netloc += f":{port}"
    return parts._replace(scheme=scheme, netloc=netloc).geturl()


def _normalize_host(host, *, literal):
    if literal:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError as exc:
            raise InvalidUrl("The URL's host is not a valid IPv6 address.") from exc
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidUrl("The URL's host is not a valid host name.") from exc
    host = host.lower()
    if _INET_ATON_FORM.match(host):
        # 2130706433, 0x7f000001 and 127.1 are all 127.0.0.1 to the resolver: store what it will dial.
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            pass
    if not _HOST_NAME.match(host):
        raise InvalidUrl("The URL's host is not a valid host name.")
    return host


URL_MAX_LENGTH = 2048


def url_check(url, *, resolve=True, require_https=False, refusal=NOT_PUBLIC):
    """The URL normalized (normalize_url), if it may be called; raises BlockedDestination with the reason.

    Without `resolve`, only what needs no DNS is judged (scheme, host, port, length, credentials, and an IP
    literal host's address): for a check at submission, ahead of the guarded dial that resolves.
    """
    if isinstance(url, str) and len(url) > URL_MAX_LENGTH:
        raise BlockedDestination(f"The URL is {len(url)} characters long; at most {URL_MAX_LENGTH} are allowed.")
    try:
        url = normalize_url(url)
    except InvalidUrl as exc:
        raise BlockedDestination(str(exc)) from exc
    parts = urlsplit(url)
    if require_https and parts.scheme != "https":
        raise BlockedDestination("The URL must use https.")
    if parts.username or parts.password:
        raise BlockedDestination("The URL must not carry credentials.")
    if resolve:
        resolve_allowed(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), refusal=refusal)
    elif _is_ip_literal(parts.hostname) and not address_is_allowed(parts.hostname):
        raise BlockedDestination(refusal)
    return url


def _is_ip_literal(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class ExchangeTimeout(Exception):
    """The whole exchange (connect, send, read) took longer than its deadline; the connection was cut."""


_deadline_connections = contextvars.ContextVar("outbound_deadline_connections", default=None)


@contextmanager
def exchange_deadline(seconds):
    """Cut every connection the block uses once `seconds` have passed since it began.

    urllib3's timeouts bound each socket operation, so a server that trickles its headers or
    body a byte at a time could hold an attempt for ever; this bounds the whole exchange. The
    process's watchdog thread shuts the sockets down at the deadline, which makes the blocked read fail.
    """
    watch = _DeadlineWatch()
    token = _deadline_connections.set(watch)
    _watchdog.watch(watch, seconds)
    try:
        yield watch
    finally:
        watch.finish()
        _deadline_connections.reset(token)


class _DeadlineWatchdog:
    """One thread per process expires the exchanges whose deadline passed, earliest first.

    A timer thread per exchange cost more CPU than the webhook send it guarded. A finished exchange stays
    in the heap until its deadline comes up, then is dropped unexpired; the thread sleeps until the
    earliest deadline of an unfinished one.
    """

    def __init__(self):
        self.condition = threading.Condition()
        self.heap = []
        self.sequence = itertools.count()
        self.thread = None

    def watch(self, watch, seconds):
        entry = (time.monotonic() + seconds, next(self.sequence), watch)
        with self.condition:
            heapq.heappush(self.heap, entry)
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, name="outbound-deadlines", daemon=True)
                self.thread.start()
            elif self.heap[0] is entry:  # earlier than what the thread sleeps towards
                self.condition.notify()

    def run(self):
        while True:
            with self.condition:
                while True:
                    while self.heap and self.heap[0][2].finished:
                        heapq.heappop(self.heap)
                    delay = self.heap[0][0] - time.monotonic() if self.heap else None
                    if delay is not None and delay <= 0:
                        break
                    self.condition.wait(delay)
                _, _, due = heapq.heappop(self.heap)
            due.expire()


_watchdog = _DeadlineWatchdog()


def _new_watchdog_after_fork():
    """A forked child (a prefork pool process) has the heap but not the thread: it starts afresh."""
    global _watchdog
    _watchdog = _DeadlineWatchdog()


os.register_at_fork(after_in_child=_new_watchdog_after_fork)


class _DeadlineWatch:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = []
        self.sockets = []
        self.expired = False
        self.finished = False

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

    def finish(self):
        """The block ended: its connections may serve other exchanges now, so they are never shut for this one."""
        with self.lock:
            self.finished = True

    def expire(self):
        with self.lock:
            if self.finished:
                return
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


class _DeadlineConnectionMixin:
    def request(self, *args, **kwargs):
        watch = _deadline_connections.get()
        if watch is not None:
            watch.add(self)
        result = super().request(*args, **kwargs)
        if watch is not None:
            watch.add_socket(self.sock)
        return result


class _GuardedConnectionMixin(_DeadlineConnectionMixin):
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


class _DeadlineHTTPConnection(_DeadlineConnectionMixin, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):
    pass


class _DeadlineHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def guarded_pool_manager(**kwargs):
    """A urllib3 PoolManager whose every connection goes through the address check (and honours exchange_deadline)."""
    manager = urllib3.PoolManager(**kwargs)
    manager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}
    return manager


def platform_pool_manager(**kwargs):
    """A PoolManager that honours exchange_deadline but dials anywhere: for the platform's own services (its
    object store's signed URLs), never for a URL a customer wrote."""
    manager = urllib3.PoolManager(**kwargs)
    manager.pool_classes_by_scheme = {"http": _DeadlineHTTPConnectionPool, "https": _DeadlineHTTPSConnectionPool}
    return manager
