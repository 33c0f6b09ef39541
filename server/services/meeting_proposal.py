"""What the scheduling form proposes for a case: its open items, the departments that handle them
with the people who would attend (the A posts), and the lead department.

A chair schedules a meeting for a case; the form should not make them find, among every department of
three levels, the ones the case needs, nor default the lead to whichever department sorts first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ApprovalItem, Department, InvestmentCase, User
from server.domain.roles import Post, Role


@dataclass(frozen=True)
class CaseProposal:
    """The chosen case's open items, the departments handling them (in item order, each once) and
    the proposed lead department."""

    case: InvestmentCase
    items: list[ApprovalItem]
    departments: list[Department]
    lead_department_id: int


def approving_department(case: InvestmentCase) -> Department | None:
    """The department that approves the project for the centre: the one the case names (审批部门),
    else, for a case registered before it was stored and never put before a meeting (migration
    0010), a guess from its items: the one handling the first item at the case's own division (a
    case is registered with its 立项 — 备案, 核准 or 审批 — first when that is done locally), else
    the one handling the case's first item; None for such a case without items."""
    if case.approving_department is not None:
        return case.approving_department
    items = sorted(case.items, key=lambda item: item.id)
    local = [item for item in items if item.department.division_code == case.division_code]
    first = local or items
    return first[0].department if first else None


def propose(case: InvestmentCase, open_items: list[ApprovalItem]) -> CaseProposal:
    """The proposal for `case` given its items still to review (`open_items`)."""
    departments = list({item.department_id: item.department for item in open_items}.values())
    lead = approving_department(case)
    lead_id = lead.id if lead is not None else (departments[0].id if departments else 0)
    return CaseProposal(case=case, items=open_items, departments=departments, lead_department_id=lead_id)


async def a_post_names(db: AsyncSession) -> dict[int, str]:
    """Department id -> the name of its active A-post chief representative (who attends unless
    excused; the B post stands in)."""
    rows = await db.execute(
        select(User.department_id, User.display_name)
        .where(User.role == Role.CHIEF_REP.value, User.post == Post.A.value, User.is_active.is_(True),
               User.department_id.is_not(None))
        .order_by(User.id))
    names: dict[int, str] = {}
    for department_id, name in rows:
        if department_id is not None:  # selected so; the column is nullable for other roles
            names.setdefault(department_id, name)
    return names
