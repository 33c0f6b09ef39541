"""Migration 0008 brings stored events to the record's one schema on a database seeded before it
(at revision 0007, rows in the demo's old dialect and in the live shape of the time, hash-chained as
the old code wrote them): afterwards every row parses as the record's, nothing is left to
translate, the new chains verify, the old chains verify from the trail, an old head hash leads to
the new one, the tables stay append-only, and a downgrade puts the original rows back. On SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import DBAPIError

from record.events import parse_event, payload_of
from record.reducer import fold
from record.vocab import Capacity, Phase, Post
from server.db.engine import create_engine, session_factory
from server.db.migrate import alembic_config, upgrade_async
from server.db.models import RecordMigration
from server.db.types import UtcDateTime
from server.domain.eventlog import EventRecord, next_event
from server.services.eventlog import (
    check_migrated_chains,
    hash_now,
    read_record,
    stored_records,
    verify_meeting_log,
)
from tests.conftest import _pg_available, _pg_exec, _pg_url

pytestmark = pytest.mark.timeout(240)

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
OPINION = {"opinion_id": "op-01", "revision": 1, "project_code": "2603-530921-04-01-512345",
           "item_name": "企业投资项目备案", "department_code": "FQ-ZJJ", "post": "B", "kind": "agree",
           "text": "同意。", "conditions": [], "reasons": "", "legal_basis": "", "remedy_notice": "", "refer_to": None}
# The demo's dialect as the loader wrote it before 0008: people by username and display name.
DEMO_LOG: list[tuple[str | None, str, dict[str, Any]]] = [
    ("chair", "meeting_started", {"place": "会商室", "site_keys": ["fq-hall"]}),
    ("chair", "participant_joined", {"username": "chair", "display_name": "杨国强", "unit_name": "并联审批办公室",
                                     "capacity": "chair", "department_code": None, "organisation_credit_code": None,
                                     "post": None, "stands_in_for": None, "site_key": "fq-hall"}),
    ("zjj_b", "participant_joined", {"username": "zjj_b", "display_name": "施晓燕", "unit_name": "住建局",
                                     "capacity": "member", "department_code": "FQ-ZJJ",
                                     "organisation_credit_code": None, "post": "B", "stands_in_for": "zjj_a",
                                     "site_key": "fq-hall"}),
    (None, "participant_joined", {"username": None, "display_name": "鲁志明", "unit_name": "小湾镇人民政府",
                                  "capacity": "observer", "department_code": None, "organisation_credit_code": None,
                                  "post": None, "stands_in_for": None, "site_key": "fq-hall"}),
    (None, "speaking_started", {"speaker_name": "鲁志明", "site_key": "fq-hall", "summary": "介绍镇里的意见。"}),
    ("zjj_b", "opinion_submitted", OPINION),
    ("chair", "chat_message", {"text": "请住建局留意排风。", "to": "zjj_b"}),
    (None, "participant_left", {"username": None, "display_name": "鲁志明", "reason": None}),
    ("zjj_b", "participant_left", {"username": "zjj_b", "display_name": "施晓燕", "reason": "另有公务"}),
    ("chair", "meeting_ended", {"summary": "会议审查1个事项。"}),
]
# The live shape of the time: ids already, but no schema version and no speech summary.
LIVE_LOG: list[tuple[str | None, str, dict[str, Any]]] = [
    ("chair", "meeting_status_changed", {"from": "scheduled", "to": "live", "note": ""}),
    ("chair", "participant_joined", {"participant_id": "a1b2", "user_id": "chair", "display_name": "杨国强",
                                     "unit": "", "capacity": "chair", "department_id": None, "post": None,
                                     "token_id": None, "via": "session"}),
    (None, "speaking_started", {"participant_id": "a1b2", "user_id": "chair", "display_name": "杨国强"}),
    ("chair", "meeting_locked", {}),
]

S, I, B, TS = sa.String, sa.Integer, sa.Boolean, UtcDateTime
TABLES = {  # the columns of revision 0007, typed (the ORM models are already at head)
    "divisions": {"code": S, "name": S, "level": S, "parent_code": S},
    "departments": {"id": I, "code": S, "name": S, "short_name": S, "division_code": S},
    "users": {"id": I, "username": S, "display_name": S, "password_hash": S, "role": S, "department_id": I,
              "post": S, "organisation_id": I, "title": S, "phone": S, "is_active": B, "created_at": TS},
    "meetings": {"id": I, "title": S, "status": S, "scheduled_start": TS, "scheduled_end": TS, "place": S,
                 "chair_id": I, "lead_department_id": I, "created_by_id": I, "created_at": TS},
}
USER_IDS = {"chair": 1, "zjj_a": 2, "zjj_b": 3}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url_at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated only to 0007, the revision before the record's schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'before.db'}"
        shutil.rmtree(tmp_path, ignore_errors=True)
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    name = f"lianshen_m_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


EVENTS = sa.table("meeting_events", sa.column("meeting_id", sa.Integer), sa.column("seq", sa.Integer),
                  sa.column("ts", UtcDateTime), sa.column("actor_id", sa.Integer), sa.column("type", sa.String),
                  sa.column("payload", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String))


def _with_ids(payload: dict[str, Any]) -> dict[str, Any]:
    """The live rows name users by id (the log above writes usernames for readability)."""
    return {k: USER_IDS[v] if k == "user_id" and isinstance(v, str) else v for k, v in payload.items()}


async def _seed(url: str) -> dict[int, list[EventRecord]]:
    """Reference rows and two meetings' logs, chained exactly as the old append_event did
    (server.domain.eventlog.next_event, then an INSERT)."""
    now = datetime.now(UTC)
    rows = {
        "divisions": [("530921", "凤庆县", "county", None)],
        "departments": [(1, "FQ-ZJJ", "凤庆县住房和城乡建设局", "县住建局", "530921"),
                        (2, "FQ-BLB", "凤庆县投资项目并联审批办公室", "县并联办", "530921")],
        "users": [(1, "chair", "杨国强", "x", "chair", 2, None, None, "主任", "", True, now),
                  (2, "zjj_a", "李住建", "x", "chief_rep", 1, "A", None, "", "", True, now),
                  (3, "zjj_b", "施晓燕", "x", "chief_rep", 1, "B", None, "", "", True, now)],
        "meetings": [(m, f"会议{m}", "ended", T0, T0 + timedelta(hours=2), "会商室", 1, 2, 1, now) for m in (1, 2)],
    }
    chains: dict[int, list[EventRecord]] = {}
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table, values in rows.items():
                columns = TABLES[table]
                await connection.execute(sa.table(table, *(sa.column(c, t) for c, t in columns.items())).insert(),
                                         [dict(zip(columns, row, strict=True)) for row in values])
            for meeting_id, log in ((1, DEMO_LOG), (2, LIVE_LOG)):
                chain: list[EventRecord] = []
                for n, (actor, type, payload) in enumerate(log):
                    chain.append(next_event(chain[-1] if chain else None, meeting_id, T0 + timedelta(minutes=n),
                                            USER_IDS[actor] if actor else None, type, _with_ids(payload)))
                await connection.execute(EVENTS.insert(), [
                    {"meeting_id": r.meeting_id, "seq": r.seq, "ts": r.ts, "actor_id": r.actor_id, "type": r.type,
                     "payload": r.payload, "prev_hash": r.prev_hash, "hash": r.hash} for r in chain])
                chains[meeting_id] = chain
    finally:
        await engine.dispose()
    return chains


@pytest.fixture
async def migrated(url_at_0007: str) -> AsyncIterator[tuple[str, dict[int, list[EventRecord]], Any]]:
    await upgrade_async(url_at_0007, "0007")
    chains = await _seed(url_at_0007)
    await upgrade_async(url_at_0007, "head")
    engine = create_engine(url_at_0007)
    yield url_at_0007, chains, session_factory(engine)
    await engine.dispose()


async def test_every_row_is_the_record_and_nothing_is_left_to_translate(migrated) -> None:
    _url, chains, sessions = migrated
    async with sessions() as db:
        for meeting_id in chains:
            for row in await stored_records(db, meeting_id):
                assert payload_of(parse_event(row.type, row.payload)) == row.payload, row
        demo = await stored_records(db, 1)
        state = fold(await read_record(db, 1))
    assert [r.type for r in demo][::len(demo) - 1] == ["meeting_status_changed", "meeting_status_changed"]
    assert demo[0].payload == {"schema_version": 1, "from": "scheduled", "to": "live", "note": ""}
    assert demo[-1].payload == {"schema_version": 1, "from": "live", "to": "ended", "note": "会议审查1个事项。"}
    assert demo[2].payload == {"schema_version": 1, "participant_id": "p02", "user_id": 3, "display_name": "施晓燕",
                               "unit": "住建局", "capacity": "member", "department_id": 1, "post": "B",
                               "token_id": None, "via": "session"}
    assert demo[4].payload == {"schema_version": 1, "participant_id": "p03", "user_id": None,
                               "display_name": "鲁志明", "summary": "介绍镇里的意见。"}
    assert demo[6].payload["to"] == 3
    assert demo[7].payload == {"schema_version": 1, "participant_id": "p03", "user_id": None,
                               "display_name": "鲁志明", "reason": None, "duration_ms": 240_000}
    assert (state.started, state.ended, state.closing_note) == (T0, T0 + timedelta(minutes=9), "会议审查1个事项。")
    rep = state.presences["p02"]
    assert (rep.capacity, rep.post, rep.left_reason, rep.acts) == (Capacity.MEMBER, Post.B, "另有公务", 1)
    revision = state.opinions["op-01"].current
    assert (revision.act.actor_name, revision.act.phase) == ("施晓燕", Phase.DURING)


async def test_chains_verify_and_the_trail_keeps_the_old_ones(migrated) -> None:
    _url, chains, sessions = migrated
    async with sessions() as db:
        for meeting_id, old in chains.items():
            assert await verify_meeting_log(db, meeting_id) == []
            assert await check_migrated_chains(db, meeting_id) == []
            new = await stored_records(db, meeting_id)
            assert [r.hash for r in new] != [r.hash for r in old]
            assert await hash_now(db, meeting_id, old[-1].hash) == new[-1].hash
            assert await hash_now(db, meeting_id, old[1].hash) == new[1].hash
            assert await hash_now(db, meeting_id, new[-1].hash) == new[-1].hash
            assert await hash_now(db, meeting_id, "f" * 64) is None
        trail = {m.meeting_id: m for m in await db.scalars(sa.select(RecordMigration))}
    assert {m: (t.migration, t.events, t.old_head_hash) for m, t in trail.items()} == {
        m: ("0008", len(old), old[-1].hash) for m, old in chains.items()}


@pytest.mark.parametrize("table", ["meeting_events", "record_migration_rows", "record_migrations"])
async def test_the_log_and_its_trail_stay_append_only(migrated, table: str) -> None:
    _url, _chains, sessions = migrated
    async with sessions() as db:
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(sa.text(f"UPDATE {table} SET meeting_id = meeting_id"))
        await db.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(sa.text(f"DELETE FROM {table}"))


async def test_downgrade_puts_the_original_rows_back(migrated) -> None:
    url, chains, sessions = migrated
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0007")
    async with sessions() as db:
        for meeting_id, old in chains.items():
            assert await stored_records(db, meeting_id) == old
            assert await verify_meeting_log(db, meeting_id) == []
