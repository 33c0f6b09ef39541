"""Appending to, reading and verifying a meeting's hash-chained event log in the database.

The chain itself (canonical bytes, hashes, what counts as a break) lives in server.domain.eventlog;
this module adds what only the database can give: the previous event, serialised appends, and the
rows in the order they were stored. What may be appended is the record's (record.events): every
event is parsed on the way in and stored as exactly ``payload_of(parse_event(...))``, so a reader
parses any stored row back into the same typed event (``logged_events``) without translating it.

Appends are serialised per meeting by locking the meeting row before the last event is read, so two
writers can never both build on the same predecessor: on PostgreSQL with SELECT ... FOR NO KEY
UPDATE (the FOR UPDATE variant that still lets other transactions insert rows referencing the
meeting, e.g. invitations, while it is held), on SQLite (which has no row locks) with a no-op
UPDATE of the row, which takes the database write lock for the rest of the transaction. The
table's (meeting_id, seq) unique constraint stays the last line of defence against writers that
bypass this module; a violation there is retried once from a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from record.events import Logged, parse_event, payload_of
from server.db.models import Meeting, MeetingEvent, RecordMigration, RecordMigrationRow
from server.domain.eventlog import ChainProblem, EventRecord, next_event, verify_chain

SEQ_CONSTRAINT = "uq_meeting_events_seq"
APPENDED = "eventlog.appended"
"""Key of a session's ``info``: the events append_event added in the session's transaction, as
(meeting id, event), for server.services.log_hub to tell live meetings once it commits."""


class MeetingNotFound(LookupError):
    """The meeting whose log was asked for does not exist."""


def to_record(row: MeetingEvent) -> EventRecord:
    """The domain view of a stored row, exactly as read back (for hashing and verification)."""
    return EventRecord(meeting_id=row.meeting_id, seq=row.seq, ts=row.ts, actor_id=row.actor_id,
                       type=row.type, payload=row.payload, prev_hash=row.prev_hash, hash=row.hash)


async def lock_meeting(db: AsyncSession, meeting_id: int) -> Meeting:
    """Take the meeting's write lock for the rest of the transaction and return it freshly read.

    Status changes call this too, so that the status they check cannot change underneath them.
    Raises MeetingNotFound if there is no such meeting.
    """
    if db.get_bind().dialect.name == "postgresql":
        locked = await db.scalar(select(Meeting.id).where(Meeting.id == meeting_id)
                                 .with_for_update(key_share=True))
    else:
        table = Meeting.__table__
        assert isinstance(table, Table)  # a mapped class's table, typed only as a FromClause
        result = await db.execute(
            update(table).where(table.c.id == meeting_id).values(status=table.c.status)
        )
        assert isinstance(result, CursorResult)  # an UPDATE's result, which counts its rows
        locked = meeting_id if result.rowcount else None
    if locked is None:
        raise MeetingNotFound(meeting_id)
    meeting = await db.get(Meeting, meeting_id, populate_existing=True)
    assert meeting is not None  # locked above, in this transaction
    return meeting


async def _last_event(db: AsyncSession, meeting_id: int) -> MeetingEvent | None:
    return await db.scalar(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
        .order_by(MeetingEvent.seq.desc()).limit(1)
    )


def _is_seq_conflict(error: IntegrityError) -> bool:
    text = str(error.orig)
    return SEQ_CONSTRAINT in text or "meeting_events.seq" in text


async def append_event(db: AsyncSession, meeting_id: int, actor_id: int | None, type: str,
                       payload: dict[str, Any], *, ts: datetime | None = None,
                       from_room: bool = False) -> MeetingEvent:
    """Append one event (flushed, not committed: it commits or rolls back with the caller's work).

    `ts` defaults to now; a given time is for importing a log kept elsewhere (the demo's history).
    The event is noted in the session (APPENDED), so that a live meeting hears of it once the
    caller commits; `from_room` is for the live meeting's own writes (server.signaling.events),
    which it took as they were written.

    record.events.EventError (a ValueError) for an event the record does not take (checked before
    anything is locked or written); ValueError for a payload the chain cannot hash reproducibly
    (see server.domain.eventlog); MeetingNotFound for an unknown meeting.
    """
    event = parse_event(type, payload)
    payload = payload_of(event)
    await lock_meeting(db, meeting_id)
    for attempt in (1, 2):
        last = await _last_event(db, meeting_id)
        record = next_event(to_record(last) if last is not None else None, meeting_id,
                            ts or datetime.now(UTC), actor_id, type, payload)
        row = MeetingEvent(meeting_id=record.meeting_id, seq=record.seq, ts=record.ts,
                           actor_id=record.actor_id, type=record.type, payload=record.payload,
                           prev_hash=record.prev_hash, hash=record.hash)
        try:
            async with db.begin_nested():
                db.add(row)
                await db.flush()
        except IntegrityError as error:
            if attempt == 2 or not _is_seq_conflict(error):
                raise
            continue
        if not from_room:
            db.info.setdefault(APPENDED, []).append((meeting_id, Logged(record.ts, actor_id, event, record.seq)))
        return row
    raise AssertionError("unreachable: the second attempt returns or raises")


async def read_events(db: AsyncSession, meeting_id: int, after_seq: int = 0,
                      limit: int = 100) -> list[MeetingEvent]:
    """Up to `limit` events with seq > after_seq, in seq order (a page of the log)."""
    rows = await db.scalars(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id, MeetingEvent.seq > after_seq)
        .order_by(MeetingEvent.seq).limit(limit)
    )
    return list(rows)


async def read_record(db: AsyncSession, meeting_id: int) -> list[Logged]:
    """The meeting's whole log as typed events, in seq order (what the reducer folds)."""
    rows = await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                            .order_by(MeetingEvent.seq))
    return [logged(row) for row in rows]


def logged(row: MeetingEvent) -> Logged:
    """A stored row as the record's typed event (EventError if the row is not in the record's
    schema, i.e. the database missed a data migration)."""
    return Logged(row.ts, row.actor_id, parse_event(row.type, row.payload), row.seq)


async def recent_events(db: AsyncSession, meeting_id: int, count: int) -> list[MeetingEvent]:
    """The last `count` events, oldest first (for a page showing what happened lately)."""
    rows = await db.scalars(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
        .order_by(MeetingEvent.seq.desc()).limit(count)
    )
    return list(reversed(list(rows)))


async def stored_records(db: AsyncSession, meeting_id: int) -> list[EventRecord]:
    """Every event in the order the rows were stored (surrogate id), as verification needs."""
    rows = await db.scalars(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id).order_by(MeetingEvent.id)
    )
    return [to_record(row) for row in rows]


@dataclass(frozen=True)
class LogCheck:
    """The outcome of verifying one meeting's log: how many events, the head hash, the breaks."""

    count: int
    head_hash: str | None
    problems: list[ChainProblem]

    @property
    def intact(self) -> bool:
        return not self.problems


async def check_meeting_log(db: AsyncSession, meeting_id: int) -> LogCheck:
    """Verify the stored chain and report its size and head (the hash the minutes should record).

    Rows are read by surrogate id, not by seq, so swapped rows show up as "reordered".
    """
    records = await stored_records(db, meeting_id)
    head = max(records, key=lambda record: record.seq, default=None)
    return LogCheck(count=len(records), head_hash=head.hash if head else None,
                    problems=verify_chain(records))


async def verify_meeting_log(db: AsyncSession, meeting_id: int) -> list[ChainProblem]:
    """Every break in the meeting's stored chain; an empty list means intact."""
    return (await check_meeting_log(db, meeting_id)).problems


# -- across data migrations -----------------------------------------------------------------------
# A data migration that brings stored events to a new record schema rewrites their payloads and so
# their hashes (migration 0008). It keeps each replaced row, with its place in the old chain and
# the hash of the row that replaced it, so the old chain still verifies and a hash recorded before
# (the head in a minutes version, an archive manifest) still leads to the row now in its place.


async def check_migrated_chains(db: AsyncSession, meeting_id: int) -> list[ChainProblem]:
    """Every break in the chains the data migrations replaced for this meeting: each old chain
    must verify from its trail alone, end in the head hash the migration recorded, and each old
    row must name the row that replaced it (now in the log, or replaced again by a later one)."""
    migrations = list(await db.scalars(select(RecordMigration).where(RecordMigration.meeting_id == meeting_id)
                                       .order_by(RecordMigration.id)))
    trail = list(await db.scalars(select(RecordMigrationRow).where(RecordMigrationRow.meeting_id == meeting_id)
                                  .order_by(RecordMigrationRow.id)))
    current = {row.seq: row.hash for row in await db.scalars(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id))}
    problems: list[ChainProblem] = []
    for index, migration in enumerate(migrations):
        rows = [row for row in trail if row.migration == migration.migration]
        records = [EventRecord(meeting_id=meeting_id, seq=row.seq, ts=row.ts, actor_id=row.actor_id,
                               type=row.type, payload=row.payload, prev_hash=row.prev_hash, hash=row.hash)
                   for row in rows]
        problems += verify_chain(records)
        head = max(records, key=lambda record: record.seq, default=None)
        if head is None or head.hash != migration.old_head_hash:
            problems.append(ChainProblem(head.seq if head else 0, "missing", migration.old_head_hash,
                                         head.hash if head else None,
                                         f"迁移 {migration.migration} 的原日志末条哈希不符 / the old chain of "
                                         f"migration {migration.migration} does not end in its recorded head"))
        later = {row.seq: row.hash for row in trail
                 if row.migration in {m.migration for m in migrations[index + 1:]}}
        for row in rows:
            replaced_by = later.get(row.seq, current.get(row.seq))
            if replaced_by != row.new_hash:
                problems.append(ChainProblem(row.seq, "changed", row.new_hash, replaced_by,
                                             f"第{row.seq}条事件经迁移 {migration.migration} 后的哈希不符 / event seq "
                                             f"{row.seq} is not the row migration {migration.migration} wrote"))
    return sorted(problems, key=lambda problem: problem.seq)


async def hash_now(db: AsyncSession, meeting_id: int, recorded: str) -> str | None:
    """The hash in the log today of the row a hash recorded earlier named: the same hash, or where
    data migrations rewrote the row, the hash of the row that replaced it; None if neither."""
    seen = set()
    while recorded not in seen:
        seen.add(recorded)
        if await db.scalar(select(MeetingEvent.id).where(MeetingEvent.meeting_id == meeting_id,
                                                         MeetingEvent.hash == recorded).limit(1)) is not None:
            return recorded
        replaced = await db.scalar(select(RecordMigrationRow.new_hash).where(
            RecordMigrationRow.meeting_id == meeting_id, RecordMigrationRow.hash == recorded).limit(1))
        if replaced is None:
            return None
        recorded = replaced
    return None
