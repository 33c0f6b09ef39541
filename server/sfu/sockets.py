"""Read every queued datagram when a connection's UDP socket wakes the loop.

asyncio's datagram transport reads ONE datagram per readiness event, i.e. per
socket per turn of the event loop. A socket's receive rate is therefore capped
by how often the loop turns, and a forwarding loop turns less often the more it
forwards (each turn does the fan-out of what it read). The publish socket
carries a whole participant (~70 video + 50 audio packets/s); in a one-to-25
fan-out the loop turned ~30 times/s, the publish socket's kernel queue filled
(its buffer is 512 KiB: aioice asks 256 KiB, Linux doubles it), the kernel
dropped packets, aiortc's jitter buffer held every frame behind each hole, and
all subscribers got the same ~11 fps (bench/RESULTS.md, 2026-11-29 diagnosis).
Draining the socket on each wake-up removes the cap. A bound
(``MAX_DATAGRAMS_PER_WAKEUP``) keeps one flooded socket from starving the others.

The read callback is also where a connected transport's SRTP and SRTCP are handled
(``rtp_in.SrtpIn``), so media never enters aioice's queue; STUN, DTLS and what
arrives before DTLS is connected go to aioice as before.
"""

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection

from .rtp_in import SrtpIn

MAX_DATAGRAMS_PER_WAKEUP = 64
"""At most this many datagrams per socket per loop turn (~0.5 s of a publisher's packets)."""

_draining: "weakref.WeakSet[asyncio.DatagramTransport]" = weakref.WeakSet()


def drain_sockets(pc: RTCPeerConnection, native: bool = True) -> None:
    """Make every UDP socket gathered so far by ``pc`` drain its queue per wake-up, and hand
    SRTP/SRTCP to its DTLS transport as it is read (unprotected natively where this process can
    and ``native``: ``sfu.native_send``).

    Call after ``setLocalDescription`` (aiortc gathers before it returns);
    calling again, e.g. after a re-offer, only handles new sockets. A TURN relay's datagrams
    arrive through its client's socket, which aioice reads: they keep aioice's path.
    """
    loop = asyncio.get_running_loop()
    for transceiver in pc.getTransceivers():
        for dtls in (transceiver.sender.transport, transceiver.receiver.transport):
            if dtls is None:
                continue
            # aiortc 1.16 / aioice 0.13 internal: RTCIceGatherer._connection is the
            # aioice Connection; Connection._protocols holds its StunProtocols
            # (public .transport: the asyncio datagram transport of one socket, or
            # aioice's TurnTransport for a relayed candidate, which has no socket).
            connection = dtls.transport.iceGatherer._connection
            for protocol in connection._protocols:
                transport = protocol.transport
                if transport is not None and hasattr(transport, "_sock") and transport not in _draining:
                    _drain(loop, transport, protocol, SrtpIn(dtls, native).take)
                    _draining.add(transport)


def _drain(
    loop: asyncio.AbstractEventLoop, transport: Any, protocol: Any, take: Callable[[bytes], bool]
) -> None:
    # CPython 3.11 internal: _SelectorDatagramTransport._read_ready() does one
    # recvfrom(max_size) on ._sock and hands the datagram to protocol.datagram_received()
    # (OSError to protocol.error_received()); it is registered with
    # loop._add_reader(fd, ...), which a second registration replaces. This reader does
    # the same in a loop, and takes SRTP/SRTCP before aioice sees it.
    sock = transport._sock
    max_size = transport.max_size

    def read_ready() -> None:
        for _ in range(MAX_DATAGRAMS_PER_WAKEUP):
            if transport.is_closing():
                return
            try:
                data, addr = sock.recvfrom(max_size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                protocol.error_received(exc)
                return
            if not take(data):
                protocol.datagram_received(data, addr)

    # The selector loop's internal registration (see above), not on the AbstractEventLoop type.
    loop._add_reader(transport._sock_fd, read_ready)  # type: ignore[attr-defined]
