"""cases know their approving department (审批部门), the default lead of their meetings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Until now the scheduling form guessed a case's lead department from its items, which is wrong
whenever the first local item is not the approving one (the wind farm, 核准 at province level and
led by the county 发改局, proposed the county 交通运输局). The case now stores it. Existing rows
take the lead department of the latest meeting (not cancelled) that reviewed one of their items,
the best evidence of who leads them; a case never put before a meeting stays null and the form
keeps guessing from its items until someone sets it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FK = "fk_cases_approving_department_id_departments"
FILL = """
UPDATE cases SET approving_department_id = (
    SELECT m.lead_department_id FROM meetings m
    JOIN meeting_agenda a ON a.meeting_id = m.id
    JOIN approval_items i ON i.id = a.item_id
    WHERE i.case_id = cases.id AND m.status <> 'cancelled'
    ORDER BY m.scheduled_start DESC, m.id DESC LIMIT 1)
WHERE approving_department_id IS NULL
"""


def upgrade() -> None:
    # Added in place with its reference: on SQLite a batch operation would copy and drop `cases`,
    # which the foreign keys of its items, materials and minutes refuse once it has rows.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE cases ADD COLUMN approving_department_id INTEGER CONSTRAINT {FK} "
                   "REFERENCES departments (id)")
    else:
        op.add_column("cases", sa.Column("approving_department_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "cases", "departments", ["approving_department_id"], ["id"])
    op.execute(FILL)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(FK, "cases", type_="foreignkey")
    op.drop_column("cases", "approving_department_id")
