"""The client's address as sign-in throttling sees it, through trusted reverse proxies only.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the direct
peer is a configured proxy (server.trusted_proxies). Each proxy appends the address it received
the request from; walking the header from the right, past our own proxies, the first address
that is not one of them is the client. Anything to its left was written by the client itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def resolve(peer: str, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str:
    """The right-most address of the chain (peer last) that is not a trusted proxy.

    A hop that is not an address at all ends the walk at the last trusted hop: a trusted proxy
    never writes one, so it came from further out and says nothing reliable.
    """
    networks = _networks(tuple(trusted))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _trusted(hop, networks):
            break
    return client


def is_trusted_proxy(peer: str, trusted: Sequence[str]) -> bool:
    """True when the direct peer is one of our configured reverse proxies."""
    return _trusted(peer, _networks(tuple(trusted)))


def client_address(request: web.Request, trusted: Sequence[str]) -> str:
    """The sign-in's client address for `request` (see `resolve`)."""
    return resolve(request.remote or "", request.headers.getall("X-Forwarded-For", ()), trusted)
