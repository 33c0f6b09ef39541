"""The live meeting's event log survives a database outage: nothing is dropped, order and the
time each event happened are kept, and what cannot be stored before the server stops is spooled
and replayed at the next start (on SQLite and PostgreSQL).

The outage is real: the log's session factory first points at 127.0.0.1:9 (the discard port,
where nothing listens, so connections are refused), and "the database comes back" by binding the
same factory to the test database.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from server.db.models import MeetingEvent
from server.services.eventlog import verify_meeting_log
from server.signaling.events import MeetingLog
from server.signaling.spool import EventSpool
from tests.world import build_world

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:9/none"


class _FailureSeen(logging.Handler):
    """Sets an event when the log reports a failed store (what the test waits on)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "failed" in record.getMessage():
            self.seen.set()


@pytest.fixture
def failures() -> object:
    handler = _FailureSeen()
    logger = logging.getLogger("server.signaling.events")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def _stored(db_sessions, meeting_id: int) -> list[MeetingEvent]:
    async with db_sessions() as db:
        return list(await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                                     .order_by(MeetingEvent.id)))


async def test_events_wait_out_an_outage_in_order(db_sessions, failures, tmp_path: Path) -> None:
    world = await build_world(db_sessions)
    broken = create_async_engine(UNREACHABLE)
    sessions = async_sessionmaker(broken, expire_on_commit=False)
    log = MeetingLog(sessions, world.meeting_x, EventSpool(tmp_path / "spool"), retry_cap_s=0.05)
    before = datetime.now(UTC)
    log.write("meeting_locked", world.user_ids["chair"])
    log.write("meeting_unlocked", world.user_ids["chair"])
    log.write("meeting_locked", world.user_ids["chair"])
    written = datetime.now(UTC)
    await asyncio.wait_for(failures.seen.wait(), 10)
    assert await _stored(db_sessions, world.meeting_x) == []

    sessions.configure(bind=db_sessions.kw["bind"])  # the database is back
    await asyncio.wait_for(log.flush(), 10)
    rows = await _stored(db_sessions, world.meeting_x)
    assert [row.type for row in rows] == ["meeting_locked", "meeting_unlocked", "meeting_locked"]
    assert all(before <= row.ts <= written for row in rows), "stamped when written, not when stored"
    async with db_sessions() as db:
        assert await verify_meeting_log(db, world.meeting_x) == []
    await log.close()
    assert not (tmp_path / "spool").exists(), "nothing to spool once everything is stored"
    await broken.dispose()


async def test_unstored_events_are_spooled_and_replayed(db_sessions, failures, tmp_path: Path) -> None:
    world = await build_world(db_sessions)
    broken = create_async_engine(UNREACHABLE)
    spool = EventSpool(tmp_path / "spool")
    log = MeetingLog(async_sessionmaker(broken), world.meeting_x, spool, retry_cap_s=0.05,
                     close_timeout_s=0.2)
    log.write("meeting_locked", world.user_ids["chair"])
    log.write("meeting_unlocked", world.user_ids["chair"])
    await log.close()
    await broken.dispose()
    lines = spool.path(world.meeting_x).read_text(encoding="utf-8").splitlines()
    assert [line.count('"type"') for line in lines] == [1, 1]

    assert await spool.replay(db_sessions) == 2
    rows = await _stored(db_sessions, world.meeting_x)
    assert [row.type for row in rows] == ["meeting_locked", "meeting_unlocked"]
    assert not spool.path(world.meeting_x).exists()
    async with db_sessions() as db:
        assert await verify_meeting_log(db, world.meeting_x) == []


async def test_replay_keeps_files_it_cannot_store(db_sessions, tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "spool")
    spool.folder.mkdir()
    junk = spool.folder / "meeting-7.jsonl"
    junk.write_text("not json\n", encoding="utf-8")
    unknown = spool.folder / "meeting-999999.jsonl"
    unknown.write_text('{"actor_id": null, "type": "meeting_locked", "payload": {}, '
                       '"ts": "2026-11-29T10:00:00+00:00"}\n', encoding="utf-8")
    assert await spool.replay(db_sessions) == 0
    assert junk.exists() and unknown.exists()
