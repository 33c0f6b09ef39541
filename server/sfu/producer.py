"""A participant's incoming track, fanned out to consumers without decoding."""

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import av
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from .best_layer import BestLayerFrames
from .consumer import Consumer
from .degradation import Shortfall
from .fan_out import FanOutEntry, fan_out
from .keyframes import KeyframeRequester
from .layer_choice import LayerChoice, LayerChooser, View
from .layers import LayerIn, SimulcastLayers, best_live, sent_layers
from .packet_consumer import ConsumerStats, PacketConsumer
from .packets import (
    RTX_OSN,
    ForwardedPacket,
    PacketCache,
    ntp_now,
    starts_keyframe,
    unwrap_rtx_payload,
)
from .passthrough import FrameGate
from .receiver_upkeep import ReceiverUpkeep, RembThrottle
from .rtp_forward import RtpOut
from .rtptap import RtpTap
from .settings import Forwarding
from .simulcast_sdp import SimulcastOffer
from .speaker import activity_from_level, activity_from_opus_size
from .vp8 import keyframe_size, read_temporal

ProducerKind = Literal["audio", "video", "screen"]
PRODUCER_KINDS: tuple[ProducerKind, ...] = ("audio", "video", "screen")

ActivityCallback = Callable[[str, float], None]
"""Receives (peer_id, activity in 0..1) for every audio packet."""
PacketSink = Callable[[av.Packet], None]
"""Receives every frame that is forwarded (e.g. a recording); must be quick and must not block."""
ShortfallCallback = Callable[[str, PacketConsumer, Shortfall | None], None]
"""Subscriber peer id, its consumer, and the consumer's sustained degradation (None: none)."""

logger = logging.getLogger(__name__)

UPSTREAM_NACK_HOLD_S = 0.1
"""A packet missed by several subscribers is asked of the publisher once per this interval."""


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
    origin: str | None = None
    """The cascade link it arrived by (``link:<node id>``); None when its publisher is on this node."""


class Producer:
    """Reads one publisher track and hands its media to every consumer.

    With frame forwarding, each encoded frame goes to every :class:`Consumer`; with packet
    forwarding, each RTP packet goes to every :class:`PacketConsumer` as it arrives. Frames
    are reassembled once, for the frame path and the sinks (the recording); on the packet
    path only while a sink needs them (:class:`FrameGate`; for simulcast
    :class:`BestLayerFrames`, which follows the best layer sent), and the audio-size speaker
    fallback reads packet sizes (an Opus packet is one frame). Server-side mute (moderation)
    stops the hand-out at this one place; on unmute video consumers restart at a keyframe so
    nobody decodes garbage.
    """

    def __init__(
        self,
        peer_id: str,
        kind: ProducerKind,
        track: MediaStreamTrack,
        receiver: RTCRtpReceiver,
        codec: RTCRtpCodecParameters,
        media_payload_types: set[int],
        rtx_payload_types: Mapping[int, int],
        keyframe_min_interval_s: float,
        forwarding: Forwarding,
        nack_cache_packets: int,
        on_activity: ActivityCallback,
        on_ended: Callable[["Producer"], None],
        simulcast: SimulcastOffer | None = None,
        on_shortfall: ShortfallCallback | None = None,
        producer_id: str | None = None,
        origin: str | None = None,
    ) -> None:
        """``rtx_payload_types`` maps each negotiated RTX payload type to its media one;
        ``simulcast``: the publisher sends layers (``layers.py``), each consumer forwards one. A
        track that came over a cascade link keeps the id its publisher's node gave it
        (``producer_id``), so clients on every node name it alike, and says which link
        (``origin``). ``on_shortfall`` is told each layered consumer's sustained degradation
        (``layer_choice.py``) with its subscriber."""
        self.id = producer_id or uuid.uuid4().hex
        self.origin = origin
        self.peer_id = peer_id
        self.kind = kind
        self.codec = codec
        self.muted = False
        self._track = track
        self._receiver = receiver
        self._consumers: set[Consumer] = set()
        self._packet_consumers: set[PacketConsumer] = set()
        self._fan_out: list[FanOutEntry] = []
        """Every packet consumer's lane and forward, as ``fan_out.fan_out`` takes them."""
        self._media_payload_types = frozenset(media_payload_types)
        self._rtx_payload_types = dict(rtx_payload_types)
        self._video = kind != "audio"
        self._vp8 = codec.mimeType.lower() == "video/vp8"
        rids: tuple[str | None, ...] = simulcast.rids if simulcast is not None else (None,)
        self.layers: tuple[LayerIn, ...] = tuple(
            LayerIn(index, rid, PacketCache(nack_cache_packets), KeyframeRequester(receiver, keyframe_min_interval_s))
            for index, rid in enumerate(rids)
        )
        """Incoming layers, lowest first; one without simulcast."""
        remb = RembThrottle()
        self._simulcast = (
            None if simulcast is None
            else SimulcastLayers(simulcast, receiver, list(self.layers), codec.clockRate, remb)
        )
        # VP8 may carry temporal layers (L1T3) even without simulcast: its consumers choose too
        self._chooser = LayerChooser() if (simulcast is not None or self._vp8) and forwarding == "packet" else None
        self._upstream_nacks: dict[tuple[int, int], float] = {}
        self._nacking: set[asyncio.Task[None]] = set()
        self.upstream_nacks = 0
        """NACKs sent to the publisher for packets missing from the cache."""
        self._on_activity = on_activity
        self._on_ended = on_ended
        self._on_shortfall = on_shortfall
        self.audio_level_seen = False
        """Whether the publisher sends RFC 6464 audio levels (browsers do)."""
        self.keyframes = self.layers[-1].keyframes
        """Keyframe requests for the top layer (the only one without simulcast)."""
        self._packet_path = forwarding == "packet"
        self._sinks: tuple[PacketSink, ...] = ()
        self._best_layer: BestLayerFrames | None = None
        """The sinks' frames of a simulcast producer, while there are sinks (``best_layer.py``)."""
        self._frames = FrameGate(receiver, self._frames_needed())
        # before the tap, which wraps whatever handler it finds
        self._upkeep = ReceiverUpkeep(receiver, self._frames, remb) if self._packet_path else None
        self._tap = RtpTap(
            receiver,
            media_payload_types,
            on_media_ssrc=self._set_media_ssrc,
            on_audio_level=self._audio_level if kind == "audio" else None,
            on_packet=self._forward_packet if self._packet_path else None,
            on_sender_report=self._set_sender_report,
        )
        self.frames = 0
        """Frames reassembled from the publisher's packets (on the packet path: while gated open)."""
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    @property
    def info(self) -> ProducerInfo:
        return ProducerInfo(self.id, self.peer_id, self.kind, self.codec.mimeType, self.muted, self.origin)

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
    def consumers(self) -> frozenset[Consumer | PacketConsumer]:
        return frozenset((*self._consumers, *self._packet_consumers))

    def consume(self, max_frames: int) -> Consumer:
        """A frame-path consumer (``forwarding == "frame"``)."""
        consumer = Consumer(
            self.id, max_frames, self.request_keyframe, self._consumers.discard
        )
        self._consumers.add(consumer)
        return consumer

    def consume_packets(self, out: RtpOut, subscriber: str = "") -> PacketConsumer:
        """A packet-path consumer sending through ``out`` (``forwarding == "packet"``)."""
        consumer = PacketConsumer(
            self.id,
            self._video,
            out,
            self.layers,
            self.request_keyframe,
            self._nack_upstream,
            self._consumer_closed,
            self._publisher_clock,
            self.codec.mimeType,
            self._recent_keyframe_run,
            best_live(self.layers, time.monotonic()),
        )
        self._packet_consumers.add(consumer)
        self._fan_out.append((consumer.lane, consumer.forward))
        if self._chooser is not None:
            describe = f"{self.peer_id}'s {self.kind} to {subscriber or 'a subscriber'}"
            report = (
                functools.partial(self._on_shortfall, subscriber, consumer) if self._on_shortfall is not None else None
            )
            self._chooser.add(LayerChoice(consumer, self.layers, describe, report=report))
        return consumer

    def set_view(self, consumer: PacketConsumer, view: View) -> None:
        """How the consumer's subscriber shows this video (it caps the layer chosen)."""
        if self._chooser is not None and consumer in self._chooser.choices:
            self._chooser.choices[consumer].set_view(view)

    def live_layers(self) -> int:
        """How many layers the publisher is sending now (1 without simulcast)."""
        now = time.monotonic()
        return len(sent_layers(self.layers, now)) if self._simulcast is not None else 1

    def layer_choice(self, consumer: PacketConsumer) -> LayerChoice | None:
        return None if self._chooser is None else self._chooser.choices.get(consumer)

    def _consumer_closed(self, consumer: PacketConsumer) -> None:
        self._packet_consumers.discard(consumer)
        self._fan_out = [(c.lane, c.forward) for c in self._packet_consumers]
        if self._chooser is not None:
            self._chooser.remove(consumer)

    @property
    def received(self) -> tuple[int, int]:
        """Packets and RTP payload bytes received from the publisher (or the cascade link)."""
        return self._tap.packets, self._tap.payload_bytes

    def consumer_stats(self) -> list[ConsumerStats]:
        """Per packet-path consumer: what it forwarded, dropped and retransmitted, and what its
        subscriber reports (loss, jitter, REMB)."""
        return [consumer.stats() for consumer in self._packet_consumers]

    def add_sink(self, sink: PacketSink) -> None:
        """Also hand every forwarded frame to ``sink`` (the same ``av.Packet``: read it, don't change
        it); of a simulcast producer, the frames of the best layer the publisher sends."""
        self._sinks += (sink,)
        self._sinks_changed()

    def remove_sink(self, sink: PacketSink) -> None:
        self._sinks = tuple(s for s in self._sinks if s is not sink)
        self._sinks_changed()

    def _sinks_changed(self) -> None:
        self._frames.open = self._frames_needed()
        if self._simulcast is None or not self._sinks:
            self._best_layer = None
        elif self._best_layer is None:
            self._best_layer = BestLayerFrames(self.layers, self.codec, self.request_keyframe, self._to_sinks)

    def _frames_needed(self) -> bool:
        """Whether anyone reads the frames aiortc's receiver reassembles: the frame path, or a sink
        of a producer without layers (a simulcast producer's sinks read ``BestLayerFrames``)."""
        return not self._packet_path or (bool(self._sinks) and self._simulcast is None)

    def request_keyframe(self, layer: int | None = None) -> None:
        """Ask the publisher for a keyframe of ``layer`` (default: the one the sinks read, else the top)."""
        if self.kind == "audio":
            return
        if layer is None:
            recorded = self._best_layer.layer if self._best_layer is not None else None
            layer = len(self.layers) - 1 if recorded is None else recorded
        self.layers[layer].keyframes.request()

    def _recent_keyframe_run(self, layer: int) -> list[ForwardedPacket]:
        """The packets of ``layer`` from its latest keyframe on, if that keyframe is recent and
        still cached; empty otherwise, and always while muted (moderation hides the past too)."""
        return [] if self.muted else self.layers[layer].recent_keyframe_run(time.monotonic())

    def set_muted(self, muted: bool) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        if muted:
            for layer in self.layers:
                layer.keyframe_start = None
            return
        for packet_consumer in self._packet_consumers:
            packet_consumer.restart()
        if self._best_layer is not None:
            self._best_layer.restart()
        if self.kind != "audio":
            for consumer in self._consumers:
                consumer.resync()

    async def close(self, stop_receiver: bool = True) -> None:
        """Stop forwarding and receiving; consumers see their end. A cascade link keeps the
        receiver (``stop_receiver=False``) when its m-line goes on with another producer."""
        self._pump_task.cancel()
        await asyncio.gather(self._pump_task, return_exceptions=True)
        self._shut()
        if self._chooser is not None:
            await self._chooser.stopped()
        if stop_receiver:
            # The publisher may keep sending; a stopped receiver drops those packets
            # instead of queueing them forever in a track nobody reads.
            await self._receiver.stop()

    def _shut(self) -> None:
        self._tap.detach()
        if self._upkeep is not None:
            self._upkeep.detach()
        for layer in self.layers:
            layer.keyframes.close()
        if self._simulcast is not None:
            self._simulcast.close()
        if self._chooser is not None:
            self._chooser.stop()
        for task in self._nacking:
            task.cancel()
        for consumer in list(self.consumers):
            consumer.close()

    def _set_media_ssrc(self, ssrc: int) -> None:
        self.keyframes.media_ssrc = ssrc

    def _set_sender_report(self, ssrc: int, ntp: int, rtp_timestamp: int) -> None:
        if self._simulcast is not None:
            layer = self._simulcast.media_ssrc(ssrc)
        else:
            layer = self.layers[0] if ssrc == self.keyframes.media_ssrc else None  # not RTX's
        if layer is not None:
            layer.sender_report = (ntp, rtp_timestamp)

    def _publisher_clock(self, layer: int) -> tuple[int, int] | None:
        return self.layers[layer].sender_report

    def _audio_level(self, dbov: int) -> None:
        self.audio_level_seen = True
        if not self.muted:
            self._on_activity(self.peer_id, activity_from_level(dbov))

    def _forward_packet(self, packet: RtpPacket) -> bool:
        """The packet path: one received packet to every packet consumer, right now.

        False for a packet aiortc's receiver must not see: any of a simulcast producer's
        (``layers.py`` keeps their reports, NACKs and estimate; ``best_layer.py`` their frames).
        """
        payload_type = packet.payload_type
        sequence_number = packet.sequence_number
        payload = packet.payload
        retransmitted = payload_type in self._rtx_payload_types
        if not retransmitted and payload_type not in self._media_payload_types:
            return True
        temporal = read_temporal(payload, RTX_OSN.size if retransmitted else 0) if self._vp8 else None
        tid = None if temporal is None else temporal[0]
        ours = self._simulcast is None
        if self._simulcast is None:
            layer = self.layers[0]
            if tid is not None:  # what each temporal layer costs, for the consumers' choice
                layer.meter.add(len(payload), time.monotonic(), tid)
        else:
            found = self._simulcast.layer_of(packet, retransmitted)
            if found is None:
                return False  # a layer not named yet
            layer = found
            layer.meter.add(len(payload), time.monotonic(), tid)
            self._simulcast.keep_up(layer, packet, retransmitted)
        if retransmitted:
            unwrapped = unwrap_rtx_payload(payload)
            if unwrapped is None:
                return ours
            sequence_number, payload = unwrapped
            if layer.cache.get(sequence_number) is not None:
                return ours  # already forwarded: a retransmission nobody here asked for
        if not payload:
            return ours  # padding only (bandwidth probing)
        if not self._video:
            keyframe_start = True
        else:
            # A run may start only where a frame starts (a packet with a new timestamp), and
            # never at a late retransmission.
            opens_frame = not retransmitted and packet.timestamp != layer.last_timestamp
            keyframe_start = opens_frame and starts_keyframe(self.codec.mimeType, payload)
            if not retransmitted:
                layer.last_timestamp = packet.timestamp
            if keyframe_start:
                # Every consumer waiting gets this keyframe, so a deferred request is moot; said
                # at its first packet, a request made after it is still served by the next one.
                layer.keyframes.keyframe_arrived()
                if self._simulcast is not None and self._vp8:
                    layer.size = keyframe_size(payload)
        forwarded = ForwardedPacket(
            sequence_number,
            packet.timestamp,
            packet.marker,
            payload,
            packet.extensions.audio_level,
            ntp_now(),
            keyframe_start,
            layer.index,
            temporal,
        )
        layer.cache.add(forwarded)
        if keyframe_start and self._video and not self.muted:
            layer.keyframe_start = (time.monotonic(), forwarded)
        if self.muted:
            return ours
        if not self._video and not self.audio_level_seen and not retransmitted:
            self._on_activity(self.peer_id, activity_from_opus_size(len(payload)))
        fan_out(self._fan_out, forwarded)
        if self._best_layer is not None:
            self._best_layer.forward(forwarded)
        return ours

    def _nack_upstream(self, layer: int, sequence_number: int) -> None:
        """Ask the publisher for a packet a subscriber missed and the cache does not hold."""
        media_ssrc = self.layers[layer].keyframes.media_ssrc
        if media_ssrc is None:
            return
        now = asyncio.get_running_loop().time()
        key = (layer, sequence_number)
        if now - self._upstream_nacks.get(key, -UPSTREAM_NACK_HOLD_S) < UPSTREAM_NACK_HOLD_S:
            return
        if len(self._upstream_nacks) > self.layers[0].cache.size:
            self._upstream_nacks = {
                seq: at for seq, at in self._upstream_nacks.items() if now - at < UPSTREAM_NACK_HOLD_S
            }
        self._upstream_nacks[key] = now
        self.upstream_nacks += 1
        # aiortc 1.16 internal: RTCRtpReceiver._send_rtcp_nack(media_ssrc, lost) sends an
        # RTPFB NACK from the receiver's RTCP SSRC (keyframes.py uses its PLI sibling).
        task = asyncio.get_running_loop().create_task(
            self._receiver._send_rtcp_nack(media_ssrc, [sequence_number])
        )
        self._nacking.add(task)
        task.add_done_callback(self._nacking.discard)

    def _to_sinks(self, packet: av.Packet) -> None:
        """A reassembled frame (aiortc's receiver's, or the best layer's) to every sink."""
        self.frames += 1
        for sink in self._sinks:
            self._hand_to(sink, packet)

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
                if packet.is_keyframe and not self._packet_path:  # the packet path tells earlier
                    self.keyframes.keyframe_arrived()
                if self.muted:
                    self.frames += 1
                    continue
                if self.kind == "audio" and not self.audio_level_seen and not self._packet_path:
                    self._on_activity(self.peer_id, activity_from_opus_size(packet.size))
                for consumer in self._consumers:
                    consumer.push(packet)
                self._to_sinks(packet)
        except MediaStreamError:
            self._shut()
            self._on_ended(self)
