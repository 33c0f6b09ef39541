"""archive export jobs kept in a table: finished jobs survive a restart, old ones are pruned

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Jobs lived in the process's memory, so a restart lost every finished export (its zip stayed on
disk, unreachable) and nothing ever removed old ones. See server.services.export_jobs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("current", sa.String(length=24), nullable=False),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("steps_total", sa.Integer(), nullable=False),
        sa.Column("bags", sa.JSON(), nullable=False),
        sa.Column("zip_name", sa.String(length=128), nullable=True),
        sa.Column("error", sa.String(length=16), nullable=False),
        sa.Column("error_detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_export_jobs_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_index(op.f("ix_export_jobs_finished_at"), "export_jobs", ["finished_at"], unique=False)
    op.create_index(op.f("ix_export_jobs_state"), "export_jobs", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_jobs_state"), table_name="export_jobs")
    op.drop_index(op.f("ix_export_jobs_finished_at"), table_name="export_jobs")
    op.drop_table("export_jobs")
