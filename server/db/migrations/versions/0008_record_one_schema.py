"""the record's one schema: event payloads rewritten, chains recomputed, the old chains kept

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Brings every stored meeting event to the record's one schema (record.events, schema_version 1),
so that nothing is translated on read:
- the demo's dialect: participant_joined / participant_left / speaking_started naming people by
  username and display name become the live shape (participant ids in order of joining, user and
  department ids; a guest without an account joined by link), chat_message ``to`` a username
  becomes a user id, meeting_started / meeting_ended become meeting_status_changed (to live; to
  ended with the closing summary as the note);
- live rows gain what the schema writes out: ``schema_version`` everywhere, ``summary`` "" on
  speaking_started.

The rows are hash-chained and append-only, so for each meeting whose rows change: the triggers are
lifted, every row's original (type, payload, prev_hash, hash) is copied to
``record_migration_rows`` with the new hash beside it, the chain is recomputed from the first
changed row on (server.domain.eventlog, unchanged), ``record_migrations`` records the old and the
new head hash, and the triggers are restored. Both trail tables are append-only themselves. The
old chain therefore still verifies from the trail alone, and each old hash (e.g. the head recorded
in minutes drafted before this migration) maps to the row that replaced it (see
docs/architecture.md "The record").

The translation is written out here, not taken from record.events: a migration must do the same
thing whenever it runs, whatever the record's later versions look like.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from server.db.types import UtcDateTime
from server.domain.eventlog import GENESIS_HASH, compute_hash

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MIGRATION = "0008"
TRAIL = ("record_migrations", "record_migration_rows")
EVENTS = sa.table("meeting_events", sa.column("id", sa.Integer), sa.column("meeting_id", sa.Integer),
                  sa.column("seq", sa.Integer), sa.column("ts", UtcDateTime), sa.column("actor_id", sa.Integer),
                  sa.column("type", sa.String), sa.column("payload", sa.JSON), sa.column("prev_hash", sa.String),
                  sa.column("hash", sa.String))
TRAIL_ROWS = sa.table("record_migration_rows", sa.column("migration", sa.String), sa.column("meeting_id", sa.Integer),
                      sa.column("seq", sa.Integer), sa.column("ts", UtcDateTime), sa.column("actor_id", sa.Integer),
                      sa.column("type", sa.String), sa.column("payload", sa.JSON), sa.column("prev_hash", sa.String),
                      sa.column("hash", sa.String), sa.column("new_hash", sa.String))
TRAIL_MEETINGS = sa.table("record_migrations", sa.column("migration", sa.String), sa.column("meeting_id", sa.Integer),
                          sa.column("events", sa.Integer), sa.column("old_head_hash", sa.String),
                          sa.column("new_head_hash", sa.String), sa.column("migrated_at", UtcDateTime))
USERS = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
DEPARTMENTS = sa.table("departments", sa.column("id", sa.Integer), sa.column("code", sa.String))


def upgrade() -> None:
    op.create_table(
        "record_migrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("old_head_hash", sa.String(length=64), nullable=False),
        sa.Column("new_head_hash", sa.String(length=64), nullable=False),
        sa.Column("migrated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_record_migrations_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_migrations")),
        sa.UniqueConstraint("migration", "meeting_id", name="uq_record_migrations_meeting"),
    )
    op.create_table(
        "record_migration_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("migration", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("new_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_record_migration_rows_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_migration_rows")),
        sa.UniqueConstraint("migration", "meeting_id", "seq", name="uq_record_migration_rows_seq"),
    )
    op.create_index(op.f("ix_record_migration_rows_hash"), "record_migration_rows", ["hash"], unique=False)
    _rewrite()
    for table in TRAIL:
        _protect(table)


def downgrade() -> None:
    """Put the original rows back (from the trail) and drop the trail."""
    bind = op.get_bind()
    _unprotect("meeting_events")
    for old in bind.execute(sa.select(TRAIL_ROWS).where(TRAIL_ROWS.c.migration == MIGRATION)).mappings():
        bind.execute(EVENTS.update().where(EVENTS.c.meeting_id == old["meeting_id"], EVENTS.c.seq == old["seq"])
                     .values(type=old["type"], payload=old["payload"], prev_hash=old["prev_hash"], hash=old["hash"]))
    _protect("meeting_events")
    for table in TRAIL:
        _unprotect(table)
    op.drop_index(op.f("ix_record_migration_rows_hash"), table_name="record_migration_rows")
    op.drop_table("record_migration_rows")
    op.drop_table("record_migrations")


# -- the rewrite --------------------------------------------------------------------------------


def _rewrite() -> None:
    bind = op.get_bind()
    users = dict(bind.execute(sa.select(USERS.c.username, USERS.c.id)).all())
    departments = dict(bind.execute(sa.select(DEPARTMENTS.c.code, DEPARTMENTS.c.id)).all())
    by_meeting: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in bind.execute(sa.select(EVENTS).order_by(EVENTS.c.meeting_id, EVENTS.c.seq)).mappings():
        by_meeting[row["meeting_id"]].append(dict(row))
    now = datetime.now(UTC)
    lifted = False
    for meeting_id, events in by_meeting.items():
        translated = _Translation(users, departments).meeting(events)
        if all((new_type, new_payload) == (old["type"], old["payload"])
               for old, (new_type, new_payload) in zip(events, translated, strict=True)):
            continue
        if not lifted:
            _unprotect("meeting_events")
            lifted = True
        prev = GENESIS_HASH
        for old, (new_type, new_payload) in zip(events, translated, strict=True):
            new_hash = compute_hash(meeting_id, old["seq"], old["ts"], old["actor_id"], new_type, new_payload, prev)
            bind.execute(TRAIL_ROWS.insert().values(
                migration=MIGRATION, meeting_id=meeting_id, seq=old["seq"], ts=old["ts"], actor_id=old["actor_id"],
                type=old["type"], payload=old["payload"], prev_hash=old["prev_hash"], hash=old["hash"],
                new_hash=new_hash))
            bind.execute(EVENTS.update().where(EVENTS.c.id == old["id"]).values(
                type=new_type, payload=new_payload, prev_hash=prev, hash=new_hash))
            prev = new_hash
        bind.execute(TRAIL_MEETINGS.insert().values(
            migration=MIGRATION, meeting_id=meeting_id, events=len(events), old_head_hash=events[-1]["hash"],
            new_head_hash=prev, migrated_at=now))
    if lifted:
        _protect("meeting_events")


class _Translation:
    """One meeting's rows in the one schema; participants numbered in order of joining."""

    def __init__(self, users: dict[str, int], departments: dict[str, int]) -> None:
        self.users = users
        self.departments = departments
        self.present: dict[str, tuple[str, int | None, datetime]] = {}

    def meeting(self, events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        return [self.event(row["type"], row["payload"], row["ts"]) for row in events]

    def event(self, type: str, payload: dict[str, Any], ts: datetime) -> tuple[str, dict[str, Any]]:
        p = dict(payload)
        if type == "meeting_started":
            type, p = "meeting_status_changed", {"from": "scheduled", "to": "live", "note": ""}
        elif type == "meeting_ended":
            type, p = "meeting_status_changed", {"from": "live", "to": "ended", "note": p.get("summary") or ""}
        elif type == "participant_joined":
            p = self._joined(p, ts)
        elif type == "participant_left" and "username" in p:
            p = self._left(p, ts)
        elif type == "speaking_started":
            p = self._spoke(p)
        elif type == "chat_message" and isinstance(p.get("to"), str):
            p["to"] = self.users.get(p["to"])
        return type, {**p, "schema_version": 1}

    def _joined(self, p: dict[str, Any], ts: datetime) -> dict[str, Any]:
        if "username" not in p:  # the live shape already
            self.present[p["display_name"]] = (p["participant_id"], p["user_id"], ts)
            return p
        user_id = self.users.get(p["username"]) if p["username"] else None
        participant_id = f"p{len(self.present) + 1:02d}"
        self.present[p["display_name"]] = (participant_id, user_id, ts)
        code = p.get("department_code")
        return {"participant_id": participant_id, "user_id": user_id, "display_name": p["display_name"],
                "unit": p.get("unit_name") or "", "capacity": p["capacity"],
                "department_id": self.departments.get(code) if code else None, "post": p.get("post"),
                "token_id": None, "via": "session" if user_id else "token"}

    def _left(self, p: dict[str, Any], ts: datetime) -> dict[str, Any]:
        participant_id, user_id, joined = self.present.get(p["display_name"], ("", None, ts))
        return {"participant_id": participant_id, "user_id": user_id, "display_name": p["display_name"],
                "reason": p.get("reason"), "duration_ms": int((ts - joined).total_seconds() * 1000)}

    def _spoke(self, p: dict[str, Any]) -> dict[str, Any]:
        if "speaker_name" not in p:
            return {"summary": "", **p}
        participant_id, user_id, _ = self.present.get(p["speaker_name"], ("", None, None))
        return {"participant_id": participant_id, "user_id": user_id, "display_name": p["speaker_name"],
                "summary": p.get("summary") or ""}


# -- append-only triggers (the same DDL as migrations 0001 and 0007) -------------------------------


def _protect(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        return
    op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
               f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def _unprotect(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{action}")
        return
    op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION {table}_append_only()")
