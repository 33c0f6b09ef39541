"""Meeting events placed on a recording's timeline, for chapters and layout after the meeting.

The caller reads the meeting's event log (the library never touches a database) and hands over
plain rows; the ones inside the recording become ``TimelineEvent``s. An event whose payload names
no participant but whose actor had a track at that moment gets that track's ``participant_id``
(e.g. ``presentation_started`` from the presenter), so composition can find the presenter's
screen or camera without knowing who is who.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from recorder.manifest import TimelineEvent, TrackEntry


@dataclass(frozen=True)
class LoggedEvent:
    """One row of a meeting's event log."""

    ts: datetime
    type: str
    actor_id: int | None
    payload: dict[str, Any]


def place_events(events: Iterable[LoggedEvent], started_at: datetime, stopped_at: datetime,
                 tracks: Sequence[TrackEntry]) -> list[TimelineEvent]:
    """The events from ``started_at`` to ``stopped_at``, at their ms on the recording timeline."""
    placed = []
    for event in sorted(events, key=lambda e: e.ts):
        if not started_at <= event.ts <= stopped_at:
            continue
        at_ms = int((event.ts - started_at) / timedelta(milliseconds=1))
        payload = dict(event.payload)
        if "participant_id" not in payload and event.actor_id is not None:
            track = next((t for t in tracks if t.user_id == event.actor_id
                          and t.start_ms <= at_ms <= t.end_ms), None)
            if track is not None:
                payload["participant_id"] = track.participant_id
        placed.append(TimelineEvent(at_ms=at_ms, type=event.type, payload=payload))
    return placed
