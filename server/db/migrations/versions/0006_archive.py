"""archive: search entries with a Chinese full-text index, index cursors and watermarks, file fixity, access log

Chinese is written without spaces, so the index is over character trigrams: SQLite FTS5 with the
trigram tokenizer (SQLite >= 3.34) and PostgreSQL pg_trgm GIN (which serves LIKE/ILIKE '%term%').
Either finds 污水处理 inside 乡镇污水处理厂; terms shorter than three characters fall back to LIKE.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FTS5_TRIGRAM_MIN = (3, 34, 0)
# Who read the archive is itself a record: rows are added, never changed or removed.
APPEND_ONLY = "archive_access_log"


def upgrade() -> None:
    op.create_table(
        "archive_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("minutes_version_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("project_code", sa.String(length=24), nullable=False),
        sa.Column("case_name", sa.String(length=256), nullable=False),
        sa.Column("applicant_name", sa.String(length=128), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("department_name", sa.String(length=128), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("opinion_type", sa.String(length=24), nullable=False),
        sa.Column("joint", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_archive_entries_meeting_id_meetings")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_archive_entries_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_entries")),
        sa.UniqueConstraint("source", name=op.f("uq_archive_entries_source")),
    )
    for column in ("meeting_id", "case_id", "minutes_version_id", "at", "project_code"):
        op.create_index(op.f(f"ix_archive_entries_{column}"), "archive_entries", [column], unique=False)
    # kind alone selects a tenth of the rows; with the time it serves "newest of a kind" directly
    op.create_index("ix_archive_entries_kind_at", "archive_entries", ["kind", "at"], unique=False)
    op.create_table(
        "archive_index_cursors",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_archive_index_cursors_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_archive_index_cursors")),
    )
    op.create_table(
        "archive_watermarks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_archive_watermarks")),
    )
    # The indexer's "anything finalised since?" check (minutes_versions belongs to 0005; the index
    # is the archive's, hence its name).
    op.create_index("ix_archive_minutes_versions_finalised_at", "minutes_versions", ["finalised_at"])
    op.create_table(
        "archive_fixity",
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_archive_fixity")),
    )
    op.create_table(
        "archive_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=256), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_archive_access_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_access_log")),
    )
    op.create_index(op.f("ix_archive_access_log_at"), "archive_access_log", ["at"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fulltext()
    else:
        _postgres_fulltext()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER archive_entries_{suffix}")
        op.execute("DROP TABLE archive_fts")
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {APPEND_ONLY}_no_{action}")
    else:
        op.execute("DROP INDEX ix_archive_entries_search_trgm")
        op.execute(f"DROP TRIGGER {APPEND_ONLY}_append_only ON {APPEND_ONLY}")
        op.execute(f"DROP FUNCTION {APPEND_ONLY}_append_only()")
    op.drop_index(op.f("ix_archive_access_log_at"), table_name="archive_access_log")
    op.drop_table("archive_access_log")
    op.drop_table("archive_fixity")
    op.drop_index("ix_archive_minutes_versions_finalised_at", table_name="minutes_versions")
    op.drop_table("archive_watermarks")
    op.drop_table("archive_index_cursors")
    for column in ("meeting_id", "case_id", "minutes_version_id", "at", "project_code"):
        op.drop_index(op.f(f"ix_archive_entries_{column}"), table_name="archive_entries")
    op.drop_index("ix_archive_entries_kind_at", table_name="archive_entries")
    op.drop_table("archive_entries")


def _sqlite_fulltext() -> None:
    """FTS5 over search_text as an external-content table kept in step by triggers."""
    version = tuple(int(part) for part in sqlite3.sqlite_version.split("."))
    if version < FTS5_TRIGRAM_MIN:
        raise RuntimeError(f"SQLite {sqlite3.sqlite_version} lacks the FTS5 trigram tokenizer needed for "
                           f"Chinese archive search; SQLite >= 3.34 is required")
    op.execute("CREATE VIRTUAL TABLE archive_fts USING fts5(search_text, content='archive_entries', "
               "content_rowid='id', tokenize='trigram')")
    op.execute("CREATE TRIGGER archive_entries_ai AFTER INSERT ON archive_entries BEGIN "
               "INSERT INTO archive_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    op.execute("CREATE TRIGGER archive_entries_ad AFTER DELETE ON archive_entries BEGIN "
               "INSERT INTO archive_fts(archive_fts, rowid, search_text) "
               "VALUES ('delete', old.id, old.search_text); END")
    op.execute("CREATE TRIGGER archive_entries_au AFTER UPDATE ON archive_entries BEGIN "
               "INSERT INTO archive_fts(archive_fts, rowid, search_text) "
               "VALUES ('delete', old.id, old.search_text); "
               "INSERT INTO archive_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    for action in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {APPEND_ONLY}_no_{action.lower()} BEFORE {action} ON {APPEND_ONLY} "
                   f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY} is append-only'); END")


def _postgres_fulltext() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_archive_entries_search_trgm ON archive_entries "
               "USING gin (search_text gin_trgm_ops)")
    op.execute(f"CREATE FUNCTION {APPEND_ONLY}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY} is append-only'; END $$")
    op.execute(f"CREATE TRIGGER {APPEND_ONLY}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
               f"ON {APPEND_ONLY} FOR EACH STATEMENT EXECUTE FUNCTION {APPEND_ONLY}_append_only()")
