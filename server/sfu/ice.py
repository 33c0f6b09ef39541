"""Where aioice gathers host candidates.

aioice gathers on every interface except 127.0.0.1 and offers no setting for
it. The SFU must gather only on configured addresses (loopback in tests, chosen
interfaces in production), and test clients in the same process must too, while
any other aiortc user in the process keeps aioice's behaviour. So the hook is
scoped by a context variable rather than set process-wide: gathering runs in the
task that calls ``setLocalDescription`` (and tasks it spawns, which copy the
context), so wrapping that call in :func:`gathering_on` pins exactly that
connection.
"""

import ipaddress
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import aioice.ice

_pinned: ContextVar[tuple[str, ...] | None] = ContextVar(
    "lianshen_ice_gather_addresses", default=None
)
_install_lock = threading.Lock()
# aioice 0.13 internal: Connection.gather_candidates() looks up the module global
# aioice.ice.get_host_addresses(use_ipv4, use_ipv6) at call time.
_aioice_get_host_addresses = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    pinned = _pinned.get()
    if pinned is None:
        return _aioice_get_host_addresses(use_ipv4, use_ipv6)
    return [
        address
        for address in pinned
        if (use_ipv4 if ipaddress.ip_address(address).version == 4 else use_ipv6)
    ]


def _install() -> None:
    with _install_lock:
        if aioice.ice.get_host_addresses is not _host_addresses:
            aioice.ice.get_host_addresses = _host_addresses


@contextmanager
def gathering_on(addresses: Sequence[str]) -> Iterator[None]:
    """Gather host candidates only on ``addresses`` inside this block.

    An empty sequence leaves aioice's own choice in place.
    """
    for address in addresses:
        ipaddress.ip_address(address)  # reject typos before they become silence
    _install()
    token = _pinned.set(tuple(addresses) or None)
    try:
        yield
    finally:
        _pinned.reset(token)
