"""Simulcast layers of one producer, as they arrive from the publisher.

A simulcast publisher sends each layer (e.g. 180p, 360p, 720p of one camera) as its own RTP
stream on the same m-line, named by the rid header extension (RFC 8852) in its first packets
and known by SSRC after that; retransmissions come on further SSRCs named by the
repaired-rid extension. aiortc 1.16's receiver follows one stream only, so it is given none of
them: the recording follows whichever layer is the best one sent (``best_layer.py``), and a
receiver fed a stream switching between SSRCs would report and NACK a stream nobody sent. For
every layer alike the SFU keeps what aiortc would have kept itself: receiver statistics (so the
publisher sees reports and keeps sending them), NACKs, the bandwidth estimate (REMB),
sender-report clocks, keyframe requests to the right SSRC, and a bitrate per layer, which tells
the per-subscriber choice (``layer_choice.py``) and the recording what each layer costs and
which layers are live.
"""

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import RtpPacket

from .keyframes import KeyframeRequester
from .packets import SEQ_MOD, ForwardedPacket, PacketCache, ntp_now
from .receiver_upkeep import RembThrottle, remb_for
from .simulcast_sdp import REPAIRED_RID_URI, RID_URI, SimulcastOffer

BITRATE_WINDOW_S = 1.0
"""A layer's bitrate is measured over this window; no packet in two windows: its bitrate is 0."""
SILENT_S = 0.5
"""A layer without a packet this long is not being sent: a camera sends 5-30 frames a second,
and a browser pauses a layer its estimate cannot carry (Chromium does, in a publisher's first
seconds while its estimate ramps up). A consumer waiting for a paused layer's keyframe waits in
vain: the publisher ignores requests for a layer it does not send (seen: 1.8 s of them)."""
KEYFRAME_REPLAY_MAX_S = 0.5
"""How old a keyframe may be for a stream that starts now to start from it (sent again from the
cache, with the packets since): a subscriber whose connection just came up (a late joiner's
keyframe is asked for when it accepts the m-line and often arrives before its DTLS is up), and
the recording of a simulcast camera (``best_layer.py``). An older start would put it that far
behind; asking again costs one round trip to the publisher instead."""


class LayerMeter:
    """Bytes per second of one layer over the last full window, in all and up to each VP8
    temporal layer (what a consumer held at a lower temporal layer costs)."""

    def __init__(self) -> None:
        self._window_start = time.monotonic()
        self._bytes = 0
        self._temporal_bytes = [0, 0, 0]
        self.bitrate_bps = 0
        self.temporal_bps: tuple[int, ...] = ()
        """Bitrate of temporal layers 0..n cumulated (T0, T0+T1, ...); empty without them."""
        self.last_packet_at: float | None = None

    def add(self, size: int, now: float, tid: int | None = None) -> None:
        if now - self._window_start >= BITRATE_WINDOW_S:
            elapsed = now - self._window_start
            fresh = elapsed < 2 * BITRATE_WINDOW_S
            self.bitrate_bps = int(self._bytes * 8 / elapsed) if fresh else 0
            self.temporal_bps = self._cumulated(elapsed) if fresh else ()
            self._window_start, self._bytes = now, 0
            self._temporal_bytes = [0, 0, 0]
        self._bytes += size
        if tid is not None:
            self._temporal_bytes[tid] += size
        self.last_packet_at = now

    def _cumulated(self, elapsed: float) -> tuple[int, ...]:
        layers = max((tid + 1 for tid, size in enumerate(self._temporal_bytes) if size), default=0)
        if layers < 2:
            return ()
        total = 0
        cumulated = []
        for size in self._temporal_bytes[:layers]:
            total += size
            cumulated.append(int(total * 8 / elapsed))
        return tuple(cumulated)

    def live(self, now: float) -> bool:
        """Whether this layer had a packet in the last ``SILENT_S`` (``sent_layers`` compares
        layers with each other instead)."""
        return self.last_packet_at is not None and now - self.last_packet_at <= SILENT_S


@dataclass
class LayerIn:
    """What the SFU keeps of one incoming layer (one per producer without simulcast)."""

    index: int
    rid: str | None
    cache: PacketCache
    keyframes: KeyframeRequester
    last_timestamp: int | None = None
    sender_report: tuple[int, int] | None = None
    """(NTP, RTP timestamp) of this layer's newest sender report."""
    meter: LayerMeter = field(default_factory=LayerMeter)
    size: tuple[int, int] | None = None
    """(width, height) of its latest keyframe, if the codec tells (VP8)."""
    statistics: StreamStatistics | None = None
    nacks: NackGenerator | None = None
    keyframe_start: tuple[float, ForwardedPacket] | None = None
    """When its latest keyframe's first packet arrived, and that packet (None since a mute)."""

    def recent_keyframe_run(self, now: float) -> list[ForwardedPacket]:
        """The packets from its latest keyframe on, if that keyframe is at most
        ``KEYFRAME_REPLAY_MAX_S`` old and still cached; empty otherwise."""
        start = self.keyframe_start
        if start is None or now - start[0] > KEYFRAME_REPLAY_MAX_S:
            return []
        run: list[ForwardedPacket] = []
        sequence_number = start[1].sequence_number
        while len(run) < self.cache.size and (packet := self.cache.get(sequence_number)) is not None:
            run.append(packet)  # up to the newest, or a hole (a subscriber NACKs the rest)
            sequence_number = (sequence_number + 1) % SEQ_MOD
        return run if run and run[0] is start[1] else []


def sent_layers(layers: Sequence["LayerIn"], now: float) -> list["LayerIn"]:
    """The layers the publisher is sending, lowest first: each had a packet at most ``SILENT_S``
    before the newest packet of any layer, and that one is recent (two bitrate windows: a camera
    switched off sends nothing). Judged against the newest packet, not the clock, so that a stall
    of this process, which delays every layer alike, pauses none."""
    newest = max((layer.meter.last_packet_at for layer in layers if layer.meter.last_packet_at is not None),
                 default=None)
    if newest is None or now - newest >= 2 * BITRATE_WINDOW_S:
        return []
    return [layer for layer in layers
            if layer.meter.last_packet_at is not None and newest - layer.meter.last_packet_at <= SILENT_S]


def best_live(layers: Sequence["LayerIn"], now: float) -> int | None:
    """The index of the best layer the publisher is sending (``sent_layers``); None: none."""
    sent = sent_layers(layers, now)
    return sent[-1].index if sent else None


class SimulcastLayers:
    """Tells each packet's layer, and keeps the receiver's upkeep (reports, NACKs, REMB) for every layer."""

    def __init__(
        self,
        offer: SimulcastOffer,
        receiver: RTCRtpReceiver,
        layers: list[LayerIn],
        clock_rate: int,
        remb: RembThrottle,
    ) -> None:
        """``remb``: the receiver's REMB throttle (shared with its ``ReceiverUpkeep``)."""
        self.offer = offer
        self._receiver = receiver
        self._remb = remb
        self._layers = layers
        self._by_rid = {layer.rid: layer for layer in layers}
        self._media: dict[int, LayerIn] = {}
        self._repair: dict[int, LayerIn] = {}
        self._clock_rate = clock_rate
        self._sending: set[asyncio.Task[None]] = set()
        for layer in layers:
            layer.statistics = StreamStatistics(clock_rate)
            layer.nacks = NackGenerator()

    def layer_of(self, packet: RtpPacket, retransmission: bool) -> LayerIn | None:
        """The layer a media or RTX packet belongs to; None until its SSRC was named."""
        table = self._repair if retransmission else self._media
        layer = table.get(packet.ssrc)
        if layer is None:
            extensions = packet.extensions
            rid = extensions.repaired_rtp_stream_id if retransmission else extensions.rtp_stream_id
            layer = self._by_rid.get(rid)
            if layer is None:
                return None
            table[packet.ssrc] = layer
            if not retransmission:
                layer.keyframes.media_ssrc = packet.ssrc
        return layer

    def media_ssrc(self, ssrc: int) -> LayerIn | None:
        return self._media.get(ssrc)

    def keep_up(self, layer: LayerIn, packet: RtpPacket, retransmission: bool) -> None:
        """What aiortc's receiver does with a packet of its own stream: every packet (RTX and
        padding too: a browser probes its bandwidth with RTX padding) counts in the bandwidth
        estimate; media packets in the receiver reports and, when one is missing, a NACK."""
        self._estimate(packet)
        if retransmission or layer.statistics is None or layer.nacks is None:
            return
        # aiortc 1.16 internal: RTCRtpReceiver.__remote_streams (SSRC -> StreamStatistics) is
        # what its RTCP loop builds receiver reports from; a lower layer's entry makes them
        # cover it too, so the publisher's congestion control sees that layer's loss.
        streams = self._receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        streams.setdefault(packet.ssrc, layer.statistics)
        layer.statistics.add(packet)
        if layer.nacks.add(packet):
            # aiortc 1.16 internal: RTCRtpReceiver._send_rtcp_nack (as producer.py uses it).
            self._spawn(self._receiver._send_rtcp_nack(packet.ssrc, sorted(layer.nacks.missing)))

    def _estimate(self, packet: RtpPacket) -> None:
        """Count a packet in the publisher's bandwidth estimate (REMB), as aiortc counts its stream's.

        Every layer counts: a browser shares what the estimate allows among its layers from the
        lowest up, and an estimate of one layer alone would starve the others.
        """
        feedback = remb_for(self._receiver, packet, (ntp_now() * 1000) >> 32, self._remb)
        if feedback is not None:
            # aiortc 1.16 internal: RTCRtpReceiver._send_rtcp (as its own handler sends REMB).
            self._spawn(self._receiver._send_rtcp(feedback))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def close(self) -> None:
        for task in self._sending:
            task.cancel()


def negotiate_rid_extensions(transport: RTCDtlsTransport, offer: SimulcastOffer) -> None:
    """Make the publish transport read the rid extensions and route unsignalled SSRCs by mid.

    aiortc 1.16 internals: RTCDtlsTransport._rtp_header_extensions_map (configure() only adds
    ids) and RtpRouter.route_rtp, which routes an unknown SSRC by payload type alone and so
    drops simulcast packets whenever a camera and a screen share their video payload types
    (browsers announce no SSRCs for rid layers); the router's own mid_table says where they go.
    """
    extensions = [RTCRtpHeaderExtensionParameters(id=offer.rid_extension_id, uri=RID_URI)]
    if offer.repaired_rid_extension_id is not None:
        extensions.append(
            RTCRtpHeaderExtensionParameters(id=offer.repaired_rid_extension_id, uri=REPAIRED_RID_URI)
        )
    transport._rtp_header_extensions_map.configure(RTCRtpParameters(headerExtensions=extensions))
    router = transport._rtp_router
    if "route_rtp" not in router.__dict__:
        router.route_rtp = _mid_routing(router)  # type: ignore[method-assign, assignment]


def _mid_routing(router: RtpRouter) -> Callable[[RtpPacket], Any]:
    """``router.route_rtp``, then the mid extension for an SSRC it does not know."""
    route = router.route_rtp

    def route_rtp(packet: RtpPacket) -> Any:
        receiver = route(packet)
        mid = packet.extensions.mid
        if receiver is None and mid is not None and packet.ssrc not in router.ssrc_table:
            receiver = router.mid_table.get(mid)
            if receiver is not None and receiver in router.payload_type_table.get(packet.payload_type, ()):
                router.ssrc_table[packet.ssrc] = receiver
                return receiver
            return None
        return receiver

    return route_rtp
