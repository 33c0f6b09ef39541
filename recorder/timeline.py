"""Where each packet of a track goes on the recording timeline.

Two clocks describe a packet: when it arrived (the server's monotonic clock, shared by every track
of the recording) and its RTP timestamp (the sender's media clock, exact spacing but its own zero).
Arrival alone would carry network jitter into the file; RTP alone cannot say where a late-joining
track starts or how long a pause lasted. So the first packet anchors the track at its arrival, the
RTP clock spaces the packets after it, and the anchor follows the earliest arrival seen (packets
can arrive late, never early). After a pause, or when the two disagree by more than ``RESYNC_MS``
(the sender's clock jumped), the track re-anchors at arrival. Silence of more than ``GAP_MS`` between arrivals is a
gap: recorded in the manifest, and for video the cue to wait for a fresh keyframe. A source its
owner switched off (``pause``) is a gap from its last packet to its next, whatever the arrivals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

GAP_MS = 1000
"""Arrivals further apart than this are a pause (mute, camera off, a stalled connection)."""
RESYNC_MS = 1000
"""RTP time and arrival time disagreeing by more than this re-anchors the track."""
MAX_STEP_MS = 100
"""The longest a single frame is assumed to last (for the end of a track or of a stretch)."""


@dataclass
class TrackClock:
    """Places one track's packets; ``place`` must be called in arrival order."""

    first_ms: int | None = None
    last_ms: int | None = None
    step_ms: int = 20
    """Spacing of the last two packets (capped at MAX_STEP_MS): the last frame's duration."""
    gaps: list[tuple[int, int]] = field(default_factory=list)
    _offset_ms: Fraction | None = None
    """Recording time minus media time, as set by the anchor."""
    _last_arrival_ms: int | None = None
    _paused: bool = False

    def pause(self) -> None:
        """The source was switched off: the next packet starts after a gap, however soon it comes."""
        self._paused = True

    def place(self, arrival_ms: int, pts: int, time_base: Fraction) -> int:
        """The packet's time in ms on the recording timeline (strictly after the previous one)."""
        media_ms = Fraction(pts) * time_base * 1000
        gap = self._last_arrival_ms is not None and (
            self._paused or arrival_ms - self._last_arrival_ms > GAP_MS)
        self._paused = False
        if self._offset_ms is None:
            self._offset_ms = arrival_ms - media_ms
        else:
            drift = arrival_ms - (media_ms + self._offset_ms)
            if gap or drift < 0 or drift > RESYNC_MS:
                # after a pause, arrival is the only witness; earlier than ever means the anchor
                # packet itself was late; far off means the sender's clock jumped
                self._offset_ms = arrival_ms - media_ms
        at = int(media_ms + self._offset_ms)
        if self.last_ms is not None:
            at = max(at, self.last_ms + 1)
            if gap:
                self.gaps.append((self.last_ms + self.step_ms, at))
            else:
                self.step_ms = min(at - self.last_ms, MAX_STEP_MS)
        if self.first_ms is None:
            self.first_ms = at
        self.last_ms = at
        self._last_arrival_ms = arrival_ms
        return at

    @property
    def end_ms(self) -> int | None:
        """Where the track ends: after its last frame."""
        return None if self.last_ms is None else self.last_ms + self.step_ms
