"""What the live meeting writes to its event log (server.services.eventlog), and how.

Writes go through one queue per meeting, so they keep the order things happened in and never hold
up media or signaling; each write is its own short transaction. Payloads carry ids and names, no
floats (the hash chain refuses them): durations are integer milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.demo.records import EVENT_SCHEMA
from server.services.eventlog import append_event
from server.signaling.spool import EventSpool, PendingEvent

logger = logging.getLogger(__name__)

# type -> payload keys; every type is written by the live meeting (tests check each of them)
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "participant_joined": ("participant_id", "user_id", "display_name", "unit", "capacity",
                           "department_id", "post", "token_id", "via"),
    "participant_left": ("participant_id", "user_id", "display_name", "reason", "duration_ms"),
    "producer_published": ("participant_id", "producer_id", "kind", "mime_type"),
    "producer_unpublished": ("participant_id", "producer_id", "kind"),
    "participant_muted": ("participant_id", "user_id", "kind"),
    "participant_unmuted": ("participant_id", "user_id", "kind"),
    # camera or microphone switched off / on by its owner (the `pause` event): recordings show a gap
    "participant_paused": ("participant_id", "user_id", "kind"),
    "participant_resumed": ("participant_id", "user_id", "kind"),
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
RECORDING_EVENT_TYPES = ("recording_started", "recording_stopped")  # server.recording
EVENT_TYPES.update({type: tuple(sorted(EVENT_SCHEMA[type]))
                    for type in REVIEW_EVENT_TYPES + RECORDING_EVENT_TYPES})


class MeetingLog:
    """Appends one meeting's live events, in order, in the background, and never drops one.

    An event is stamped when it happens, not when it is stored. If the database fails, the event
    stays at the head of the queue and is retried with growing pauses (up to `retry_cap_s`), so
    order is kept and later events wait behind it; whatever is still unstored when the meeting
    closes goes to the spool, to be appended at the next start.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], meeting_id: int,
                 spool: EventSpool, *, retry_cap_s: float = 5.0, close_timeout_s: float = 10.0) -> None:
        self._sessions = sessions
        self._meeting_id = meeting_id
        self._spool = spool
        self._retry_cap_s = retry_cap_s
        self._close_timeout_s = close_timeout_s
        self._pending: deque[PendingEvent] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"event log of meeting {meeting_id}")

    def write(self, type: str, actor_id: int | None, **payload: Any) -> None:
        if set(payload) != set(EVENT_TYPES[type]):
            raise ValueError(f"{type}: payload keys {sorted(payload)} != {EVENT_TYPES[type]}")
        self._pending.append(PendingEvent(actor_id, type, payload, datetime.now(UTC)))
        self._idle.clear()
        self._wake.set()

    async def flush(self) -> None:
        """Wait until everything written so far is stored (however long the database is away)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Store what is pending if the database allows within the timeout, else spool it."""
        try:
            await asyncio.wait_for(self.flush(), self._close_timeout_s)
        except TimeoutError:
            pass
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self._pending:
            path = self._spool.save(self._meeting_id, self._pending)
            logger.error("meeting %d: %d events could not be stored, spooled to %s",
                         self._meeting_id, len(self._pending), path)
            self._pending.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._store(self._pending[0])
                self._pending.popleft()
            self._idle.set()

    async def _store(self, event: PendingEvent) -> None:
        pause = 0.05
        while True:
            try:
                async with self._sessions() as db:
                    await append_event(db, self._meeting_id, event.actor_id, event.type,
                                       event.payload, ts=event.ts)
                    await db.commit()
                return
            except (SQLAlchemyError, OSError) as exc:  # refused connections arrive as OSError
                logger.warning("meeting %d: storing %s failed (%s); retrying in %.2f s",
                               self._meeting_id, event.type, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._retry_cap_s)
