"""A look at a receiver's RTP packets before aiortc reassembles them.

Two facts the SFU needs are lost once packets become frames: the publisher's
media SSRC (a PLI must name it; RTX packets carry another) and the per-packet
audio level header extension (RFC 6464) that browsers send for speaker
detection. And the packet path forwards the packets themselves from here,
before aiortc's receiver reassembles them, and maps the publisher's sender
reports (its NTP/RTP clock pair, read here too) into every subscriber's
timeline so that subscribers keep its audio and video in sync.
"""

import logging
from collections.abc import Callable, Collection

from aiortc import RTCRtpReceiver
from aiortc.rtp import AnyRtcpPacket, RtcpSrPacket, RtpPacket

from .rtp_in import PlainRtpHandler, plain_take

logger = logging.getLogger(__name__)


class RtpTap:
    """Observes one receiver's incoming RTP packets; detach to stop."""

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        media_payload_types: Collection[int],
        on_media_ssrc: Callable[[int], None],
        on_audio_level: Callable[[int], None] | None = None,
        on_packet: Callable[[RtpPacket], bool] | None = None,
        on_sender_report: Callable[[int, int, int], None] | None = None,
    ) -> None:
        """``on_sender_report`` receives (SSRC, NTP timestamp, RTP timestamp) of each sender report."""
        self._receiver = receiver
        self._media_payload_types = frozenset(media_payload_types)
        self._on_media_ssrc = on_media_ssrc
        self._on_audio_level = on_audio_level
        self._on_packet = on_packet
        """Sees every packet (media and RTX, SRTP already removed), first; must not block.
        False: the receiver does not follow this packet's stream (a lower simulcast layer)."""
        self._media_ssrc: int | None = None
        self.packets = 0
        self.payload_bytes = 0
        """Packets (media and RTX) and their RTP payload bytes seen: a cascade link's counters."""
        # aiortc 1.16 internal: RTCDtlsTransport routes each RTP packet to
        # receiver._handle_rtp_packet(packet, arrival_time_ms=...), looked up on
        # the instance, so an instance attribute wraps it for this receiver only.
        self._handle = plain_take(receiver._handle_rtp_packet)
        self._handler = PlainRtpHandler(self._take)
        receiver._handle_rtp_packet = self._handler  # type: ignore[method-assign]
        self._on_sender_report = on_sender_report
        # aiortc 1.16 internal: RTCDtlsTransport hands the publisher's RTCP to
        # receiver._handle_rtcp_packet(packet), looked up on the instance as well.
        self._handle_rtcp = receiver._handle_rtcp_packet
        if on_sender_report is not None:
            receiver._handle_rtcp_packet = self._tapped_rtcp  # type: ignore[method-assign]

    def _take(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        self.packets += 1
        self.payload_bytes += len(packet.payload)
        if self._on_packet is not None:
            try:
                if self._on_packet(packet) is False:
                    return
            except Exception:  # the publisher's whole connection would go down with it
                logger.exception("RTP packet observer failed on %s", packet)
        if packet.payload_type in self._media_payload_types:
            if packet.ssrc != self._media_ssrc:
                self._media_ssrc = packet.ssrc
                self._on_media_ssrc(packet.ssrc)
            level = packet.extensions.audio_level
            if level is not None and self._on_audio_level is not None:
                self._on_audio_level(-level[1])  # the extension carries -dBov
        self._handle(packet, arrival_time_ms)

    async def _tapped_rtcp(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpSrPacket) and self._on_sender_report is not None:
            info = packet.sender_info
            self._on_sender_report(packet.ssrc, info.ntp_timestamp, info.rtp_timestamp)
        await self._handle_rtcp(packet)

    def detach(self) -> None:
        for name, tapped in (("_handle_rtp_packet", self._handler), ("_handle_rtcp_packet", self._tapped_rtcp)):
            if self._receiver.__dict__.get(name) == tapped:
                delattr(self._receiver, name)
