"""Meeting events that could not reach the database before the server stopped.

The live meeting keeps unwritten events in memory and retries while the database is away; if the
server has to stop first, the rest are written here (one JSON object per line, in order, with the
time they happened) and appended to the meeting's log when the server next starts. An event log is
evidence: losing an opinion or a moderation act because the database blinked is not an option.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.eventlog import MeetingNotFound, append_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingEvent:
    """An event accepted by the live meeting and not yet stored."""

    actor_id: int | None
    type: str
    payload: dict[str, Any]
    ts: datetime

    def to_json(self) -> str:
        return json.dumps({"actor_id": self.actor_id, "type": self.type, "payload": self.payload,
                           "ts": self.ts.isoformat()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> PendingEvent:
        data = json.loads(line)
        return cls(data["actor_id"], data["type"], data["payload"], datetime.fromisoformat(data["ts"]))


class EventSpool:
    """A folder of per-meeting files of pending events."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, meeting_id: int) -> Path:
        return self.folder / f"meeting-{meeting_id}.jsonl"

    def save(self, meeting_id: int, events: Iterable[PendingEvent]) -> Path:
        """Append `events` to the meeting's file and fsync it (the process is about to stop)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(meeting_id)
        with path.open("a", encoding="utf-8") as handle:
            for event in events:
                handle.write(event.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return path

    async def replay(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Append every spooled event to its meeting's log, in order; return how many were stored.

        A file is removed only after its events are committed, all in one transaction, so a
        failure part-way leaves it to be replayed whole next time. A file that cannot be read or
        names a meeting that no longer exists is kept and reported, never dropped.
        """
        stored = 0
        for path in sorted(self.folder.glob("meeting-*.jsonl")):
            try:
                meeting_id = int(path.stem.removeprefix("meeting-"))
                events = [PendingEvent.from_json(line) for line in
                          path.read_text(encoding="utf-8").splitlines() if line.strip()]
            except (ValueError, KeyError, TypeError) as exc:
                logger.error("event spool %s is unreadable, kept for inspection: %s", path, exc)
                continue
            try:
                async with sessions() as db:
                    for event in events:
                        await append_event(db, meeting_id, event.actor_id, event.type,
                                           event.payload, ts=event.ts, from_room=True)
                    await db.commit()
            except MeetingNotFound:
                logger.error("event spool %s names a meeting that does not exist; kept", path)
                continue
            path.unlink()
            stored += len(events)
            logger.info("replayed %d spooled events of meeting %d", len(events), meeting_id)
        return stored
