"""A subscriber's RTP copies (and its m-line's RTCP) built, protected and sent now or never: in one
native call, or in Python.

Now or never: asyncio's datagram transport queues what the kernel refuses (a full socket send
buffer) in an unbounded per-transport buffer, so a subscriber behind a slow link would make the
server's memory grow with every packet forwarded to it, and media that arrives late is worthless
anyway. Here a packet the kernel will not take at once is dropped (:data:`DROPPED`, counted by
the caller), so each subscriber's backlog is bounded by its socket's send buffer and nothing else.

In Python (:class:`PythonSender`) a copy takes three calls and three new buffers: header,
extension block and payload joined, protected by pylibsrtp (a cffi call behind a copy into its
buffer and one out), and ``socket.sendto`` (an address tuple parsed every time). Per subscriber
and packet that was most of the interpreter work of the fan-out (bench/RESULTS.md, issue 15).
The native ``Sender`` of ``_srtp_send.c`` (built from source by ``scripts/setup.sh``) does the
three in one call: one buffer, the transport's own libsrtp context, an address parsed once
(3.5 against 5.0 µs of CPU per copy in a hot loop, bench/srtp_send.py).

The context stays pylibsrtp's: the Sender calls libsrtp's ``srtp_protect`` through the address
pylibsrtp's cffi module gives for it, on the ``srtp_t`` inside the transport's ``Session``,
and keeps that Session alive (``srtp_binding.py`` holds the pylibsrtp internals this takes). If
they are not as expected, or the extension is not built, :func:`native_sender` returns None and
the caller sends in Python (:class:`PythonSender`); both give the same datagrams
(tests/unit/test_srtp_send.py).
"""

import logging
import socket
from collections.abc import Callable
from typing import Any, Protocol

import pylibsrtp

from .packets import HEADER
from .srtp_binding import context_address, function_address

logger = logging.getLogger(__name__)

SENT, DROPPED, FAILED, PROTECT_FAILED = 0, 1, 2, 3
"""What a send came to (the values ``_srtp_send.c`` returns)."""

def _load() -> tuple[Any, int, int] | None:
    """(the extension's Sender type, srtp_protect's address, srtp_protect_rtcp's), or None."""
    try:
        from ._srtp_send import Sender
    except ImportError as exc:
        logger.info("native RTP send unavailable (%s): sending in Python", exc)
        return None
    protect, protect_rtcp = function_address("srtp_protect"), function_address("srtp_protect_rtcp")
    return None if protect is None or protect_rtcp is None else (Sender, protect, protect_rtcp)


_NATIVE = _load()

NATIVE_AVAILABLE = _NATIVE is not None
"""Whether :func:`native_sender` can give a native sender in this process."""


class RtpSender(Protocol):
    """Sends one subscriber's RTP copies to one address: what both implementations offer."""

    def send(
        self, first: int, second: int, sequence_number: int, timestamp: int, ssrc: int, block: bytes, payload: bytes
    ) -> int:
        """Build, protect and send one packet; :data:`SENT`, :data:`DROPPED`, :data:`FAILED`
        or :data:`PROTECT_FAILED`. ``first`` and ``second``: the header's first two bytes."""
        ...

    def send_rtcp(self, packet: bytes) -> int:
        """Protect one RTCP compound packet and send it; the same results as :meth:`send`."""
        ...


class PythonSender:
    """The same as the native sender, in Python: for a relayed pair (no socket of its own), an
    unbuilt extension, or ``sfu.native_send = false``. ``sendto``: a non-blocking socket's (or a
    TURN transport's)."""

    def __init__(self, session: pylibsrtp.Session, sendto: Callable[[bytes, Any], object], address: Any) -> None:
        self._session = session
        self._sendto = sendto
        self._address = address

    def send(
        self, first: int, second: int, sequence_number: int, timestamp: int, ssrc: int, block: bytes, payload: bytes
    ) -> int:
        header = HEADER.pack(first, second, sequence_number, timestamp, ssrc)
        try:
            protected = self._session.protect(b"".join((header, block, payload)))
        except (pylibsrtp.Error, ValueError):  # ValueError: too long for pylibsrtp's buffer
            return PROTECT_FAILED
        return self._deliver(protected)

    def send_rtcp(self, packet: bytes) -> int:
        try:
            protected = self._session.protect_rtcp(packet)
        except (pylibsrtp.Error, ValueError):
            return PROTECT_FAILED
        return self._deliver(protected)

    def _deliver(self, protected: bytes) -> int:
        try:
            self._sendto(protected, self._address)
        except (BlockingIOError, InterruptedError):
            return DROPPED
        except OSError:
            return FAILED
        return SENT


def native_sender(session: pylibsrtp.Session, sock: socket.socket, address: tuple[Any, ...]) -> RtpSender | None:
    """A native sender protecting with ``session`` and writing to ``sock`` toward ``address``
    ((host, port, ...) with a numeric host); None if this process cannot have one."""
    if _NATIVE is None:
        return None
    sender_type, protect, protect_rtcp = _NATIVE
    try:
        sender: RtpSender = sender_type(session, protect, context_address(session), sock, str(address[0]),
                                        int(address[1]), protect_rtcp)
    except (ValueError, OverflowError) as exc:  # e.g. an IPv6 address with a zone
        logger.debug("no native sender for %s: %s", address, exc)
        return None
    return sender
