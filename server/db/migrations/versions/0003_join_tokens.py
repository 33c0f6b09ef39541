"""join tokens: single-use meeting links for remote sites and guests

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "join_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("guest_name", sa.String(length=64), nullable=False),
        sa.Column("guest_unit", sa.String(length=128), nullable=False),
        sa.Column("capacity", sa.String(length=16), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_join_tokens_meeting_id_meetings")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_join_tokens_user_id_users")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"],
                                name=op.f("fk_join_tokens_issued_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_tokens")),
    )
    op.create_index(op.f("ix_join_tokens_meeting_id"), "join_tokens", ["meeting_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_join_tokens_meeting_id"), table_name="join_tokens")
    op.drop_table("join_tokens")
