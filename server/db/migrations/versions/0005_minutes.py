"""minutes: numbered documents, versions (final ones immutable), edits, confirmations, case links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Records of who did what to the minutes: rows are added, never changed or removed.
APPEND_ONLY = ("minutes_edits", "minutes_confirmations")
# Every column of minutes_versions but status: what a final version may never change (SQLite
# compares them one by one; PostgreSQL compares the whole row as jsonb minus the status).
VERSION_COLUMNS = ("id", "document_id", "version", "content", "sha256", "reason", "created_by_id",
                   "created_at", "finalised_by_id", "finalised_at", "finalise_note")


def upgrade() -> None:
    op.create_table(
        "minutes_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_minutes_documents_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_documents")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_minutes_documents_meeting_id")),
        sa.UniqueConstraint("year", "seq", name="uq_minutes_documents_year_seq"),
    )
    op.create_table(
        "minutes_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalised_by_id", sa.Integer(), nullable=True),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalise_note", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'awaiting_confirmation', 'final', 'superseded')",
                           name=op.f("ck_minutes_versions_status")),
        sa.CheckConstraint("status NOT IN ('final', 'superseded') OR (sha256 IS NOT NULL "
                           "AND finalised_at IS NOT NULL)",
                           name=op.f("ck_minutes_versions_final_sealed")),
        sa.ForeignKeyConstraint(["document_id"], ["minutes_documents.id"],
                                name=op.f("fk_minutes_versions_document_id_minutes_documents")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_minutes_versions_created_by_id_users")),
        sa.ForeignKeyConstraint(["finalised_by_id"], ["users.id"],
                                name=op.f("fk_minutes_versions_finalised_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_versions")),
        sa.UniqueConstraint("document_id", "version", name="uq_minutes_versions_document_version"),
    )
    op.create_table(
        "minutes_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=256), nullable=False),
        sa.Column("old_text", sa.Text(), nullable=False),
        sa.Column("new_text", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["minutes_versions.id"],
                                name=op.f("fk_minutes_edits_version_id_minutes_versions")),
        sa.ForeignKeyConstraint(["editor_id"], ["users.id"], name=op.f("fk_minutes_edits_editor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_edits")),
    )
    op.create_index(op.f("ix_minutes_edits_version_id"), "minutes_edits", ["version_id"], unique=False)
    op.create_table(
        "minutes_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("post", sa.String(length=1), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("verdict IN ('confirm', 'object')", name=op.f("ck_minutes_confirmations_verdict")),
        sa.ForeignKeyConstraint(["version_id"], ["minutes_versions.id"],
                                name=op.f("fk_minutes_confirmations_version_id_minutes_versions")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_minutes_confirmations_department_id_departments")),
        sa.ForeignKeyConstraint(["person_id"], ["users.id"],
                                name=op.f("fk_minutes_confirmations_person_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_confirmations")),
    )
    op.create_index(op.f("ix_minutes_confirmations_version_id"), "minutes_confirmations", ["version_id"],
                    unique=False)
    op.create_table(
        "minutes_case_links",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["minutes_versions.id"],
                                name=op.f("fk_minutes_case_links_version_id_minutes_versions")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_minutes_case_links_case_id_cases")),
        sa.PrimaryKeyConstraint("version_id", "case_id", name=op.f("pk_minutes_case_links")),
    )
    op.create_index(op.f("ix_minutes_case_links_case_id"), "minutes_case_links", ["case_id"], unique=False)
    _protect()


def downgrade() -> None:
    _unprotect()
    op.drop_index(op.f("ix_minutes_case_links_case_id"), table_name="minutes_case_links")
    op.drop_table("minutes_case_links")
    op.drop_index(op.f("ix_minutes_confirmations_version_id"), table_name="minutes_confirmations")
    op.drop_table("minutes_confirmations")
    op.drop_index(op.f("ix_minutes_edits_version_id"), table_name="minutes_edits")
    op.drop_table("minutes_edits")
    op.drop_table("minutes_versions")
    op.drop_table("minutes_documents")


def _protect() -> None:
    """Final minutes and the records of edits and confirmations are protected by the database
    itself, like the event log (0001): a final version's content and SHA-256 can never change; the
    only change it allows is final -> superseded when a newer version is finalised."""
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in VERSION_COLUMNS)
        op.execute(
            "CREATE TRIGGER minutes_versions_final_no_update BEFORE UPDATE ON minutes_versions "
            "WHEN OLD.status IN ('final', 'superseded') AND NOT (OLD.status = 'final' "
            f"AND NEW.status = 'superseded' AND {unchanged}) "
            "BEGIN SELECT RAISE(ABORT, 'a final minutes version is immutable'); END"
        )
        op.execute(
            "CREATE TRIGGER minutes_versions_final_no_delete BEFORE DELETE ON minutes_versions "
            "WHEN OLD.status IN ('final', 'superseded') "
            "BEGIN SELECT RAISE(ABORT, 'a final minutes version is immutable'); END"
        )
        return
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )
    op.execute(
        "CREATE FUNCTION minutes_versions_final_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'TRUNCATE' THEN RAISE EXCEPTION 'a final minutes version is immutable'; END IF; "
        "IF OLD.status NOT IN ('final', 'superseded') THEN "
        "  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; "
        "IF TG_OP = 'UPDATE' AND OLD.status = 'final' AND NEW.status = 'superseded' "
        "   AND to_jsonb(NEW) - 'status' = to_jsonb(OLD) - 'status' THEN RETURN NEW; END IF; "
        "RAISE EXCEPTION 'a final minutes version is immutable'; "
        "END $$"
    )
    op.execute(
        "CREATE TRIGGER minutes_versions_final_immutable BEFORE UPDATE OR DELETE ON minutes_versions "
        "FOR EACH ROW EXECUTE FUNCTION minutes_versions_final_immutable()"
    )
    op.execute(
        "CREATE TRIGGER minutes_versions_no_truncate BEFORE TRUNCATE ON minutes_versions "
        "FOR EACH STATEMENT EXECUTE FUNCTION minutes_versions_final_immutable()"
    )


def _unprotect() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute("DROP TRIGGER minutes_versions_final_no_update")
        op.execute("DROP TRIGGER minutes_versions_final_no_delete")
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION {table}_append_only()")
    op.execute("DROP TRIGGER minutes_versions_no_truncate ON minutes_versions")
    op.execute("DROP TRIGGER minutes_versions_final_immutable ON minutes_versions")
    op.execute("DROP FUNCTION minutes_versions_final_immutable()")
