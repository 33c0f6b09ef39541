"""The meeting event log in the database: appends, the append-only triggers, tamper detection and
concurrent appends, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import await_only

from record.events import EventError
from server.db.models import MeetingEvent
from server.domain.eventlog import GENESIS_HASH, next_event
from server.services.eventlog import (
    MeetingNotFound,
    append_event,
    check_meeting_log,
    read_events,
    recent_events,
    verify_meeting_log,
)
from tests.api.meetings_support import count_rows, drop_append_only_triggers
from tests.world import build_world


async def _append_n(db_sessions, meeting_id: int, actor_id: int, n: int) -> None:
    async with db_sessions() as db:
        for index in range(n):
            await append_event(db, meeting_id, actor_id, "chat_message", {"text": f"第{index}条", "to": None})
        await db.commit()


async def _rows(db_sessions, meeting_id: int) -> list[MeetingEvent]:
    async with db_sessions() as db:
        return list(await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                                     .order_by(MeetingEvent.id)))


async def test_appends_chain_from_genesis_and_read_back(db_sessions) -> None:
    world = await build_world(db_sessions)
    await _append_n(db_sessions, world.meeting_x, world.user_ids["chair"], 5)
    await _append_n(db_sessions, world.meeting_y, world.user_ids["chair"], 2)
    rows = await _rows(db_sessions, world.meeting_x)
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    assert rows[2].payload == {"schema_version": 1, "text": "第2条", "to": None}
    async with db_sessions() as db:
        assert await verify_meeting_log(db, world.meeting_x) == []
        page = await read_events(db, world.meeting_x, after_seq=2, limit=2)
        assert [row.seq for row in page] == [3, 4]
        assert [row.seq for row in await recent_events(db, world.meeting_x, 2)] == [4, 5]
        check = await check_meeting_log(db, world.meeting_y)
        assert (check.count, check.intact) == (2, True)
        assert check.head_hash == (await _rows(db_sessions, world.meeting_y))[-1].hash


async def test_refuses_unknown_meeting_and_what_the_record_does_not_take(db_sessions) -> None:
    world = await build_world(db_sessions)
    async with db_sessions() as db:
        with pytest.raises(MeetingNotFound):
            await append_event(db, 999_999, None, "meeting_locked", {})
        with pytest.raises(EventError, match="unknown event type 'note'"):
            await append_event(db, world.meeting_x, None, "note", {})
        with pytest.raises(EventError, match="to: Input should be a valid integer"):
            await append_event(db, world.meeting_x, None, "chat_message", {"text": "好", "to": 12.5})
        with pytest.raises(EventError, match="amount: Extra inputs are not permitted"):
            await append_event(db, world.meeting_x, None, "meeting_locked", {"amount": 12.5})
        await db.rollback()
    assert (await count_rows(db_sessions, MeetingEvent))["meeting_events"] == 0


@pytest.mark.parametrize("statement", [
    "UPDATE meeting_events SET type = 'forged'",
    "DELETE FROM meeting_events",
])
async def test_database_refuses_update_and_delete(db_sessions, statement: str) -> None:
    world = await build_world(db_sessions)
    await _append_n(db_sessions, world.meeting_x, world.user_ids["chair"], 2)
    before = [(row.seq, row.type, row.hash) for row in await _rows(db_sessions, world.meeting_x)]
    async with db_sessions() as db:
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text(statement))
        await db.rollback()
    after = [(row.seq, row.type, row.hash) for row in await _rows(db_sessions, world.meeting_x)]
    assert after == before


async def _tampered(db_sessions, meeting_id: int, *statements) -> list:
    await drop_append_only_triggers(db_sessions)
    async with db_sessions() as db:
        for statement in statements:
            await db.execute(statement)
        await db.commit()
    async with db_sessions() as db:
        return await verify_meeting_log(db, meeting_id)


async def test_verification_detects_a_changed_row(db_sessions) -> None:
    world = await build_world(db_sessions)
    await _append_n(db_sessions, world.meeting_x, world.user_ids["chair"], 4)
    problems = await _tampered(db_sessions, world.meeting_x, update(MeetingEvent).where(
        MeetingEvent.meeting_id == world.meeting_x, MeetingEvent.seq == 2).values(payload={"n": 99}))
    assert [(p.seq, p.kind) for p in problems] == [(2, "changed")]


async def test_verification_detects_a_deleted_row(db_sessions) -> None:
    world = await build_world(db_sessions)
    await _append_n(db_sessions, world.meeting_x, world.user_ids["chair"], 4)
    rows = await _rows(db_sessions, world.meeting_x)
    problems = await _tampered(db_sessions, world.meeting_x, delete(MeetingEvent).where(MeetingEvent.id == rows[1].id))
    assert [(p.seq, p.kind) for p in problems] == [(2, "missing")]
    assert problems[0].expected == rows[1].hash


async def test_verification_detects_reordered_rows(db_sessions) -> None:
    """Rows 2 and 3 are removed and stored again in swapped order, each unchanged in itself."""
    world = await build_world(db_sessions)
    await _append_n(db_sessions, world.meeting_x, world.user_ids["chair"], 3)
    rows = await _rows(db_sessions, world.meeting_x)
    copies = [{column: getattr(row, column) for column in
               ("meeting_id", "seq", "ts", "actor_id", "type", "payload", "prev_hash", "hash")}
              for row in (rows[2], rows[1])]
    problems = await _tampered(
        db_sessions, world.meeting_x,
        delete(MeetingEvent).where(MeetingEvent.id.in_([rows[1].id, rows[2].id])),
        insert(MeetingEvent).values(copies[0]), insert(MeetingEvent).values(copies[1]),
    )
    assert [(p.seq, p.kind) for p in problems] == [(2, "reordered")]


async def test_twenty_concurrent_appends_make_one_intact_chain(db_sessions) -> None:
    world = await build_world(db_sessions)

    async def one(index: int) -> int:
        async with db_sessions() as db:
            row = await append_event(db, world.meeting_x, world.user_ids["chair"], "hand_raised",
                                     {"purpose": str(index)})
            await db.commit()
            return row.seq

    seqs = await asyncio.gather(*(one(i) for i in range(20)))
    assert sorted(seqs) == list(range(1, 21))
    rows = await _rows(db_sessions, world.meeting_x)
    assert sorted(int(row.payload["purpose"]) for row in rows) == list(range(20))
    async with db_sessions() as db:
        assert await verify_meeting_log(db, world.meeting_x) == []


async def test_seq_conflict_from_a_writer_bypassing_the_lock_is_retried(db_sessions) -> None:
    """Someone inserting directly (not through append_event, so not taking the meeting lock) commits
    seq 1 between our read of the log and our insert: the insert fails on (meeting_id, seq) and is
    retried once from a fresh read. PostgreSQL only: on SQLite our transaction already holds the
    database write lock at that moment, so the intruder would wait for us instead."""
    world = await build_world(db_sessions)
    async with db_sessions() as db:
        if db.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite serialises every writer on its database lock")
        engine = db.bind.sync_engine

    async def intrude() -> None:
        record = next_event(None, world.meeting_x, datetime.now(UTC), None, "meeting_locked", {"schema_version": 1})
        async with db_sessions() as other:
            other.add(MeetingEvent(meeting_id=record.meeting_id, seq=record.seq, ts=record.ts, actor_id=None,
                                   type=record.type, payload=record.payload, prev_hash=record.prev_hash,
                                   hash=record.hash))
            await other.commit()

    intruded = []

    def before_insert(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT INTO meeting_events") and not intruded:
            intruded.append(True)
            await_only(intrude())

    event.listen(engine, "before_cursor_execute", before_insert)
    try:
        async with db_sessions() as db:
            row = await append_event(db, world.meeting_x, world.user_ids["chair"], "meeting_unlocked", {})
            await db.commit()
    finally:
        event.remove(engine, "before_cursor_execute", before_insert)
    assert intruded and row.seq == 2
    assert [(r.seq, r.type) for r in await _rows(db_sessions, world.meeting_x)] == [(1, "meeting_locked"), (2, "meeting_unlocked")]
    async with db_sessions() as db:
        assert await verify_meeting_log(db, world.meeting_x) == []
