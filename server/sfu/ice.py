"""Where aioice gathers host candidates.

aioice gathers on every interface except 127.0.0.1 and offers no setting for
it. The SFU must gather only on configured addresses or interfaces (loopback in
tests, the office LAN's interface in production), and test clients in the same
process must too, while
any other aiortc user in the process keeps aioice's behaviour. So the hook is
scoped by a context variable rather than set process-wide: gathering runs in the
task that calls ``setLocalDescription`` (and tasks it spawns, which copy the
context), so wrapping that call in :func:`gathering_on` pins exactly that
connection.

An entry naming an interface (``eth0``, ``wlan0``) stands for that interface's
addresses at the moment of gathering, so a laptop whose DHCP lease changed still
gathers on its current address.
"""

import ipaddress
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import aioice.ice
import ifaddr

logger = logging.getLogger(__name__)

# Linux interface names: up to 15 characters, no slash or whitespace (and not an IP literal).
INTERFACE_NAME = re.compile(r"[A-Za-z0-9_.@:-]{1,15}")

_pinned: ContextVar[tuple[str, ...] | None] = ContextVar(
    "lianshen_ice_gather_addresses", default=None
)
_install_lock = threading.Lock()
# aioice 0.13 internal: Connection.gather_candidates() looks up the module global
# aioice.ice.get_host_addresses(use_ipv4, use_ipv6) at call time.
_aioice_get_host_addresses = aioice.ice.get_host_addresses


def check_gather_entry(entry: str) -> str:
    """``entry`` if it is an IP address or an interface name; ValueError otherwise."""
    try:
        ipaddress.ip_address(entry)
    except ValueError:
        if not INTERFACE_NAME.fullmatch(entry):
            raise ValueError(f"{entry!r} is neither an IP address nor an interface name") from None
    return entry


def interface_addresses(name: str) -> list[str]:
    """The addresses ``name`` has now: IPv4, and IPv6 without a scope (aioice skips link-local)."""
    addresses: list[str] = []
    for adapter in ifaddr.get_adapters():
        if adapter.name != name:
            continue
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                addresses.append(ip.ip)
            elif ip.ip[2] == 0:
                addresses.append(ip.ip[0])
    return addresses


def expand(entries: Sequence[str]) -> list[str]:
    """The addresses ``entries`` stand for now, in order, without repeats."""
    addresses: list[str] = []
    for entry in entries:
        try:
            ipaddress.ip_address(entry)
            found = [entry]
        except ValueError:
            found = interface_addresses(entry)
            if not found:
                logger.warning("ICE gathering: interface %s has no address now", entry)
        addresses += [address for address in found if address not in addresses]
    return addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    pinned = _pinned.get()
    if pinned is None:
        return _aioice_get_host_addresses(use_ipv4, use_ipv6)
    return [
        address
        for address in expand(pinned)
        if (use_ipv4 if ipaddress.ip_address(address).version == 4 else use_ipv6)
    ]


def _install() -> None:
    with _install_lock:
        if aioice.ice.get_host_addresses is not _host_addresses:
            aioice.ice.get_host_addresses = _host_addresses


@contextmanager
def gathering_on(addresses: Sequence[str]) -> Iterator[None]:
    """Gather host candidates only on ``addresses`` (IP addresses or interface names) inside
    this block.

    An empty sequence leaves aioice's own choice in place.
    """
    for address in addresses:
        check_gather_entry(address)  # reject typos before they become silence
    _install()
    token = _pinned.set(tuple(addresses) or None)
    try:
        yield
    finally:
        _pinned.reset(token)
