"""item decision dates and §45 excluded periods: one clock for items and cases

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Clocks stop when an item is decided, so the decision date is stored (`approval_items.decided_on`;
rows decided before this revision have none and show no figures). Periods §45 of the
Administrative Licensing Law does not count (hearings, tests, expert review, evaluation) are
kept beside the 中止 periods in `clock_suspensions`, told apart by `kind`; every existing row is
a suspension.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_on", sa.Date(), nullable=True))
    with op.batch_alter_table("clock_suspensions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="suspension"))


def downgrade() -> None:
    with op.batch_alter_table("clock_suspensions", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("approval_items", schema=None) as batch_op:
        batch_op.drop_column("decided_on")
