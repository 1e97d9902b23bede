"""Outgoing HTTP for webhooks, guarded against server-side request forgery.

The host is resolved once per connection, every address it resolves to is checked, and the
socket is opened to the checked address: a DNS answer cannot change between check and dial.
TLS still verifies the certificate against the URL's host name.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

CGNAT = ipaddress.ip_network("100.64.0.0/10")
BENCHMARKING = ipaddress.ip_network("198.18.0.0/15")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


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
    if ip in CGNAT or ip in BENCHMARKING:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def address_is_allowed(address):
    if settings.WEBHOOKS_ALLOW_LOOPBACK and ipaddress.ip_address(address).is_loopback:
        return True
    return address_is_public(address)


def resolve_allowed(host, port):
    """The addresses `host` resolves to, all checked; raises BlockedDestination if any is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedDestination(f"The host {host!r} does not resolve.") from exc
    addresses = []
    for family, _, _, _, sockaddr in infos:
        address = sockaddr[0]
        if not address_is_allowed(address):
            raise BlockedDestination(
                f"The host {host!r} resolves to {address}, a private, loopback, link-local or reserved address; "
                "webhooks are only sent to public addresses."
            )
        addresses.append((family, sockaddr))
    return addresses


def check_url(url):
    """Validate a receiver URL (scheme, host, resolved addresses); raises BlockedDestination with the reason."""
    parts = urlsplit(url)
    allowed_schemes = {"https"} if settings.WEBHOOKS_REQUIRE_HTTPS else {"http", "https"}
    if parts.scheme not in allowed_schemes:
        raise BlockedDestination(f"The URL must use {' or '.join(sorted(allowed_schemes))}.")
    if not parts.hostname:
        raise BlockedDestination("The URL has no host.")
    if parts.username or parts.password:
        raise BlockedDestination("The URL must not carry credentials.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedDestination("The URL's port is invalid.") from exc
    resolve_allowed(parts.hostname, port)


class _GuardedConnectionMixin:
    def _new_conn(self):
        last_error = None
        for family, sockaddr in resolve_allowed(self._dns_host, self.port):
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
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
