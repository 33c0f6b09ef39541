"""One producer's packets on their way to one subscriber's m-line (the packet path)."""

from collections.abc import Callable
from dataclasses import dataclass

from .packets import SEQ_MOD, TS_MOD, ForwardedPacket, PacketCache, mapped_sender_clock, seq_newer_or_equal
from .rtp_forward import ReceiverReport, RtpOut

PublisherClock = Callable[[], tuple[int, int] | None]
"""(NTP, RTP timestamp) of the publisher's newest sender report, None before the first."""

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


class PacketConsumer:
    """Rewrites a producer's packets for one subscriber and sends them at once.

    Nothing is queued: a packet is rewritten and handed to the kernel in the publisher's receive
    task, and what the kernel cannot take at once is dropped and counted (``datagrams.py``), so
    a slow subscriber's backlog is its socket buffer, no more. What stays
    from the frame path is the keyframe gate: a video run starts only at the first packet of a
    keyframe (asking for one when it starts waiting), because a decoder cannot start on a delta
    frame. A run is a stretch of packets forwarded without a break; each run starts right after
    the m-line's last sequence number, so the subscriber sees no hole where the SFU skipped
    packets (waiting, muted), while holes the publisher's network made stay holes, for NACK.
    """

    def __init__(
        self,
        producer_id: str,
        video: bool,
        out: RtpOut,
        cache: PacketCache,
        request_keyframe: Callable[[], None],
        nack_upstream: Callable[[int], None],
        on_closed: Callable[["PacketConsumer"], None],
        publisher_clock: PublisherClock,
    ) -> None:
        self.producer_id = producer_id
        self._video = video
        self._out = out
        self._cache = cache
        self.request_keyframe = request_keyframe
        """Asks the producer's publisher for a keyframe (throttled upstream)."""
        self._nack_upstream = nack_upstream
        self._on_closed = on_closed
        self._publisher_clock = publisher_clock
        self._waiting = True
        self._run_start = 0
        self._seq_offset = 0
        self._ts_offset = 0
        self.closed = False
        self.forwarded = 0
        self.dropped = 0
        """Packets not forwarded while waiting for a keyframe."""
        self.nacks_answered = 0
        self.nacks_missed = 0
        if out.ready:
            self.request_keyframe()

    @property
    def receiver_report(self) -> ReceiverReport | None:
        """The subscriber's latest report (loss, jitter) on the m-line this consumer sends on."""
        return self._out.receiver_report

    def stats(self) -> ConsumerStats:
        out = self._out
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
        )

    def sender_clock(self) -> tuple[int, int] | None:
        """The publisher's sender-report pair in this subscriber's timeline (for its SRs)."""
        clock = self._publisher_clock()
        if clock is None:
            return None
        return mapped_sender_clock(clock[0], clock[1], self._ts_offset)

    def forward(self, packet: ForwardedPacket) -> None:
        """Send ``packet`` to the subscriber, or drop it while waiting for a keyframe."""
        if self.closed or not self._out.ready:
            return
        if self._waiting:
            if self._video and not packet.starts_keyframe:
                self.dropped += 1
                return
            self._start_run(packet)
        elif seq_newer_or_equal(packet.sequence_number, self._run_start):
            if (packet.sequence_number - self._run_start) % SEQ_MOD > RUN_WINDOW:
                self._run_start = (packet.sequence_number - RUN_WINDOW) % SEQ_MOD
        else:
            return  # a late packet from before this run
        self._out.send(
            packet,
            (packet.sequence_number + self._seq_offset) % SEQ_MOD,
            (packet.timestamp + self._ts_offset) % TS_MOD,
        )
        self.forwarded += 1

    def restart(self) -> None:
        """Start a new run: at the next packet for audio, at the next keyframe for video."""
        self._waiting = True
        if self._video:
            self.request_keyframe()

    def retransmit(self, sequence_number: int) -> None:
        """Answer a subscriber's NACK from the producer's cache, else ask the publisher."""
        if self.closed or self._waiting:
            return
        original = (sequence_number - self._seq_offset) % SEQ_MOD
        if not seq_newer_or_equal(original, self._run_start):
            return  # sent in an earlier run, under other numbers
        packet = self._cache.get(original)
        if packet is None:
            self.nacks_missed += 1
            self._nack_upstream(original)
            return
        self.nacks_answered += 1
        self._out.resend(packet, sequence_number, (packet.timestamp + self._ts_offset) % TS_MOD)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._on_closed(self)

    def _start_run(self, packet: ForwardedPacket) -> None:
        self._waiting = False
        out = self._out
        self._run_start = packet.sequence_number
        self._seq_offset = (out.next_seq - packet.sequence_number) % SEQ_MOD
        if out.timeline_owner is not self:  # a new producer on this m-line, or its first
            out.timeline_owner = self
            out.sender_clock = self.sender_clock
            self._ts_offset = (out.next_timestamp() - packet.timestamp) % TS_MOD
