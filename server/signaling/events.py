"""What the live meeting writes to its event log (server.services.eventlog), and how.

Writes go through one queue per meeting, so they keep the order things happened in and never hold
up media or signaling; each write is its own short transaction. Payloads carry ids and names, no
floats (the hash chain refuses them): durations are integer milliseconds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.demo.records import EVENT_SCHEMA
from server.services.eventlog import append_event
from server.signaling.serial import SerialQueue

# type -> payload keys; every type is written by the live meeting (tests check each of them)
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "participant_joined": ("participant_id", "user_id", "display_name", "unit", "capacity",
                           "department_id", "post", "token_id", "via"),
    "participant_left": ("participant_id", "user_id", "display_name", "reason", "duration_ms"),
    "producer_published": ("participant_id", "producer_id", "kind", "mime_type"),
    "producer_unpublished": ("participant_id", "producer_id", "kind"),
    "participant_muted": ("participant_id", "user_id", "kind"),
    "participant_unmuted": ("participant_id", "user_id", "kind"),
    "screen_share_stopped": ("participant_id", "user_id"),
    "participant_removed": ("participant_id", "user_id", "display_name"),
    "meeting_locked": (),
    "meeting_unlocked": (),
    "lobby_admitted": ("user_id", "display_name", "unit"),
    "lobby_rejected": ("user_id", "display_name", "unit"),
    "speaking_started": ("participant_id", "user_id", "display_name"),
    "join_token_issued": ("token_id", "user_id", "guest_name", "guest_unit", "capacity",
                          "expires_at"),
}
# The conduct of the review (server.signaling.review) writes the meeting vocabulary of the demo
# data, with exactly its payload keys, so live and demo logs read the same in minutes and archive.
REVIEW_EVENT_TYPES = ("agenda_item_opened", "agenda_item_closed", "hand_raised", "chat_message",
                      "opinion_submitted", "opinion_amended", "material_requested",
                      "decision_recorded", "task_assigned", "presentation_started",
                      "presentation_stopped")
EVENT_TYPES.update({type: tuple(sorted(EVENT_SCHEMA[type])) for type in REVIEW_EVENT_TYPES})


class MeetingLog:
    """Appends one meeting's live events, in order, in the background."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], meeting_id: int) -> None:
        self._sessions = sessions
        self._meeting_id = meeting_id
        self._queue = SerialQueue(f"event log of meeting {meeting_id}")

    def write(self, type: str, actor_id: int | None, **payload: Any) -> None:
        if set(payload) != set(EVENT_TYPES[type]):
            raise ValueError(f"{type}: payload keys {sorted(payload)} != {EVENT_TYPES[type]}")

        async def append() -> None:
            async with self._sessions() as db:
                await append_event(db, self._meeting_id, actor_id, type, payload)
                await db.commit()

        self._queue.submit(append)

    async def flush(self) -> None:
        await self._queue.drain()

    async def close(self) -> None:
        await self._queue.close()
