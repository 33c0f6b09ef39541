"""Active speaker detection without decoding audio.

Browsers put the audio level (RFC 6464, in -dBov) in every Opus packet; when a
sender does not (aiortc sending pre-encoded packets, for one), the Opus packet
size is a cheap stand-in: VBR Opus spends a few bytes on silence and tens to
hundreds on voice. Either becomes an activity value in 0..1, smoothed per
peer; the loudest peer must stay the loudest for ``hold_s`` before the speaker
changes, so one cough does not flip every subscriber's layout.
"""

import time
from collections.abc import Callable

SILENT_DBOV = -70
LOUD_DBOV = -20
SILENT_OPUS_BYTES = 15
LOUD_OPUS_BYTES = 90
SMOOTHING = 0.1  # per 20 ms packet: a time constant of about 0.2 s
ACTIVE_THRESHOLD = 0.25


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def activity_from_level(dbov: int) -> float:
    return _clamp((dbov - SILENT_DBOV) / (LOUD_DBOV - SILENT_DBOV))


def activity_from_opus_size(size: int) -> float:
    return _clamp((size - SILENT_OPUS_BYTES) / (LOUD_OPUS_BYTES - SILENT_OPUS_BYTES))


class ActiveSpeakerDetector:
    """Tracks who speaks in a room and reports changes through ``on_change``."""

    def __init__(
        self,
        interval_s: float,
        hold_s: float,
        on_change: Callable[[str | None], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval_s = interval_s
        self._hold_s = hold_s
        self._on_change = on_change
        self._clock = clock
        self._activity: dict[str, float] = {}
        self._evaluated_at = clock()
        self._challenger: str | None = None
        self._challenger_since = 0.0
        self.speaker: str | None = None

    def observe(self, peer_id: str, activity: float) -> None:
        """Feed one packet's activity (0..1) from ``peer_id``."""
        smoothed = self._activity.get(peer_id, 0.0)
        self._activity[peer_id] = smoothed + SMOOTHING * (activity - smoothed)
        now = self._clock()
        if now - self._evaluated_at >= self._interval_s:
            self._evaluated_at = now
            self._evaluate(now)

    def forget(self, peer_id: str) -> None:
        """Stop considering ``peer_id`` (left, or muted by the moderator)."""
        self._activity.pop(peer_id, None)
        if self._challenger == peer_id:
            self._challenger = None
        if self.speaker == peer_id:
            self._set_speaker(None)

    def _evaluate(self, now: float) -> None:
        loudest = max(self._activity, key=self._activity.__getitem__, default=None)
        if loudest is None or self._activity[loudest] < ACTIVE_THRESHOLD:
            self._challenger = None
            return  # silence keeps the last speaker on screen
        if loudest == self.speaker:
            self._challenger = None
            return
        if self.speaker is None:
            self._set_speaker(loudest)
            return
        if loudest != self._challenger:
            self._challenger, self._challenger_since = loudest, now
        elif now - self._challenger_since >= self._hold_s:
            self._set_speaker(loudest)

    def _set_speaker(self, peer_id: str | None) -> None:
        self._challenger = None
        self.speaker = peer_id
        self._on_change(peer_id)
