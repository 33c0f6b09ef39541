"""One m-line of a subscriber's connection, reused as producers come and go."""

import asyncio
import fractions

import av
from aiortc import RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from .consumer import Consumer
from .packet_consumer import PacketConsumer
from .rtp_forward import RtpOut

GAP_S = fractions.Fraction(1, 50)
"""Timestamp distance put between the last frame of one producer and the next."""


class Slot(MediaStreamTrack):
    """The track an SFU sender reads: whatever consumer is attached to it now.

    An aiortc sender cannot be restarted once its track has ended, and every
    added m-line stays in the SDP forever, so a subscriber's m-lines are
    recycled: when a producer leaves its slot goes inactive, and the next
    producer of the same kind and codec takes it over. The slot rewrites
    timestamps so its RTP timeline continues across producers: a jump
    backwards would make a receiver's jitter buffer discard the new stream as
    late.

    On the packet path the sender never reads the slot: packets go out through
    the slot's :class:`RtpOut` (set with :meth:`send_packets`), which carries
    the timeline across producers instead, and :meth:`recv` only waits for the
    end.
    """

    def __init__(self, kind: str, codec: RTCRtpCodecCapability) -> None:
        super().__init__()
        self.kind = kind
        self.codec = codec
        self.transceiver: RTCRtpTransceiver | None = None
        self.producer_id: str | None = None
        """The producer assigned to this slot in the latest offer."""
        self.consumer: Consumer | PacketConsumer | None = None
        self.out: RtpOut | None = None
        """The packet path's sending end; None on the frame path."""
        self._attached = asyncio.Event()
        self._ended = asyncio.Event()
        self._next_pts: int | None = None
        self._offset = 0
        self._offset_for: Consumer | None = None

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid if self.transceiver is not None else None

    def accepts(self, kind: str, codec: RTCRtpCodecCapability) -> bool:
        """Whether a producer of this media kind and codec can take the slot."""
        return self.producer_id is None and self.kind == kind and self.codec == codec

    def send_packets(self, transceiver: RTCRtpTransceiver, native: bool = True) -> RtpOut:
        """Forward packets through ``transceiver``'s sender from now on (before it starts);
        ``native``: through the native sender where there is one (``srtp_send.py``)."""
        self.out = RtpOut(transceiver.sender, self._out_ready, self._nacked, native)
        return self.out

    def attach(self, consumer: Consumer | PacketConsumer) -> None:
        self.detach()
        self.consumer = consumer
        self._attached.set()

    def detach(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
            self._attached.clear()

    def request_keyframe(self) -> None:
        """The subscriber lost a picture; only the publisher can send a new one."""
        if self.consumer is not None:
            self.consumer.request_keyframe()

    def _out_ready(self) -> None:
        if isinstance(self.consumer, PacketConsumer):
            self.consumer.ready()  # it has been waiting for the connection

    def _nacked(self, sequence_number: int) -> None:
        if isinstance(self.consumer, PacketConsumer):
            self.consumer.retransmit(sequence_number)

    async def recv(self) -> av.Packet:
        if self.out is not None:  # the packet path: the sender's own loop gets nothing
            await self._ended.wait()
            raise MediaStreamError
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            consumer = self.consumer
            if not isinstance(consumer, Consumer):
                await self._attached.wait()
                continue
            packet = await consumer.pull()
            if packet is None:
                if self.consumer is consumer:
                    self.consumer = None
                    self._attached.clear()
                continue
            return self._rebased(consumer, packet)

    def stop(self) -> None:
        self.detach()
        super().stop()
        self._attached.set()  # wake recv() so it sees the track has ended
        self._ended.set()

    def _rebased(self, consumer: Consumer, packet: av.Packet) -> av.Packet:
        assert packet.pts is not None and packet.time_base is not None
        time_base = packet.time_base
        if self._offset_for is not consumer:
            self._offset_for = consumer
            start = self._next_pts if self._next_pts is not None else 0
            self._offset = start - packet.pts
        out = av.Packet(bytes(packet))
        out.pts = packet.pts + self._offset
        out.time_base = time_base
        out.is_keyframe = packet.is_keyframe
        self._next_pts = packet.pts + self._offset + int(
            GAP_S * time_base.denominator / time_base.numerator
        )
        return out
