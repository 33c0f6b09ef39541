"""A connection's incoming SRTP and SRTCP, handled where the datagram is read.

aiortc receives every datagram through aioice: the socket's read callback hands it to
``StunProtocol.datagram_received``, which tries to parse it as STUN (an exception for every
media packet) and puts it in the ICE connection's ``asyncio.Queue``; ``RTCDtlsTransport``'s
receive task wakes up, awaits it, tells DTLS from SRTP, unprotects, parses and awaits the
receiver's handler. For a publisher's ~120 packets/s those hops were a large part of a
meeting's fixed cost (bench/RESULTS.md, issue 15). Once the transport's DTLS is connected (and
aiortc's task has read what came with the handshake, so that nothing overtakes it),
:class:`SrtpIn` does the same work for SRTP and SRTCP in the socket's read callback itself
(``sockets.py``), with the transport's own SRTP session, header-extension map and router, and
runs aiortc's receiver and sender handlers to their end on the spot (the SFU's own wrappers of
the receiver's handler as plain calls, :class:`PlainRtpHandler`): receiver statistics,
NACKs, REMB, sender reports and everything tapped on them (``rtptap.py``, ``rtp_forward.py``)
behave as before. STUN (consent, keepalives) and DTLS keep going through aioice and aiortc, and
so does everything that arrives before DTLS is connected or through a TURN relay.

Depends on aiortc 1.16 internals, all in this module: ``RTCDtlsTransport._state``,
``_rx_srtp`` (a ``pylibsrtp.Session``, set once keys are derived: unprotected natively where
``srtp_recv.py`` can; packets parsed natively where ``rtp_parse.py`` can), aioice 0.13's
``Connection._queue``, ``_rtp_header_extensions_map``,
``_rtp_router`` (``route_rtp`` / ``route_rtcp``), the private receive counters behind
``getStats()``, and the handlers the router's recipients have (``_handle_rtp_packet(packet,
arrival_time_ms=)``, ``_handle_rtcp_packet(packet)``), which are coroutines that await only
sends that never suspend (aioice's ``sendto`` is a plain socket write under ``async def``).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pylibsrtp
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import RtcpPacket, RtpPacket, is_rtcp

from .rtp_parse import parse_rtp
from .srtp_recv import Unprotect, unprotector

logger = logging.getLogger(__name__)

NTP_UNIX_OFFSET_MS = 2_208_988_800_000
"""Milliseconds from the NTP epoch (1900) to the Unix one: aiortc stamps arrivals in NTP time."""

_resuming: set[asyncio.Task[None]] = set()


class SrtpIn:
    """One DTLS transport's incoming SRTP and SRTCP, taken as each datagram is read."""

    def __init__(self, dtls: RTCDtlsTransport, native: bool = True) -> None:
        """``native``: unprotect and parse through the native extensions where they are built
        (``srtp_recv.py``, ``rtp_parse.py``)."""
        self._dtls = dtls
        self._native = native
        # aioice 0.13 internal: Connection._queue, where aioice puts what aiortc's receive task reads.
        self._queue: asyncio.Queue[Any] = dtls.transport._connection._queue
        self._caught_up = False
        self._session: pylibsrtp.Session | None = None
        self._unprotect: Unprotect | None = None
        """For ``_session`` (``srtp_recv.py``); made again if the transport's session changes."""

    def take(self, data: bytes) -> bool:
        """Handle ``data`` now if it is SRTP or SRTCP on a connected transport.

        False: it is not (STUN, DTLS, too early, transport closed); hand it to aioice.
        """
        dtls = self._dtls
        session = dtls._rx_srtp
        if session is None or dtls._state is not State.CONNECTED or not data or not 127 < data[0] < 192:
            return False
        if not self._caught_up:
            # Packets that came with the handshake wait in aioice's queue for aiortc's receive
            # task; until it has read them all, newer ones queue behind them, or they would
            # overtake them (a receiver counts an old packet after a newer first one as a
            # duplicate: "negative loss" in its reports; the first packets of a keyframe).
            if self._queue.qsize():
                return False
            self._caught_up = True
        # aiortc 1.16 internal: the counters RTCDtlsTransport._recv_next keeps for getStats().
        dtls._RTCDtlsTransport__rx_bytes += len(data)  # type: ignore[attr-defined]
        dtls._RTCDtlsTransport__rx_packets += 1  # type: ignore[attr-defined]
        unprotect = self._unprotect
        if session is not self._session or unprotect is None:
            self._session, unprotect = session, unprotector(session, self._native)
            self._unprotect = unprotect
        try:
            if is_rtcp(data):
                plain = unprotect.rtcp(data)
                if plain is not None:
                    self._rtcp(plain)
            else:
                arrival_time_ms = int(time.time() * 1000) + NTP_UNIX_OFFSET_MS  # aiortc's clock.current_ms()
                plain = unprotect.rtp(data)
                if plain is not None:
                    self._rtp(plain, arrival_time_ms)
            if plain is None:  # replayed, forged or from before a re-key: dropped, as aiortc does
                logger.debug("SRTP unprotect failed: libsrtp status %d", unprotect.status)
        except Exception:  # aiortc's receive task would die of it and take the connection's media along
            logger.exception("incoming RTP/RTCP handling failed")
        return True

    def _rtp(self, data: bytes, arrival_time_ms: int) -> None:
        try:
            packet = parse_rtp(data, self._dtls._rtp_header_extensions_map, self._native)
        except ValueError as exc:
            logger.debug("RTP parsing failed: %s", exc)
            return
        receiver = self._dtls._rtp_router.route_rtp(packet)
        if receiver is not None:
            handler = receiver._handle_rtp_packet
            if type(handler) is PlainRtpHandler:
                handler.take(packet, arrival_time_ms)
            else:
                run_handler(handler(packet, arrival_time_ms=arrival_time_ms))

    def _rtcp(self, data: bytes) -> None:
        try:
            packets = RtcpPacket.parse(data)
        except ValueError as exc:
            logger.debug("RTCP parsing failed: %s", exc)
            return
        router = self._dtls._rtp_router
        for packet in packets:
            for recipient in router.route_rtcp(packet):
                run_handler(recipient._handle_rtcp_packet(packet))


RtpTake = Callable[[RtpPacket, int], None]
"""What a receiver does with an RTP packet and its arrival time (aiortc's clock), as a plain call."""


class PlainRtpHandler:
    """A receiver's ``_handle_rtp_packet`` that is a plain call underneath.

    aiortc awaits the handler (its receive task, until :class:`SrtpIn` takes over), so the
    handler must look like its coroutine method; :class:`SrtpIn` calls ``take`` instead, and a
    packet costs no coroutine. The SFU's wrappers (``receiver_upkeep.py``, ``rtptap.py``) install
    one, and one wrapping another calls the inner ``take`` directly (:func:`plain_take`).
    ``take`` sends what it must (REMB, NACK, PLI) through :func:`run_handler`, which completes
    aiortc's send coroutines on the spot, as awaiting them did.
    """

    __slots__ = ("take",)

    def __init__(self, take: RtpTake) -> None:
        self.take = take

    async def __call__(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        self.take(packet, arrival_time_ms)


def plain_take(handler: Callable[..., Coroutine[Any, Any, None]]) -> RtpTake:
    """A receiver's current ``_handle_rtp_packet`` as a plain call, for a wrapper to call on to."""
    if type(handler) is PlainRtpHandler:
        return handler.take

    def take(packet: RtpPacket, arrival_time_ms: int) -> None:
        run_handler(handler(packet, arrival_time_ms=arrival_time_ms))

    return take


def run_handler(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run an aiortc handler coroutine now, in the caller; one that suspends is finished by a task.

    aiortc's handlers only await sends that complete without suspending, so the first step runs
    them to their end; should one ever wait for real, it goes on in a task (later, but whole).
    """
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return
    task = asyncio.get_running_loop().create_task(_resume(coroutine, waiting))
    _resuming.add(task)
    task.add_done_callback(_resuming.discard)


async def _resume(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a suspended coroutine on as a task would: wait for what it yielded, then step it."""
    try:
        while True:
            if waiting is None:  # a bare yield (asyncio.sleep(0)): one loop turn
                await asyncio.sleep(0)
            else:
                with contextlib.suppress(Exception):  # the coroutine reads the outcome itself
                    await waiting
            try:
                waiting = coroutine.send(None)
            except StopIteration:
                return
    finally:
        coroutine.close()
