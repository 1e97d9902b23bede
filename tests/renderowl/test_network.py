"""The outbound (SSRF) guard: address classification, URL normalization and checks, the guarded dial and the deadline."""

import time

import pytest
import urllib3

from renderowl.network import (
    BlockedDestination,
    InvalidUrl,
    address_is_public,
    exchange_deadline,
    guarded_pool_manager,
    normalize_url,
    platform_pool_manager,
    url_check,
)
from tests.renders.source_server import SourceServer, drip


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1",
        "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "2002:7f00:1::1", "64:ff9b::a9fe:a9fe", "2001:db8::1",
        "64:ff9b:1::808:808", "64:ff9b:1:ffff::1",  # NAT64 local use (RFC 8215), whatever it embeds
    ],
)
def test_non_public_addresses_are_refused(address):
    assert address_is_public(address) is False


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert address_is_public(address) is True


@pytest.mark.parametrize(
    "url, normalized",
    [
        ("HTTPS://Example.COM/Path?Q=A#F", "https://example.com/Path?Q=A#F"),
        ("http://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\u3002com:８/".replace("８", "8"), "http://example.com:8/"),
        ("https://B\u00fccher.example/", "https://xn--bcher-kva.example/"),
        ("https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://[0:0:0:0:0:FFFF:7F00:1]:443/", "http://[::ffff:7f00:1]:443/"),
        ("http://user:pw@Example.com:/", "http://user:pw@example.com/"),
        ("http://cafe.example/", "http://cafe.example/"),
    ],
)
def test_urls_are_normalized_as_they_will_be_dialed(url, normalized):
    assert normalize_url(url) == normalized


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.com/", "http:// or https://"),
        ("//example.com/", "http:// or https://"),
        ("http:example.com", "http:// or https://"),
        ("http://exa mple.com/", "without spaces"),
        ("http://example.com/\x00", "without spaces"),
        ("http://:80/", "no host"),
        ("http://example.com:0/", "from 1 to 65535"),
        ("http://example.com:65536/", "from 1 to 65535"),
        ("http://example.com:８０/", "from 1 to 65535"),
        ("http://example.com:http/", "from 1 to 65535"),
        ("http://[::1/", "malformed"),
        ("http://[not-v6]/", "malformed"),
        ("http://a..b/", "not a valid host name"),
        ("http://ex%61mple.com/", "not a valid host name"),
        ("http://" + "a" * 64 + ".example/", "not a valid host name"),
        ("http://\u2488.example/", "not a valid host name"),
    ],
)
def test_urls_that_cannot_be_dialed_say_why(url, message):
    with pytest.raises(InvalidUrl, match=message):
        normalize_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.png", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:secret@example.com/a.png", "must not carry credentials"),
        ("https://example.com/" + "a" * 2030, "at most 2048"),
        ("http://169.254.169.254/latest/meta-data/", "not resolve to a public address"),
        ("http://[::ffff:169.254.169.254]/", "not resolve to a public address"),
        ("http://0x7f000001/", "not resolve to a public address"),
        ("http://10.1.2.3:8080/a.png", "not resolve to a public address"),
        ("http://[fd00::1]/", "not resolve to a public address"),
    ],
)
def test_url_check_without_dns_refuses_what_needs_no_resolving(url, message):
    with pytest.raises(BlockedDestination, match=message):
        url_check(url, resolve=False)


def test_url_check_without_dns_leaves_host_names_to_the_dial(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    assert url_check("HTTPS://Example.COM/a.png", resolve=False) == "https://example.com/a.png"
    assert url_check("http://localhost:8000/a.png", resolve=False) == "http://localhost:8000/a.png"
    assert url_check("http://93.184.216.34/a.png", resolve=False) == "http://93.184.216.34/a.png"
    with pytest.raises(BlockedDestination, match="only public"):
        url_check("http://localhost:8000/a.png")  # resolved: 127.0.0.1


def test_the_loopback_allowance_and_the_operator_deny_list_apply_to_every_check(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    assert url_check("http://127.0.0.1:8000/a", resolve=False) and url_check("http://localhost:8000/a")
    with pytest.raises(BlockedDestination):
        url_check("http://10.0.0.1/a", resolve=False)  # only loopback is relaxed
    settings.OUTBOUND_DENY_NETWORKS = ["93.184.216.0/24", "127.0.0.0/8"]
    for url in ("http://93.184.216.34/a", "http://[::ffff:93.184.216.34]/a", "http://127.0.0.1/a"):
        with pytest.raises(BlockedDestination, match="is refused here"):
            url_check(url, resolve=False, refusal="This address is refused here.")


def test_the_guarded_pool_refuses_a_host_before_connecting_and_the_platform_pool_dials_anywhere(tmp_path, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    (tmp_path / "a.txt").write_bytes(b"hello")
    with SourceServer(tmp_path) as server:
        with pytest.raises(BlockedDestination):
            guarded_pool_manager(retries=False).request("GET", server.url("/a.txt", host="localhost"))
        assert server.connections == 0
        assert platform_pool_manager(retries=False).request("GET", server.url("/a.txt")).data == b"hello"
        settings.OUTBOUND_ALLOW_LOOPBACK = True
        assert guarded_pool_manager(retries=False).request("GET", server.url("/a.txt", host="localhost")).data == b"hello"


@pytest.mark.parametrize("pool_manager", [guarded_pool_manager, platform_pool_manager])
def test_exchange_deadline_cuts_an_answer_that_trickles_however_patient_the_socket(tmp_path, settings, pool_manager):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with SourceServer(tmp_path) as server:
        server.routes["/slow"] = drip(server, every=0.02)
        started = time.monotonic()
        with exchange_deadline(0.3) as watch:
            try:
                pool_manager(retries=False).request(
                    "GET", server.url("/slow"), timeout=urllib3.Timeout(connect=5, read=60)
                )
            except urllib3.exceptions.HTTPError:
                pass  # cut mid-body; a body without a length may also just end, which `expired` tells apart
        assert watch.expired
        assert time.monotonic() - started < 10


def trickled(server, seconds):
    """Fetch the dripping route within an exchange deadline of `seconds`; returns the deadline's watch."""
    with exchange_deadline(seconds) as watch:
        try:
            guarded_pool_manager(retries=False).request(
                "GET", server.url("/slow"), timeout=urllib3.Timeout(connect=5, read=60)
            )
        except urllib3.exceptions.HTTPError:
            pass
    return watch


def test_a_short_deadline_fires_while_a_longer_one_is_waited_for(tmp_path, settings):
    """One watchdog thread per process: a deadline earlier than the one it sleeps towards still fires on time."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with SourceServer(tmp_path) as server:
        server.routes["/slow"] = drip(server, every=0.02)
        with exchange_deadline(600) as patient:
            started = time.monotonic()
            assert trickled(server, 0.3).expired
            assert time.monotonic() - started < 10
        assert not patient.expired


def test_a_finished_exchange_is_never_cut_after_its_deadline(tmp_path, settings):
    """Its connection may serve another exchange by then: the watchdog drops it unexpired."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with exchange_deadline(0.05) as finished:
        pass
    with SourceServer(tmp_path) as server:
        server.routes["/slow"] = drip(server, every=0.02)
        assert trickled(server, 0.3).expired  # the watchdog has passed the first deadline by now
    assert not finished.expired


def test_a_forked_process_has_a_watchdog_of_its_own(tmp_path, settings):
    """Celery's prefork pool forks after the parent used the watchdog: the child's deadlines still fire."""
    import multiprocessing

    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with SourceServer(tmp_path) as server:
        server.routes["/slow"] = drip(server, every=0.02)
        assert trickled(server, 0.2).expired  # the parent's thread exists before the fork
        context = multiprocessing.get_context("fork")
        answers = context.Queue()
        child = context.Process(target=lambda: answers.put(trickled(server, 0.3).expired), daemon=True)
        child.start()
        try:
            assert answers.get(timeout=20) is True
        finally:
            child.join(timeout=20)
