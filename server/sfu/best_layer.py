"""The recording's view of a simulcast camera: the best layer the publisher actually sends, as frames.

Why not simply the top layer: a browser adds its top layer only once its bandwidth estimate allows
(on a loaded machine sometimes never) and drops layers when its uplink weakens, so a recording of
the top layer alone could miss a camera altogether. The issue's rule is "the recording keeps the
best layer of each track, whatever subscribers receive", so the recording follows the layers the
way a consumer does, with the publisher's sending as its only limit:
- at the start, and while only lower layers arrive, the best live layer;
- a higher layer that appears is taken at its keyframe (asked for, throttled per layer);
- when the layer followed stops (no packet for ``SILENT_S``) the best live one is asked for and
  the first keyframe of a live layer is taken (the best one follows as a switch up);
- with no layer followed yet (a recording that just began, a stream after a break or a stopped
  layer), a keyframe of the best live layer that went by at most ``KEYFRAME_REPLAY_MAX_S`` ago is
  started from at once, from the layer's cache (as a subscriber that joins late is; none is kept
  across a mute). Asking instead costs a round trip at best and often far more: Chromium answers a
  PLI for one layer with a keyframe on every layer and ignores further PLIs for ~300 ms, so asking
  right after a subscriber's request was answered goes unheard, and the layer's requester then
  holds the next PLI back for its interval. A recording began that way got a camera's first
  picture up to a second late, and a camera switched off meanwhile left no gap in it.

Frames are reassembled here, from the packets the producer forwards, with aiortc's own jitter
buffer (one per run of a layer), and not by aiortc's receiver: the receiver follows one SSRC, and
a rewritten stream fed into it would make its receiver reports and NACKs describe a stream the
publisher never sent. So aiortc's receiver gets no packet of a layered producer, and ``layers.py``
keeps every layer's receiver reports, NACKs and bandwidth estimate alike.

Each layer has its own RTP clock (random base, its own sender reports). The frames handed on carry
one continuous, unwrapped timeline: a new layer's first frame follows the last packet of the old
one by the time between their arrivals, which is how the recorder places frames anyway (anchored
at arrival, spaced by RTP time). The picture size changes at a switch; a VP8 or H.264 keyframe
carries its size, and the recorder and the composer take it as it comes.
"""

import time
from collections.abc import Callable, Sequence
from fractions import Fraction

import av
from aiortc.codecs import depayload
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from .layers import SILENT_S, LayerIn, best_live
from .packets import TS_MOD, ForwardedPacket
from .passthrough import encoded_packet

ASK_EVERY_S = 0.25
"""While a switch waits for a keyframe it is asked for again this often (PLIs are throttled per
layer by its ``KeyframeRequester``; a request lost on the way must not stall the switch)."""
JITTER_CAPACITY = 512
"""Packets a run's jitter buffer holds: aiortc's own receiver's figure for video."""
HALF_TS = TS_MOD // 2


class BestLayerFrames:
    """Follows the best live layer of a simulcast producer and hands its frames on, one stream."""

    def __init__(
        self,
        layers: Sequence[LayerIn],
        codec: RTCRtpCodecParameters,
        request_keyframe: Callable[[int], None],
        on_frame: Callable[[av.Packet], None],
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        """``request_keyframe(layer)`` asks the publisher (throttled there); ``on_frame`` gets each
        reassembled frame as an ``av.Packet`` (pts in the codec's clock, continuous across layers)."""
        self._layers = layers
        self._codec = codec
        self._time_base = Fraction(1, codec.clockRate)
        self._request_keyframe = request_keyframe
        self._on_frame = on_frame
        self._now = now
        self.layer: int | None = None
        """The layer followed; None until the first keyframe (and after ``restart``)."""
        self.switches = 0
        self._buffer = JitterBuffer(JITTER_CAPACITY, is_video=True)
        self._asked: dict[int, float] = {}
        # the newest packet's RTP timestamp, its place on the output timeline, and its arrival
        self._ref_timestamp = 0
        self._ref_pts: int | None = None
        self._ref_at = 0.0

    def restart(self) -> None:
        """Start again at the next keyframe (the stream had a break: the producer was muted)."""
        self.layer = None

    def forward(self, packet: ForwardedPacket) -> None:
        """One packet the producer forwards (any layer, RTX unwrapped)."""
        now = self._now()
        if packet.layer == self.layer and now - self._ref_at > SILENT_S:
            # the layer paused and resumes (its sequence numbers may have moved on: the jitter
            # buffer would wait for them): a fresh start at the best layer's next keyframe
            self.layer = None
        if packet.layer != self.layer:
            if not self._may_take(packet.layer, now):
                return
            if not packet.starts_keyframe:
                if packet.layer == best_live(self._layers, now) and not self._replay(packet, now):
                    self._ask(packet.layer, now)
                return
            self._switch(packet, now)
        self._add(packet, now)

    def _may_take(self, layer: int, now: float) -> bool:
        """Whether a keyframe of ``layer`` would be taken: anything at the start or once the layer
        followed stopped, else only a better one."""
        return self.layer is None or layer > self.layer or self._stale(self.layer, now)

    def _stale(self, layer: int, now: float) -> bool:
        return not self._layers[layer].meter.live(now)

    def _replay(self, packet: ForwardedPacket, now: float) -> bool:
        """Start at the recent keyframe of ``packet``'s layer, if there is one, up to ``packet``
        (the newest: the producer caches a packet before it forwards it). Not for a switch up:
        the layer followed showed that half second already. After a layer followed stopped, it
        stopped longer ago than a recent keyframe (``SILENT_S``), so no picture is shown twice."""
        if self.layer is not None and not self._stale(self.layer, now):
            return False
        run = self._layers[packet.layer].recent_keyframe_run(now)
        if not run:
            return False
        self._switch(run[0], now)
        for cached in run:
            self._add(cached, now)
        if run[-1] is not packet:
            self._add(packet, now)  # the run ends at a hole: the packets after it still count
        return True

    def _ask(self, layer: int, now: float) -> None:
        """Ask the publisher for a keyframe of ``layer``, at most every ``ASK_EVERY_S``."""
        if now - self._asked.get(layer, -ASK_EVERY_S) >= ASK_EVERY_S:
            self._asked[layer] = now
            self._request_keyframe(layer)

    def _switch(self, packet: ForwardedPacket, now: float) -> None:
        """Follow ``packet``'s layer from this keyframe on, its time continuing the old layer's."""
        if self.layer is not None:
            self.switches += 1
        self.layer = packet.layer
        self._buffer = JitterBuffer(JITTER_CAPACITY, is_video=True)
        if self._ref_pts is None:
            self._ref_pts = 0
        else:
            self._ref_pts += max(1, round((now - self._ref_at) * self._codec.clockRate))
        self._ref_timestamp, self._ref_at = packet.timestamp, now

    def _pts(self, timestamp: int, now: float | None = None) -> int:
        """``timestamp`` (this layer's RTP clock) on the output timeline; ``now``: a packet that
        arrived now (the newest one moves the reference)."""
        assert self._ref_pts is not None
        delta = (timestamp - self._ref_timestamp) % TS_MOD
        if delta >= HALF_TS:
            return self._ref_pts - (TS_MOD - delta)  # older than the newest packet
        pts = self._ref_pts + delta
        if now is not None:
            self._ref_timestamp, self._ref_pts, self._ref_at = timestamp, pts, now
        return pts

    def _add(self, packet: ForwardedPacket, now: float) -> None:
        self._pts(packet.timestamp, now)
        rtp = RtpPacket(marker=packet.marker, sequence_number=packet.sequence_number,
                        timestamp=packet.timestamp, payload=packet.payload)
        try:
            # aiortc 1.16: the jitter buffer joins each packet's depayloaded ``_data`` into frames
            # (what RTCRtpReceiver._handle_rtp_packet sets before it adds a packet)
            rtp._data = depayload(self._codec, packet.payload) if packet.payload else b""  # type: ignore[attr-defined]
        except ValueError:
            return  # a malformed payload: the frame it belongs to will not complete
        lost, frame = self._buffer.add(rtp)
        if lost and self.layer is not None:
            self._ask(self.layer, now)  # the buffer overflowed past a hole: only a keyframe helps
        if frame is not None:
            self._on_frame(encoded_packet(frame.data, self._pts(frame.timestamp), self._time_base,
                                          self._codec.mimeType))
