"""sign-in locks per username and the account audit log (unlocks, password resets by administrators)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# What administrators did to accounts is itself a record: rows are added, never changed or removed.
APPEND_ONLY = "account_audit_log"


def upgrade() -> None:
    op.create_table(
        "login_locks",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_locks")),
    )
    op.create_index(op.f("ix_login_locks_last_failure_at"), "login_locks", ["last_failure_at"], unique=False)
    op.create_table(
        "account_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_account_audit_log_actor_id_users")),
        sa.ForeignKeyConstraint(["subject_id"], ["users.id"], name=op.f("fk_account_audit_log_subject_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_audit_log")),
    )
    op.create_index(op.f("ix_account_audit_log_at"), "account_audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_account_audit_log_subject_id"), "account_audit_log", ["subject_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {APPEND_ONLY}_no_{action.lower()} BEFORE {action} ON {APPEND_ONLY} "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY} is append-only'); END")
    else:
        op.execute(f"CREATE FUNCTION {APPEND_ONLY}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY} is append-only'; END $$")
        op.execute(f"CREATE TRIGGER {APPEND_ONLY}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                   f"ON {APPEND_ONLY} FOR EACH STATEMENT EXECUTE FUNCTION {APPEND_ONLY}_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {APPEND_ONLY}_no_{action}")
    else:
        op.execute(f"DROP TRIGGER {APPEND_ONLY}_append_only ON {APPEND_ONLY}")
        op.execute(f"DROP FUNCTION {APPEND_ONLY}_append_only()")
    op.drop_index(op.f("ix_account_audit_log_subject_id"), table_name="account_audit_log")
    op.drop_index(op.f("ix_account_audit_log_at"), table_name="account_audit_log")
    op.drop_table("account_audit_log")
    op.drop_index(op.f("ix_login_locks_last_failure_at"), table_name="login_locks")
    op.drop_table("login_locks")
