"""What the live meeting writes to its event log (server.services.eventlog), and how.

Writes go through one queue per meeting, so they keep the order things happened in and never hold
up media or signaling; each write is its own short transaction. Every event is checked against the
record (record.events.parse_event) when it is written, not when it is stored: an event the record
does not take is a programming error raised at the writer, never a row that fails in the
background. Listeners (the live review) take each event as it is written, in order, and with them
the meeting's events written outside the room, as they are committed (server.services.log_hub).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from record.events import Logged, parse_event, payload_of
from server.services.eventlog import append_event
from server.signaling.spool import EventSpool, PendingEvent

logger = logging.getLogger(__name__)
Listener = Callable[[Logged], None]


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
        self._listeners: list[Listener] = []
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"event log of meeting {meeting_id}")

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` with every event written from now on, synchronously, in order."""
        self._listeners.append(listener)

    def write(self, type: str, actor_id: int | None, **payload: Any) -> Logged:
        """Check the event against the record, queue it for storing and tell the listeners.
        record.events.EventError (a ValueError) for an event the record does not take."""
        logged = Logged(datetime.now(UTC), actor_id, parse_event(type, payload))
        self._pending.append(PendingEvent(actor_id, type, payload_of(logged.event), logged.ts))
        self._idle.clear()
        self._wake.set()
        self._tell(logged)
        return logged

    def stored_elsewhere(self, logged: Logged) -> None:
        """An event of this meeting written outside the room and committed (a status change over
        the API, an amendment in the minutes): the listeners take it like the room's own, in order
        with them; it is stored already, so nothing is queued."""
        self._tell(logged)

    def _tell(self, logged: Logged) -> None:
        for listener in self._listeners:
            listener(logged)

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
                                       event.payload, ts=event.ts, from_room=True)
                    await db.commit()
                return
            except (SQLAlchemyError, OSError) as exc:  # refused connections arrive as OSError
                logger.warning("meeting %d: storing %s failed (%s); retrying in %.2f s",
                               self._meeting_id, event.type, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._retry_cap_s)
