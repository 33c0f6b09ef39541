"""Which VP8 temporal layers one consumer forwards, and the holes that leaves closed.

A publisher encoding L1T3 sends every frame with its temporal layer (TID 0, 1 or 2; RFC 7741)
in a 0-2-1-2 pattern: T0 alone is a quarter of the frame rate, T0+T1 half, all three the full
rate, and a frame references only frames of its own layer or below. So a subscriber whose link
cannot carry a layer at full rate can get it at a lower rate, without a keyframe, by leaving
out the upper layers' frames:

- **Down** at once, at the next frame: a frame never references a higher layer's.
- **Up** one layer at a time, at a frame of that layer marked layer sync (Y: it references the
  base layer only), or at a keyframe: a later frame of the layer may reference an earlier one,
  which the subscriber must have. If no sync point comes within ``SYNC_WAIT_S`` (an encoder
  that marks few), a keyframe is asked for.

The subscriber must not see the frames left out as loss, or it would ask for them again and
again (NACK) and report the loss to its congestion control: sequence numbers and picture ids
are closed up behind them, the way mediasoup's SeqManager does. What was left out is kept as a
short list of gaps (runs of sequence numbers left out, with the counts before each), so a late
packet, a retransmission and a subscriber's NACK all map to the same numbers as the first copy.
A packet the publisher's network lost inside a frame left out keeps its place (nobody knows it
belonged there): it stays a hole the subscriber may ask for in vain.
"""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .packets import HALF_SEQ, SEQ_MOD, ForwardedPacket, seq_newer_or_equal
from .vp8 import TEMPORAL_TOP

SYNC_WAIT_S = 2.0
"""An up-switch waiting longer than this for a layer sync frame asks for a keyframe."""
GAPS_REMEMBERED = 256
"""Gaps kept for mapping late packets and NACKs: over 8 s of every other frame left out."""
FRAMES_REMEMBERED = 128
"""Frames whose verdict (forwarded or left out) is kept for their late packets."""
WINDOW = 1 << 13
"""How far back a late packet or a NACK is mapped (the consumer's run window)."""


@dataclass(slots=True)
class Gap:
    """Sequence numbers ``start`` up to (not including) ``end`` left out, and the counts before.

    Mutable: the newest gap grows by a packet at a time (a tuple rebuilt per packet cost more
    than the rest of the filter)."""

    start: int
    end: int
    packets_before: int
    pictures_before: int


class TemporalFilter:
    """One consumer's temporal layer: what it forwards now, what it is asked for, and the gaps."""

    def __init__(self, request_keyframe: Callable[[], None]) -> None:
        self._request_keyframe = request_keyframe
        self.target = TEMPORAL_TOP
        """The highest temporal layer wanted (``TEMPORAL_TOP``: all of them)."""
        self.layer = TEMPORAL_TOP
        """The highest temporal layer forwarded now; reaches ``target`` at a sync point."""
        self.seen = False
        """Whether the producer's packets carry TIDs at all."""
        self.dropped = 0
        """Packets left out (for the consumer's counters)."""
        self.packets_before = 0
        """For the packet just admitted: packets left out before it in this run."""
        self.pictures_before = 0
        """For the packet just admitted: frames left out before it in this run."""
        self._top_tid = 0
        self._newest = 0
        self._frame_timestamp: int | None = None
        self._frame_forwarded = True
        self._packets_dropped = 0
        self._pictures_dropped = 0
        self._gaps: deque[Gap] = deque()
        self._valid_from = 0
        self._frames: dict[int, bool] = {}
        self._up_since: float | None = None

    def set_target(self, target: int) -> None:
        if not 0 <= target <= TEMPORAL_TOP:
            raise ValueError(f"no temporal layer {target}: 0 to {TEMPORAL_TOP}")
        self.target = target

    def start(self, packet: ForwardedPacket) -> None:
        """A run starts at this keyframe packet: every layer may start here, nothing is left out yet."""
        self.layer = self.target
        self._newest = (packet.sequence_number - 1) % SEQ_MOD
        self._valid_from = packet.sequence_number
        self._frame_timestamp = None
        self._packets_dropped = self._pictures_dropped = 0
        self._gaps.clear()
        self._frames.clear()
        self._up_since = None

    def admit(self, packet: ForwardedPacket, temporal: tuple[int, bool]) -> bool:
        """Whether to forward ``packet`` (its frame's TID and Y: ``temporal``); if so, its counts
        (``packets_before``, ``pictures_before``) are set."""
        tid = temporal[0]
        sequence_number = packet.sequence_number
        ahead = (sequence_number - self._newest) % SEQ_MOD
        if not ahead or ahead >= HALF_SEQ:
            return self._admit_late(packet, tid)
        if packet.timestamp != self._frame_timestamp:  # the first packet seen of a new frame
            self.seen = True
            self._frame_timestamp = packet.timestamp
            self._frame_forwarded = self._decide(packet.starts_keyframe, tid, temporal[1])
            self._remember(packet.timestamp, self._frame_forwarded)
            opens_dropped_frame = not self._frame_forwarded
        else:
            opens_dropped_frame = False
        self._newest = sequence_number
        if self._frame_forwarded:
            self.packets_before = self._packets_dropped
            self.pictures_before = self._pictures_dropped
            return True
        gaps = self._gaps
        if gaps and gaps[-1].end == sequence_number:
            gaps[-1].end = (sequence_number + 1) % SEQ_MOD
        else:
            if len(gaps) >= GAPS_REMEMBERED:
                self._valid_from = gaps.popleft().end
            gaps.append(Gap(sequence_number, (sequence_number + 1) % SEQ_MOD,
                            self._packets_dropped, self._pictures_dropped))
        self._packets_dropped += 1
        if opens_dropped_frame:
            self._pictures_dropped += 1
        self.dropped += 1
        return False

    def original(self, unshifted: int) -> int | None:
        """The publisher's sequence number of the packet sent as ``unshifted`` + the gaps before it
        (``unshifted``: the subscriber's number less the run's offset); None if out of reach."""
        packets, pictures = self._packets_dropped, self._pictures_dropped
        self._slide()
        for gap in reversed(self._gaps):
            # the first packet after this gap went out as gap.end - packets
            if seq_newer_or_equal(unshifted, (gap.end - packets) % SEQ_MOD):
                break
            packets, pictures = gap.packets_before, gap.pictures_before
        original = (unshifted + packets) % SEQ_MOD
        if not seq_newer_or_equal(original, self._valid_from):
            return None
        self.packets_before, self.pictures_before = packets, pictures
        return original

    def resendable(self, packet: ForwardedPacket, tid: int) -> bool:
        """Whether a cached packet asked for again was (or would have been) forwarded."""
        forwarded = self._frames.get(packet.timestamp)
        return tid <= self.layer if forwarded is None else forwarded

    def _admit_late(self, packet: ForwardedPacket, tid: int) -> bool:
        """A packet older than the newest: forwarded under the numbers its place had."""
        self.seen = True
        forwarded = self._frames.get(packet.timestamp)
        if forwarded is None:  # a frame not seen before (lost, then repaired): judged now
            forwarded = tid <= self.layer
            self._remember(packet.timestamp, forwarded)
        if not forwarded:
            self.dropped += 1
            return False
        counts = self._counts_at(packet.sequence_number)
        if counts is None:
            return False
        self.packets_before, self.pictures_before = counts
        return True

    def _counts_at(self, sequence_number: int) -> tuple[int, int] | None:
        """Packets and frames left out before ``sequence_number``; None if it was left out itself
        or is older than the gaps remembered."""
        packets, pictures = self._packets_dropped, self._pictures_dropped
        self._slide()
        for gap in reversed(self._gaps):
            if seq_newer_or_equal(sequence_number, gap.end):
                return packets, pictures
            if seq_newer_or_equal(sequence_number, gap.start):
                return None
            packets, pictures = gap.packets_before, gap.pictures_before
        return (packets, pictures) if seq_newer_or_equal(sequence_number, self._valid_from) else None

    def _slide(self) -> None:
        """Forget gaps beyond the window, so 16-bit comparisons never wrap around."""
        floor = (self._newest - WINDOW) % SEQ_MOD
        if (self._newest - self._valid_from) % SEQ_MOD > WINDOW:
            self._valid_from = floor
        while self._gaps and not seq_newer_or_equal(self._gaps[0].start, floor):
            self._valid_from = self._gaps.popleft().end

    def _decide(self, keyframe: bool, tid: int, layer_sync: bool) -> bool:
        """Move the forwarded layer towards the target at this new frame; whether it goes."""
        self._top_tid = max(self._top_tid, tid)
        if keyframe:  # every layer starts over at a keyframe
            self.layer = self.target
        elif self.target < self.layer:
            self.layer = self.target
        elif self.target > self.layer:
            if self.layer >= self._top_tid:
                self.layer = self.target  # nothing above is sent: nothing to wait for
            elif layer_sync and tid == self.layer + 1:
                self.layer = tid if tid < self._top_tid else self.target
        if self.target > self.layer:
            now = time.monotonic()
            if self._up_since is None:
                self._up_since = now
            elif now - self._up_since >= SYNC_WAIT_S:
                self._up_since = now
                self._request_keyframe()
        else:
            self._up_since = None
        return tid <= self.layer

    def _remember(self, timestamp: int, forwarded: bool) -> None:
        frames = self._frames
        if len(frames) >= FRAMES_REMEMBERED:
            del frames[next(iter(frames))]
        frames[timestamp] = forwarded
