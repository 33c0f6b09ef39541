"""A subscriber m-line's sending end, driven packet by packet instead of by aiortc's sender loop.

aiortc sends media only from ``RTCRtpSender._run_rtp``: one task per sender that awaits a frame
from its track, packetises it and awaits the DTLS transport for every packet. The packet path
needs none of that: it has a finished RTP packet and wants it protected and on the wire at once,
from inside the publisher's receive task, with no task hop. So :class:`RtpOut` takes over the
parts of one ``RTCRtpSender`` it needs and leaves the rest (the RTCP task, SDP, stats) to aiortc.

Depends on aiortc 1.16 / aioice 0.13 internals, all in this module (the receive side is
``rtptap.py``); each use is marked where it happens:

- ``RTCRtpSender.send(parameters)`` is looked up on the instance by ``RTCPeerConnection`` once
  DTLS is up: wrapping it tells the negotiated payload types and header extension ids.
- ``RTCDtlsTransport._tx_srtp`` (a ``pylibsrtp.Session``) protects; ``_send_rtp`` would do the
  same but is a coroutine ending in ``aioice.Connection.sendto``, itself a coroutine around the
  nominated pair's datagram transport (``Connection._nominated[1]``: ``.protocol.transport``,
  ``.remote_addr``); its socket (CPython 3.11 ``_SelectorDatagramTransport._sock``) is written
  here directly (``srtp_send.py``: natively, or in Python), so a full send buffer drops the
  packet (counted) instead of queueing it in asyncio's unbounded buffer.
- ``RTCRtpSender._retransmit(seq)`` is awaited by ``_handle_rtcp_packet`` for each sequence number
  of a subscriber's NACK; ``_send_rtcp(packets)`` sends the sender report built by ``_run_rtcp``
  from private counters that only ``_run_rtp`` updates (filled in here from this m-line's own,
  and sent through the same sender as the media, not through aiortc's transport coroutines);
  ``_handle_rtcp_packet(packet)`` is how ``RTCDtlsTransport`` hands the sender the subscriber's
  receiver reports and REMB. All three are shadowed per instance.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pylibsrtp
from aiortc import RTCRtpSender
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    unpack_remb_fci,
)
from aiortc.utils import random16, random32

from .fan_out import out_state
from .packets import (
    EXTENSION_BIT,
    RTP_VERSION_2,
    SEQ_MOD,
    TS_MOD,
    ExtensionLayout,
    ForwardedPacket,
    rtx_payload,
    seq_newer_or_equal,
)
from .srtp_send import DROPPED, PROTECT_FAILED, SENT, PythonSender, RtpSender, native_sender

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ICE_COMPONENT_RTP = 1
SR_NTP_TO_LSR_SHIFT = 16
RTCP_RTPFB_TRANSPORT_CC = 15
"""Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions)."""

SenderClock = Callable[[], tuple[int, int] | None]
"""(NTP, RTP timestamp) of the newest publisher sender report, already in this m-line's timeline."""


@dataclass(frozen=True)
class ReceiverReport:
    """What a subscriber last reported about the stream it receives on one m-line (RFC 3550 6.4)."""

    fraction_lost: float
    """Share of packets lost since its previous report, 0..1."""
    packets_lost: int
    """Cumulative packets lost (retransmissions that arrived count as received)."""
    jitter_s: float
    received_at: float
    """time.monotonic() when the report arrived."""
    rtt_s: float | None = None
    """Round trip from the SFU's sender report it answers (None: none answered yet); grows as a
    queue on the path fills, before that queue overflows into loss (``layer_choice.py``)."""
    answered_sent_at: float | None = None
    """time.monotonic() when the sender report it answers went out (what its round trip saw)."""


REPORTS_REMEMBERED = 8


def _random_sequence_number() -> int:
    # Like aiortc's sender: start in the lower half, far from a wrap-around that would make
    # libsrtp guess the rollover counter.
    return random16() % (SEQ_MOD // 2)


class RtpOut:
    """Protects and sends rewritten packets for one ``RTCRtpSender``, and keeps its counters.

    ``on_ready`` is called once the subscriber's DTLS is up and the negotiated parameters are
    known (before that, :meth:`send` drops); ``on_nack`` with every sequence number a
    subscriber reports lost. ``native``: send through the native sender where this process has
    one (``srtp_send.py``; ``sfu.native_send``), and let ``fan_out.py`` send the common case
    natively. The sequence number and timestamp most recently sent live here (in :attr:`state`,
    which the native fan-out updates too), so whoever drives the m-line next (another producer,
    or the same one after a pause) continues the timeline instead of jumping backwards.
    """

    def __init__(
        self,
        sender: RTCRtpSender,
        on_ready: Callable[[], None],
        on_nack: Callable[[int], None],
        native: bool = True,
    ) -> None:
        self._sender = sender
        self._native = native
        self.state = out_state(native)
        """Where this m-line's packets go, its numbers and counters (shared with ``fan_out.py``)."""
        self._on_ready = on_ready
        self._on_nack = on_nack
        self.ssrc: int = sender._ssrc
        self.state.ssrc = self.ssrc
        self._rtx_ssrc: int = sender._rtx_ssrc
        self.ready = False
        self.payload_type = 0
        self.clock_rate = 0
        self._rtx_payload_type: int | None = None
        self._layout = ExtensionLayout(None, b"", None, None)
        self._srtp: pylibsrtp.Session | None = None
        self._ice_nominated: dict[int, Any] = {}
        self._pair: Any = None
        self._wire: RtpSender | None = None
        """Sends to the nominated pair (``_pair``); replaced when the pair changes."""
        self._dtls: RTCDtlsTransport | None = None
        self.state.next_seq = _random_sequence_number()
        self._rtx_seq = _random_sequence_number()
        self.timeline_owner: object = None
        """Whose timestamp offset the last packet used: a new owner starts after it."""
        self.sender_clock: SenderClock | None = None
        """Set by the timeline owner: its publisher's clock, for lip-synced sender reports."""
        self.retransmitted = 0
        self.receiver_report: ReceiverReport | None = None
        self.remb_bps: int | None = None
        self._reports_sent: dict[int, float] = {}
        """When each recent sender report went out, by its middle 32 NTP bits (for round trips)."""
        """The subscriber's latest REMB estimate covering this m-line (kept for congestion control)."""
        self.transport_cc: RtcpRtpfbPacket | None = None
        """The latest transport-wide feedback, if the subscriber sends any (aiortc does not offer it)."""

        send = sender.send
        send_rtcp = sender._send_rtcp
        handle_rtcp = sender._handle_rtcp_packet

        async def configured_send(parameters: RTCRtpSendParameters) -> None:
            await send(parameters)
            self._configure(parameters)

        async def retransmit(sequence_number: int) -> None:
            self._on_nack(sequence_number)

        async def reported_send_rtcp(packets: list[AnyRtcpPacket]) -> None:
            self._fill_sender_report(packets)
            wire = self._wire_to_pair()
            if wire is None:  # no pair or DTLS yet: aiortc's own way, which waits for them
                await send_rtcp(packets)
                return
            wire.send_rtcp(b"".join(bytes(packet) for packet in packets))

        async def read_rtcp(packet: AnyRtcpPacket) -> None:
            if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
                self._read_receiver_report(packet)
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                self._read_remb(packet.fci)
            elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_TRANSPORT_CC:
                self.transport_cc = packet
                return  # aiortc would read it as a NACK
            await handle_rtcp(packet)

        # aiortc 1.16 internal: see the module docstring.
        sender.send = configured_send  # type: ignore[method-assign]
        sender._retransmit = retransmit  # type: ignore[method-assign]
        sender._send_rtcp = reported_send_rtcp  # type: ignore[method-assign]
        sender._handle_rtcp_packet = read_rtcp  # type: ignore[method-assign]

    def _configure(self, parameters: RTCRtpSendParameters) -> None:
        codec = parameters.codecs[0]
        assert codec.payloadType is not None
        self.payload_type = codec.payloadType
        self.clock_rate = codec.clockRate
        self._rtx_payload_type = next(
            (
                c.payloadType
                for c in parameters.codecs
                if is_rtx(c) and c.parameters.get("apt") == codec.payloadType
            ),
            None,
        )
        ids = {ext.uri: ext.id for ext in parameters.headerExtensions}
        self._layout = ExtensionLayout(
            mid_id=ids.get(MID_URI) if parameters.muxId else None,
            mid=(parameters.muxId or "").encode("utf8"),
            abs_send_time_id=ids.get(ABS_SEND_TIME_URI),
            audio_level_id=ids.get(AUDIO_LEVEL_URI),
        )
        # aiortc 1.16 internal: the connected DTLS transport's outbound SRTP session, and the
        # aioice Connection under its ICE transport (RTCIceTransport._connection).
        dtls = self._sender.transport
        self._dtls = dtls
        self._srtp = dtls._tx_srtp
        self._ice_nominated = dtls.transport._connection._nominated
        state = self.state
        state.payload_type, state.layout = self.payload_type, self._layout
        state.nominated, state.dtls, state.connected = self._ice_nominated, dtls, State.CONNECTED
        self.ready = True
        self._on_ready()

    def send(
        self, packet: ForwardedPacket, sequence_number: int, timestamp: int, payload: bytes | None = None
    ) -> None:
        """Send ``packet`` with this m-line's SSRC and payload type and the given numbers
        (and ``payload`` instead of its own: VP8 picture ids renumbered after a layer switch)."""
        if not self.ready:
            return
        if not self._transmit_media(packet, sequence_number, timestamp, payload):
            return
        state = self.state
        if seq_newer_or_equal(sequence_number, state.next_seq):
            state.next_seq = (sequence_number + 1) % SEQ_MOD
            state.last_timestamp = timestamp
            state.last_ntp = packet.ntp
        state.packets += 1
        state.octets += len(packet.payload)

    def resend(
        self, packet: ForwardedPacket, sequence_number: int, timestamp: int, payload: bytes | None = None
    ) -> None:
        """Send ``packet`` again for a NACK: as RTX when negotiated (RFC 4588), else as it was."""
        if not self.ready:
            return
        if self._rtx_payload_type is None:
            sent = self._transmit_media(packet, sequence_number, timestamp, payload)
        else:
            sent = self._transmit(
                packet,
                self._rtx_payload_type,
                self._rtx_seq,
                timestamp,
                self._rtx_ssrc,
                rtx_payload(packet, sequence_number, payload),
            )
            self._rtx_seq = (self._rtx_seq + 1) % SEQ_MOD
        if sent:
            self.retransmitted += 1

    def next_timestamp(self) -> int:
        """Where a new timeline starts: 20 ms after the last packet, or anywhere at first."""
        last = self.last_timestamp
        if last is None:
            return random32()
        return (last + self.clock_rate // 50) % TS_MOD

    @property
    def next_seq(self) -> int:
        """The sequence number the m-line's next new packet gets."""
        return self.state.next_seq

    @property
    def last_timestamp(self) -> int | None:
        """The timestamp most recently sent (None: nothing sent yet)."""
        last = self.state.last_timestamp
        return None if last < 0 else last

    @property
    def packets(self) -> int:
        return self.state.packets

    @property
    def octets(self) -> int:
        """Payload bytes sent (as a sender report counts them)."""
        return self.state.octets

    @property
    def send_dropped(self) -> int:
        """Packets dropped because the subscriber's socket buffer was full (the backlog bound)."""
        return self.state.dropped

    @property
    def send_failures(self) -> int:
        """Packets that could not be protected or that the socket refused otherwise."""
        return self.state.protect_failed + self.state.failed

    def _transmit_media(
        self, packet: ForwardedPacket, sequence_number: int, timestamp: int, payload: bytes | None
    ) -> bool:
        """Send ``packet`` (or ``payload`` in its place) on this m-line's own SSRC and payload type."""
        return self._transmit(
            packet, self.payload_type, sequence_number, timestamp, self.ssrc,
            packet.payload if payload is None else payload,
        )

    def _transmit(
        self, packet: ForwardedPacket, payload_type: int, sequence_number: int, timestamp: int, ssrc: int,
        payload: bytes,
    ) -> bool:
        """Build, protect and send one RTP packet of ``packet`` with these numbers; False: not sent."""
        wire = self._wire_to_pair()
        if wire is None:
            return False
        block = packet.extension_block(self._layout)
        result = wire.send(
            RTP_VERSION_2 | EXTENSION_BIT if block else RTP_VERSION_2,
            (packet.marker << 7) | payload_type,
            sequence_number,
            timestamp,
            ssrc,
            block,
            payload,
        )
        if result == SENT:
            return True
        state = self.state
        if result == DROPPED:
            state.dropped += 1
        elif result == PROTECT_FAILED:
            state.protect_failed += 1
        else:
            state.failed += 1
        return False

    def _wire_to_pair(self) -> RtpSender | None:
        """The sender to the subscriber's nominated pair; None while there is none to send on."""
        srtp, dtls = self._srtp, self._dtls
        pair = self._ice_nominated.get(ICE_COMPONENT_RTP)
        # aiortc 1.16 internal: RTCDtlsTransport._state (the public .state builds a string).
        if srtp is None or dtls is None or pair is None or dtls._state is not State.CONNECTED:
            return None
        if pair is not self._pair:
            # aioice 0.13 internal: CandidatePair.protocol (a StunProtocol) and .remote_addr;
            # CPython 3.11 internal: the datagram transport's socket (see the module docstring).
            transport = pair.protocol.transport
            if transport is None or transport.is_closing():
                return None
            self._pair = pair
            # A relayed (TURN) pair has no socket of its own: its transport wraps the relay.
            sock = getattr(transport, "_sock", None)
            native = native_sender(srtp, sock, pair.remote_addr) if self._native and sock is not None else None
            self._wire = native or PythonSender(
                srtp, sock.sendto if sock is not None else transport.sendto, pair.remote_addr
            )
            self.state.sender, self.state.pair = native, pair
        return self._wire

    @property
    def native(self) -> bool:
        """Whether packets go out through the native sender (``srtp_send.py``)."""
        return self._wire is not None and not isinstance(self._wire, PythonSender)

    def _read_remb(self, fci: bytes) -> None:
        try:
            bitrate, ssrcs = unpack_remb_fci(fci)
        except ValueError:
            return
        if self.ssrc in ssrcs:
            self.remb_bps = bitrate

    def _round_trip(self, lsr: int, dlsr: int, now: float) -> float | None:
        sent = self._reports_sent.get(lsr)
        if sent is None or not dlsr:
            return None
        return max(0.0, now - sent - dlsr / 65536)

    def _read_receiver_report(self, packet: RtcpRrPacket | RtcpSrPacket) -> None:
        now = time.monotonic()
        for report in packet.reports:
            if report.ssrc == self.ssrc and self.clock_rate:
                self.receiver_report = ReceiverReport(
                    fraction_lost=report.fraction_lost / 256,
                    packets_lost=report.packets_lost,
                    jitter_s=report.jitter / self.clock_rate,
                    received_at=now,
                    rtt_s=self._round_trip(report.lsr, report.dlsr, now),
                    answered_sent_at=self._reports_sent.get(report.lsr),
                )

    def _fill_sender_report(self, packets: list[AnyRtcpPacket]) -> None:
        """Put this m-line's real counters in aiortc's sender report (its own stay at zero).

        The NTP/RTP pair is the publisher's own latest one mapped into this m-line's timeline,
        so a subscriber lines up the publisher's audio and video exactly as the publisher
        stated; until the publisher has sent a report, the last packet's arrival time stands in.
        """
        state = self.state
        if state.last_timestamp < 0:
            return
        clock = self.sender_clock() if self.sender_clock is not None else None
        ntp, rtp = clock if clock is not None else (state.last_ntp, state.last_timestamp)
        for packet in packets:
            if isinstance(packet, RtcpSrPacket) and packet.ssrc == self.ssrc:
                packet.sender_info = RtcpSenderInfo(
                    ntp_timestamp=ntp,
                    rtp_timestamp=rtp,
                    packet_count=self.packets & 0xFFFFFFFF,
                    octet_count=self.octets & 0xFFFFFFFF,
                )
                # aiortc 1.16 internal: the fields RTCRtpSender matches receiver reports
                # against (round-trip time) and reports in getStats().
                sender = self._sender
                lsr = (ntp >> SR_NTP_TO_LSR_SHIFT) & 0xFFFFFFFF
                self._reports_sent[lsr] = time.monotonic()
                if len(self._reports_sent) > REPORTS_REMEMBERED:
                    del self._reports_sent[next(iter(self._reports_sent))]
                sender._RTCRtpSender__lsr = lsr  # type: ignore[attr-defined]
                sender._RTCRtpSender__lsr_time = time.time()  # type: ignore[attr-defined]
                sender._RTCRtpSender__packet_count = self.packets  # type: ignore[attr-defined]
                sender._RTCRtpSender__octet_count = self.octets  # type: ignore[attr-defined]
