"""Which address sign-in throttling counts: X-Forwarded-For only through trusted proxies."""

from __future__ import annotations

import pytest

from server.auth.client_address import resolve

PROXIES = ["10.0.0.0/8", "192.0.2.1"]


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert resolve("198.51.100.4", ["203.0.113.7"], []) == "198.51.100.4"
    assert resolve("10.1.2.3", ["203.0.113.7"], []) == "10.1.2.3"


@pytest.mark.parametrize(("peer", "header", "expected"), [
    # From a trusted proxy: the right-most address that is not one of ours.
    ("192.0.2.1", ["203.0.113.7"], "203.0.113.7"),
    ("192.0.2.1", ["6.6.6.6, 203.0.113.7, 10.1.2.3"], "203.0.113.7"),
    ("192.0.2.1", ["6.6.6.6", "203.0.113.7, 10.1.2.3"], "203.0.113.7"),  # several header lines
    ("192.0.2.1", ["2001:db8::5"], "2001:db8::5"),
    # A peer that is not ours cannot choose its address.
    ("198.51.100.4", ["203.0.113.7, 10.1.2.3"], "198.51.100.4"),
    # Garbage ends the walk at the last trusted hop; nothing at all: the proxy itself.
    ("192.0.2.1", ["203.0.113.7, not-an-address"], "192.0.2.1"),
    ("192.0.2.1", ["not-an-address, 10.1.2.3"], "10.1.2.3"),
    ("192.0.2.1", [], "192.0.2.1"),
    # Only our own proxies in the chain: the left-most of them.
    ("192.0.2.1", ["10.9.9.9, 10.1.2.3"], "10.9.9.9"),
])
def test_resolve(peer: str, header: list[str], expected: str) -> None:
    assert resolve(peer, header, PROXIES) == expected
