"""The demo meetings' events as the record has them: people by ids instead of usernames.

The demo data names people the way its author thinks of them (usernames, display names, see
server.demo.records); the record names them by ids, like the live meeting does. This turns one
into the other without touching the database (the ids come in), so the loader writes exactly
the record's events and a test can check every one of them against record.events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.demo.records import Event, Meeting

DEMO_VIA_GUEST = "token"
"""People without an account come in by a join link in a live meeting; the demo issues none, so
their joins say "token" without a token id."""


@dataclass(frozen=True)
class RecordEvent:
    """One event ready for the log: when, by whom (user id), type and the record's payload."""

    ts: datetime
    actor_id: int | None
    type: str
    payload: dict[str, Any]


@dataclass
class _Present:
    participant_id: str
    user_id: int | None
    joined: datetime


def record_events(meeting: Meeting, users: Mapping[str, int],
                  departments: Mapping[str, int]) -> list[RecordEvent]:
    """The meeting's events in the record's shape; ``users`` maps usernames and ``departments``
    department codes to their database ids. Participants get ids in order of joining (p01, ...)."""
    start = meeting.actual_start or meeting.scheduled_start
    present: dict[str, _Present] = {}
    out = []
    for event in meeting.events:
        ts = start + timedelta(seconds=event.offset_s)
        payload = _payload(event, ts, present, users, departments)
        out.append(RecordEvent(ts, users[event.actor] if event.actor else None, event.type, payload))
    return out


def _payload(event: Event, ts: datetime, present: dict[str, _Present], users: Mapping[str, int],
             departments: Mapping[str, int]) -> dict[str, Any]:
    p = event.payload
    match event.type:
        case "participant_joined":
            user_id = users[p["username"]] if p["username"] else None
            here = present[p["display_name"]] = _Present(f"p{len(present) + 1:02d}", user_id, ts)
            return {"participant_id": here.participant_id, "user_id": user_id,
                    "display_name": p["display_name"], "unit": p["unit_name"], "capacity": p["capacity"],
                    "department_id": departments[p["department_code"]] if p["department_code"] else None,
                    "post": p["post"], "token_id": None, "via": "session" if user_id else DEMO_VIA_GUEST}
        case "participant_left":
            here = present[p["display_name"]]
            return {"participant_id": here.participant_id, "user_id": here.user_id,
                    "display_name": p["display_name"], "reason": p["reason"],
                    "duration_ms": int((ts - here.joined).total_seconds() * 1000)}
        case "speaking_started":
            here = present[p["speaker_name"]]
            return {"participant_id": here.participant_id, "user_id": here.user_id,
                    "display_name": p["speaker_name"], "summary": p["summary"]}
        case "chat_message":
            return {"text": p["text"], "to": users[p["to"]] if p["to"] else None}
    return dict(p)
