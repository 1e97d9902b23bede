"""The SSRF guard's address classification and URL normalization: pure logic."""

import pytest

from webhooks.network import InvalidUrl, address_is_public, normalize_url


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
