"""One producer's packets on their way to one subscriber's m-line (the packet path)."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .fan_out import Lane, lane_on
from .layers import LayerIn
from .packets import SEQ_MOD, TS_MOD, ForwardedPacket, mapped_sender_clock, seq_newer_or_equal
from .rtp_forward import ReceiverReport, RtpOut
from .temporal import TemporalFilter
from .vp8 import TEMPORAL_TOP, PictureNumbering

PublisherClock = Callable[[int], tuple[int, int] | None]
"""(NTP, RTP timestamp) of a layer's newest sender report from the publisher, None before the first."""
RecentRun = Callable[[int], Sequence[ForwardedPacket]]
"""A layer's packets from its latest keyframe on, if that keyframe is recent enough to start from."""


def _no_recent_run(layer: int) -> Sequence[ForwardedPacket]:
    return ()

RESEND_HOLD_MIN_S = 0.05
RESEND_HOLD_MAX_S = 0.5
RESENT_REMEMBERED = 512

RUN_WINDOW = 1 << 13
"""How far back from the newest packet a late one still belongs to the run.

The start of a run slides along behind the newest packet, so sequence numbers can wrap around
any number of times in a long run; far more than any NACK or reordering reaches back.
"""


@dataclass(frozen=True)
class ConsumerStats:
    """What one subscriber gets of one producer: counts since the consumer started, and reports."""

    producer_id: str
    forwarded: int
    waiting_dropped: int
    """Packets skipped while waiting for a keyframe (or a new run)."""
    send_dropped: int
    """Packets dropped at the subscriber's full socket buffer (the m-line's, across producers)."""
    send_failures: int
    nacks_answered: int
    nacks_missed: int
    retransmitted: int
    receiver_report: ReceiverReport | None
    remb_bps: int | None
    layer: int | None = None
    """The simulcast layer forwarded (0 = lowest); None: the producer sends no layers."""
    target_layer: int | None = None
    """The layer chosen for this subscriber; differs from ``layer`` until its next keyframe."""
    layers: int = 1
    layer_switches: int = 0
    probed_bytes: int = 0
    """Resent to probe for a higher layer (counted in ``retransmitted`` too)."""
    temporal_layer: int | None = None
    """The highest VP8 temporal layer forwarded (0 = a quarter of L1T3's frame rate); None: the
    producer's packets carry no temporal layers."""
    temporal_target: int | None = None
    temporal_dropped: int = 0
    """Packets of higher temporal layers left out (not loss: the numbers close up behind them)."""


class PacketConsumer:
    """Rewrites a producer's packets for one subscriber and sends them at once.

    Nothing is queued: a packet is rewritten and handed to the kernel in the publisher's receive
    task, and what the kernel cannot take at once is dropped and counted (``srtp_send.py``), so
    a slow subscriber's backlog is its socket buffer, no more. What stays
    from the frame path is the keyframe gate: a video run starts only at the first packet of a
    keyframe (asking for one when it starts waiting), because a decoder cannot start on a delta
    frame. A run is a stretch of packets forwarded without a break; each run starts right after
    the m-line's last sequence number, so the subscriber sees no hole where the SFU skipped
    packets (waiting, muted), while holes the publisher's network made stay holes, for NACK.
    VP8 temporal layers above the target are left out within a run (``temporal.py``), their
    sequence numbers and picture ids closed up too. The run's state is in :attr:`lane`, which
    ``fan_out.py`` reads and writes too: it forwards the common case natively and hands the rest
    to :meth:`forward`.
    """

    def __init__(
        self,
        producer_id: str,
        video: bool,
        out: RtpOut,
        layers: Sequence[LayerIn],
        request_keyframe: Callable[[int], None],
        nack_upstream: Callable[[int, int], None],
        on_closed: Callable[["PacketConsumer"], None],
        publisher_clock: PublisherClock,
        mime_type: str = "",
        recent_run: RecentRun = _no_recent_run,
        layer: int | None = None,
    ) -> None:
        """The keyframe is asked for at once, even before ``out`` is ready: it travels to the
        publisher and back while the subscriber's ICE and DTLS finish, and :meth:`ready` starts
        from it (``recent_run``: the producer's cache) if it came first. ``layer``: the one to
        start with (simulcast; default the top): one the publisher is sending, or the subscriber
        waits for a keyframe that does not come until the choice moves it."""
        self.producer_id = producer_id
        self._video = video
        self._out = out
        self.lane: Lane = lane_on(out.state)
        """The run: its layer, start and offsets, and what it forwarded (``fan_out.py``)."""
        self._layers = layers
        self._request_keyframe = request_keyframe
        self.layer = len(layers) - 1 if layer is None else layer
        self.target_layer = self.layer
        self.layer_switches = 0
        self.probed_bytes = 0
        self._resent: dict[int, float] = {}
        self._retime = False
        self._pictures = (
            PictureNumbering() if len(layers) > 1 and mime_type.lower() == "video/vp8" else None
        )
        self._temporal = TemporalFilter(self.request_keyframe)
        self._nack_upstream = nack_upstream
        self._on_closed = on_closed
        self._publisher_clock = publisher_clock
        self._recent_run = recent_run
        self.lane.fast = self._pictures is None
        self.closed = False
        self.dropped = 0
        """Packets not forwarded while waiting for a keyframe."""
        self.nacks_answered = 0
        self.nacks_missed = 0
        if out.ready:
            self.ready()
        else:
            self.request_keyframe()

    @property
    def layer(self) -> int:
        """The layer forwarded (simulcast); a switch to ``target_layer`` waits for its keyframe."""
        return self.lane.layer

    @layer.setter
    def layer(self, layer: int) -> None:
        self.lane.layer = layer

    @property
    def forwarded(self) -> int:
        return self.lane.forwarded

    @property
    def receiver_report(self) -> ReceiverReport | None:
        """The subscriber's latest report (loss, jitter) on the m-line this consumer sends on."""
        return self._out.receiver_report

    def ready(self) -> None:
        """The m-line can carry packets now: start from the latest keyframe if it is recent and
        cached (sent again at once, with the packets since), and ask for a fresh one."""
        if self.closed or not self.lane.waiting:
            return
        # Asked for even when a recent keyframe is replayed: our DTLS is up once we sent our
        # Finished, the subscriber's only once it has read it, and packets that overtake it are
        # lost to the subscriber; a keyframe a round trip later (throttled) is the fallback.
        self.request_keyframe()
        self._replay_recent()

    def _replay_recent(self) -> bool:
        """Start from the target layer's recent keyframe, if it is cached; whether it did."""
        run = self._recent_run(self.target_layer) if self._video else ()
        for packet in run:
            self.forward(packet)
        return bool(run)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe of the layer wanted (throttled upstream)."""
        self._request_keyframe(self.target_layer)

    def set_target_layer(self, layer: int, temporal: int = TEMPORAL_TOP) -> None:
        """Forward ``layer`` from its next keyframe on (asked for while the switch is pending), up
        to temporal layer ``temporal`` (``temporal.py``: down at once, up at a sync point)."""
        if not 0 <= layer < len(self._layers):
            raise ValueError(f"no layer {layer}: the producer sends {len(self._layers)}")
        self._temporal.set_target(temporal)
        changed = layer != self.target_layer
        self.target_layer = layer
        if changed and self.lane.waiting and self._out.ready and self._replay_recent():
            return  # not started yet (its layer paused, or was never sent): as a late joiner does
        if layer != self.layer:
            self.request_keyframe()

    @property
    def temporal_layer(self) -> int:
        """The highest temporal layer forwarded now (``TEMPORAL_TOP`` when there are none)."""
        return self._temporal.layer

    @property
    def temporal_target(self) -> int:
        return self._temporal.target

    @property
    def remb_bps(self) -> int | None:
        """The subscriber's latest bandwidth estimate for the m-line this consumer sends on."""
        return self._out.remb_bps

    def probe(self, size: int) -> None:
        """Resend recent packets worth ``size`` bytes (as RTX): tries whether the link carries more.

        Resent packets are ones the subscriber already has (it drops them), so a probe that the
        link cannot carry costs the picture little; ``layer_choice.py`` reads the result.
        """
        if self.closed or self.lane.waiting or not self._out.ready:
            return
        cache = self._layers[self.layer].cache
        last = self._out.next_seq - 1
        sent = 0
        for back in range(cache.size):
            if sent >= size:
                break
            sequence_number = (last - back) % SEQ_MOD
            original = self._original(sequence_number)
            if original is None:
                break
            packet = cache.get(original)
            if packet is None:
                continue
            self._resend(packet, sequence_number)
            sent += len(packet.payload)
        self.probed_bytes += sent

    def stats(self) -> ConsumerStats:
        out = self._out
        layered = len(self._layers) > 1
        temporal = self._temporal if self._temporal.seen else None
        return ConsumerStats(
            producer_id=self.producer_id,
            forwarded=self.forwarded,
            waiting_dropped=self.dropped,
            send_dropped=out.send_dropped,
            send_failures=out.send_failures,
            nacks_answered=self.nacks_answered,
            nacks_missed=self.nacks_missed,
            retransmitted=out.retransmitted,
            receiver_report=out.receiver_report,
            remb_bps=out.remb_bps,
            layer=self.layer if layered else None,
            target_layer=self.target_layer if layered else None,
            layers=len(self._layers),
            layer_switches=self.layer_switches,
            probed_bytes=self.probed_bytes,
            temporal_layer=temporal.layer if temporal is not None else None,
            temporal_target=temporal.target if temporal is not None else None,
            temporal_dropped=self._temporal.dropped,
        )

    def sender_clock(self) -> tuple[int, int] | None:
        """The publisher's sender-report pair in this subscriber's timeline (for its SRs)."""
        clock = self._publisher_clock(self.layer)
        if clock is None:
            return None
        return mapped_sender_clock(clock[0], clock[1], self.lane.ts_offset)

    def forward(self, packet: ForwardedPacket) -> None:
        """Send ``packet`` to the subscriber, or drop it while waiting for a keyframe."""
        if self.closed or not self._out.ready:
            return
        lane = self.lane
        if packet.layer != lane.layer:  # simulcast: switch at the target layer's keyframe
            if packet.layer != self.target_layer or not packet.starts_keyframe:
                return
            lane.layer = packet.layer
            self.layer_switches += 1
            lane.waiting = self._retime = True
        if lane.waiting:
            if self._video and not packet.starts_keyframe:
                self.dropped += 1
                return
            self._start_run(packet)
        elif seq_newer_or_equal(packet.sequence_number, lane.run_start):
            if (packet.sequence_number - lane.run_start) % SEQ_MOD > RUN_WINDOW:
                lane.run_start = (packet.sequence_number - RUN_WINDOW) % SEQ_MOD
        else:
            return  # a late packet from before this run
        if packet.temporal is not None:  # VP8 temporal layers: frames above the target stay out
            temporal = self._temporal
            if not temporal.admit(packet, packet.temporal):
                return
            pictures = self._pictures
            if pictures is None:
                pictures = self._pictures = PictureNumbering()
                lane.fast = False  # every packet's picture id is rewritten from now on
            self._out.send(
                packet,
                (packet.sequence_number + lane.seq_offset - temporal.packets_before) % SEQ_MOD,
                (packet.timestamp + lane.ts_offset) % TS_MOD,
                pictures.rewrite(packet.payload, True, temporal.pictures_before),
            )
            lane.forwarded += 1
            return
        sequence_number = (packet.sequence_number + lane.seq_offset) % SEQ_MOD
        timestamp = (packet.timestamp + lane.ts_offset) % TS_MOD
        if self._pictures is None:
            self._out.send(packet, sequence_number, timestamp)
        else:
            self._out.send(packet, sequence_number, timestamp, self._pictures.rewrite(packet.payload))
        lane.forwarded += 1

    def restart(self) -> None:
        """Start a new run: at the next packet for audio, at the next keyframe for video."""
        self.lane.waiting = True
        if self._video:
            self.request_keyframe()

    def retransmit(self, sequence_number: int) -> None:
        """Answer a subscriber's NACK from the producer's cache, else ask the publisher."""
        if self.closed or self.lane.waiting:
            return
        original = self._original(sequence_number)
        if original is None:
            return  # sent in an earlier run, under other numbers
        if self._resent_lately(sequence_number):
            return
        packet = self._layers[self.layer].cache.get(original)
        if packet is None:
            self.nacks_missed += 1
            self._nack_upstream(self.layer, original)
            return
        self.nacks_answered += 1
        self._resend(packet, sequence_number)

    def _original(self, sequence_number: int) -> int | None:
        """The publisher's number of what this run sent as ``sequence_number`` (None: not this run's).

        With temporal layers left out, also sets the filter's counts for that packet (``_resend``).
        """
        unshifted = (sequence_number - self.lane.seq_offset) % SEQ_MOD
        original = self._temporal.original(unshifted) if self._temporal.seen else unshifted
        if original is None or not seq_newer_or_equal(original, self.lane.run_start):
            return None
        return original

    def _resend(self, packet: ForwardedPacket, sequence_number: int) -> None:
        """Send ``packet`` again as ``sequence_number`` (after ``_original`` mapped it)."""
        timestamp = (packet.timestamp + self.lane.ts_offset) % TS_MOD
        temporal = packet.temporal
        if temporal is not None and self._pictures is not None:
            if not self._temporal.resendable(packet, temporal[0]):
                return  # a frame left out: the publisher lost this packet of it, it stays a hole
            payload = self._pictures.rewrite(packet.payload, False, self._temporal.pictures_before)
            self._out.resend(packet, sequence_number, timestamp, payload)
        elif self._pictures is None:
            self._out.resend(packet, sequence_number, timestamp)
        else:
            self._out.resend(packet, sequence_number, timestamp, self._pictures.rewrite(packet.payload, sent=False))

    def _resent_lately(self, sequence_number: int) -> bool:
        """Whether this packet was resent less than a round trip ago (the copy may be on its way).

        A subscriber repeats a NACK until the packet arrives; on a link that queues (a shaper) the
        repeats come faster than the copies, and answering each would fill the queue further.
        """
        now = time.monotonic()
        report = self._out.receiver_report
        rtt = report.rtt_s if report is not None and report.rtt_s is not None else 0.0
        hold = min(RESEND_HOLD_MAX_S, max(RESEND_HOLD_MIN_S, rtt))
        if now - self._resent.get(sequence_number, -hold) < hold:
            return True
        if len(self._resent) >= RESENT_REMEMBERED:
            self._resent = {seq: at for seq, at in self._resent.items() if now - at < RESEND_HOLD_MAX_S}
        self._resent[sequence_number] = now
        return False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.lane.fast = False
        self._on_closed(self)

    def _start_run(self, packet: ForwardedPacket) -> None:
        self.lane.waiting = False
        out = self._out
        self.lane.run_start = packet.sequence_number
        self.lane.seq_offset = (out.next_seq - packet.sequence_number) % SEQ_MOD
        if out.timeline_owner is not self or self._retime:  # a new producer or layer, or the first
            out.timeline_owner = self
            out.sender_clock = self.sender_clock
            self.lane.ts_offset = (out.next_timestamp() - packet.timestamp) % TS_MOD
            self._retime = False
        if self._pictures is not None:
            self._pictures.continue_from_here(packet.payload)
        self._temporal.start(packet)
