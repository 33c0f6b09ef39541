"""What a live meeting knows about its meeting: read once when it opens, by this one loader.

Admission (who enters, in which capacity), the review (the agenda, the departments at the table,
who a B post stands in for) and the recording (its title, cases and the departments its tracks
name) all read the meeting's facts from here. The signaling server loads them when a live meeting
starts and keeps them with it; they are read again only when the meeting is explicitly changed
(its status, plan or invitations), never on every join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from record.state import AgendaRef
from record.vocab import Capacity, Post
from server.db.models import AgendaEntry, ApprovalItem, Department, InvestmentCase, Meeting, User


@dataclass(frozen=True)
class AgendaItem:
    """An approval item under review, as the agenda panel and the minutes name it."""

    id: int
    position: int
    case_id: int
    project_code: str
    item_name: str
    department_code: str
    department_name: str


@dataclass(frozen=True)
class InvitedDepartment:
    id: int
    code: str
    name: str
    capacity: str
    """member (出席: gives opinions) or observer (列席)."""
    a_post_username: str | None
    """Who a B post stands in for when it gives the department's opinion."""


@dataclass(frozen=True)
class LiveFacts:
    """One meeting as its live session needs it."""

    id: int
    title: str
    status: str
    chair_id: int
    items: tuple[AgendaItem, ...]
    departments: Mapping[int, InvitedDepartment]
    """Invited departments by id, in either capacity."""
    organisations: frozenset[int]
    """Invited applicant organisations (their people and agents enter directly)."""
    department_names: Mapping[str, str]
    """Every department by code: tasks may go to departments not at the table."""
    department_names_by_id: Mapping[int, str]
    """Every department by id: what a participant's department is called (recording tracks)."""

    def item(self, item_id: int) -> AgendaItem | None:
        return next((item for item in self.items if item.id == item_id), None)

    def item_named(self, project_code: str | None, item_name: str | None) -> AgendaItem | None:
        return next((item for item in self.items
                     if item.project_code == project_code and item.item_name == item_name), None)

    def member(self, department_id: int | None) -> InvitedDepartment | None:
        """The department if it is invited to give opinions (出席), not merely to attend."""
        department = self.departments.get(department_id) if department_id is not None else None
        return department if department is not None and department.capacity == Capacity.MEMBER.value else None

    def by_code(self, code: str) -> InvitedDepartment | None:
        return next((d for d in self.departments.values() if d.code == code), None)

    def department_name(self, code: str) -> str:
        department = self.by_code(code)
        return department.name if department is not None else self.department_names.get(code, code)

    @property
    def agenda(self) -> tuple[AgendaRef, ...]:
        """The agenda as the record names its items."""
        return tuple(AgendaRef(item.position, item.project_code, item.item_name) for item in self.items)

    @property
    def case_ids(self) -> frozenset[int]:
        return frozenset(item.case_id for item in self.items)

    @property
    def case_codes(self) -> tuple[str, ...]:
        """The project codes of the meeting's cases, sorted (what a recording is filed under)."""
        return tuple(sorted({item.project_code for item in self.items}))

    @property
    def sole_project_code(self) -> str | None:
        """The project a meeting-wide decision concerns when the meeting covers only one case."""
        codes = self.case_codes
        return codes[0] if len(codes) == 1 else None


async def load_live_facts(db: AsyncSession, meeting_id: int) -> LiveFacts | None:
    """The meeting's facts, or None if there is no such meeting."""
    meeting = await db.get(Meeting, meeting_id)
    if meeting is None:
        return None
    agenda = await db.execute(
        select(AgendaEntry.position, ApprovalItem.id, ApprovalItem.name, InvestmentCase.id,
               InvestmentCase.project_code, Department.code, Department.name)
        .join(ApprovalItem, ApprovalItem.id == AgendaEntry.item_id)
        .join(InvestmentCase, InvestmentCase.id == ApprovalItem.case_id)
        .join(Department, Department.id == ApprovalItem.department_id)
        .where(AgendaEntry.meeting_id == meeting_id).order_by(AgendaEntry.position))
    items = tuple(AgendaItem(item_id, position, case_id, project_code, name, code, department)
                  for position, item_id, name, case_id, project_code, code, department in agenda)
    every = (await db.execute(select(Department.id, Department.code, Department.name))).all()
    a_posts = dict((await db.execute(
        select(User.department_id, User.username)
        .where(User.post == Post.A.value, User.department_id.is_not(None), User.is_active))).all())
    codes = {dept_id: code for dept_id, code, _name in every}
    names = {dept_id: name for dept_id, _code, name in every}
    departments = {
        dept_id: InvitedDepartment(dept_id, codes[dept_id], names[dept_id], invitation.capacity,
                                   a_posts.get(dept_id))
        for invitation in meeting.invitations if (dept_id := invitation.department_id) is not None}
    return LiveFacts(
        id=meeting.id, title=meeting.title, status=meeting.status, chair_id=meeting.chair_id,
        items=items, departments=departments,
        organisations=frozenset(i.organisation_id for i in meeting.invitations
                                if i.organisation_id is not None),
        department_names={code: name for _id, code, name in every},
        department_names_by_id=names,
    )
