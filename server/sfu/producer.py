"""A participant's incoming track, fanned out to consumers without decoding."""

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import av
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from .consumer import Consumer
from .keyframes import KeyframeRequester
from .rtptap import RtpTap
from .speaker import activity_from_level, activity_from_opus_size

ProducerKind = Literal["audio", "video", "screen"]
PRODUCER_KINDS: tuple[ProducerKind, ...] = ("audio", "video", "screen")

ActivityCallback = Callable[[str, float], None]
"""Receives (peer_id, activity in 0..1) for every audio packet."""
PacketSink = Callable[[av.Packet], None]
"""Receives every frame that is forwarded (e.g. a recording); must be quick and must not block."""

logger = logging.getLogger(__name__)


def media_kind(kind: ProducerKind) -> str:
    """The SDP media type carrying a producer kind: screens are video."""
    return "audio" if kind == "audio" else "video"


@dataclass(frozen=True)
class ProducerInfo:
    """What subscribers and the signaling layer are told about a producer."""

    id: str
    peer_id: str
    kind: ProducerKind
    mime_type: str
    muted: bool


class Producer:
    """Reads one publisher track's encoded frames and hands each to every consumer.

    Server-side mute (moderation) stops the hand-out at this one place; on
    unmute video consumers restart at a keyframe so nobody decodes garbage.
    """

    def __init__(
        self,
        peer_id: str,
        kind: ProducerKind,
        track: MediaStreamTrack,
        receiver: RTCRtpReceiver,
        codec: RTCRtpCodecParameters,
        media_payload_types: set[int],
        keyframe_min_interval_s: float,
        on_activity: ActivityCallback,
        on_ended: Callable[["Producer"], None],
    ) -> None:
        self.id = uuid.uuid4().hex
        self.peer_id = peer_id
        self.kind = kind
        self.codec = codec
        self.muted = False
        self._track = track
        self._receiver = receiver
        self._consumers: set[Consumer] = set()
        self._on_activity = on_activity
        self._on_ended = on_ended
        self.audio_level_seen = False
        """Whether the publisher sends RFC 6464 audio levels (browsers do)."""
        self.keyframes = KeyframeRequester(receiver, keyframe_min_interval_s)
        self._tap = RtpTap(
            receiver,
            media_payload_types,
            on_media_ssrc=self._set_media_ssrc,
            on_audio_level=self._audio_level if kind == "audio" else None,
        )
        self.frames = 0
        """Frames received from the publisher."""
        self._sinks: tuple[PacketSink, ...] = ()
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    @property
    def info(self) -> ProducerInfo:
        return ProducerInfo(self.id, self.peer_id, self.kind, self.codec.mimeType, self.muted)

    @property
    def capability(self) -> RTCRtpCodecCapability:
        """The exact codec a subscriber must accept to take these frames as they are."""
        return RTCRtpCodecCapability(
            mimeType=self.codec.mimeType,
            clockRate=self.codec.clockRate,
            channels=self.codec.channels,
            parameters=dict(self.codec.parameters),
        )

    @property
    def consumers(self) -> frozenset[Consumer]:
        return frozenset(self._consumers)

    def consume(self, max_frames: int) -> Consumer:
        consumer = Consumer(
            self.id, max_frames, self.request_keyframe, self._consumers.discard
        )
        self._consumers.add(consumer)
        return consumer

    def add_sink(self, sink: PacketSink) -> None:
        """Also hand every forwarded frame to ``sink`` (the same ``av.Packet``: read it, don't change it)."""
        self._sinks += (sink,)

    def remove_sink(self, sink: PacketSink) -> None:
        self._sinks = tuple(s for s in self._sinks if s is not sink)

    def request_keyframe(self) -> None:
        if self.kind != "audio":
            self.keyframes.request()

    def set_muted(self, muted: bool) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        if not muted and self.kind != "audio":
            for consumer in self._consumers:
                consumer.resync()

    async def close(self) -> None:
        """Stop forwarding and receiving; consumers see their end."""
        self._pump_task.cancel()
        await asyncio.gather(self._pump_task, return_exceptions=True)
        self._shut()
        # The publisher may keep sending; a stopped receiver drops those packets
        # instead of queueing them forever in a track nobody reads.
        await self._receiver.stop()

    def _shut(self) -> None:
        self._tap.detach()
        self.keyframes.close()
        for consumer in list(self._consumers):
            consumer.close()

    def _set_media_ssrc(self, ssrc: int) -> None:
        self.keyframes.media_ssrc = ssrc

    def _audio_level(self, dbov: int) -> None:
        self.audio_level_seen = True
        if not self.muted:
            self._on_activity(self.peer_id, activity_from_level(dbov))

    def _hand_to(self, sink: PacketSink, packet: av.Packet) -> None:
        try:
            sink(packet)
        except Exception:  # a broken sink must not stop forwarding
            logger.exception("producer %s: packet sink failed; removed", self.id)
            self.remove_sink(sink)

    async def _pump(self) -> None:
        try:
            while True:
                packet = await self._track.recv()
                assert isinstance(packet, av.Packet), "receiver is not pass-through"
                self.frames += 1
                if packet.is_keyframe:
                    self.keyframes.keyframe_arrived()
                if self.muted:
                    continue
                if self.kind == "audio" and not self.audio_level_seen:
                    self._on_activity(self.peer_id, activity_from_opus_size(packet.size))
                for consumer in self._consumers:
                    consumer.push(packet)
                for sink in self._sinks:
                    self._hand_to(sink, packet)
        except MediaStreamError:
            self._shut()
            self._on_ended(self)
