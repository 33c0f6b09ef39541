"""The state of a review in progress: agenda, hands, floor, chat switch, presenter, opinions,
decisions and tasks of one live meeting.

What is on the record (items opened and closed, opinions and their revisions, requested materials,
decisions, tasks, recording) changes only by applying an event of the meeting log's vocabulary
(server.demo.records.EVENT_SCHEMA), so the live state is exactly what replaying the log gives: a
meeting that everyone left, or a server that restarted, carries on from its log. What is not on
the record (raised hands, the floor, the presenter, the page shown, whether chat is on) belongs to
the people present and starts afresh with a new session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    AgendaEntry,
    ApprovalItem,
    Department,
    InvestmentCase,
    Invitation,
    MeetingEvent,
    User,
)
from server.domain.opinions import OpinionKind
from server.domain.roles import Post
from server.signaling.admission import APPLICANT, MEMBER
from server.signaling.events import REVIEW_EVENT_TYPES

PENDING, OPEN, CLOSED = "pending", "open", "closed"
RECORDING_EVENTS = ("recording_started", "recording_stopped")


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
    a_post_username: str | None
    """Who a B post stands in for when it gives the department's opinion."""


@dataclass(frozen=True)
class ReviewFacts:
    """What the review needs from the database, read once when the live meeting starts."""

    meeting_id: int
    items: tuple[AgendaItem, ...]
    departments: Mapping[int, InvitedDepartment]
    department_names: Mapping[str, str]
    """Every department by code: tasks may go to departments not at the table."""

    def item(self, item_id: int) -> AgendaItem | None:
        return next((item for item in self.items if item.id == item_id), None)

    def item_named(self, project_code: str | None, item_name: str | None) -> AgendaItem | None:
        return next((item for item in self.items
                     if item.project_code == project_code and item.item_name == item_name), None)

    def member(self, department_id: int | None) -> InvitedDepartment | None:
        """The department if it is invited to give opinions (出席), not merely to attend."""
        department = self.departments.get(department_id) if department_id is not None else None
        return department if department is not None and department.capacity == MEMBER else None

    def by_code(self, code: str) -> InvitedDepartment | None:
        return next((d for d in self.departments.values() if d.code == code), None)

    @property
    def case_ids(self) -> frozenset[int]:
        return frozenset(item.case_id for item in self.items)

    @property
    def sole_project_code(self) -> str | None:
        """The project a meeting-wide decision concerns when the meeting covers only one case."""
        codes = {item.project_code for item in self.items}
        return codes.pop() if len(codes) == 1 else None


@dataclass
class OpinionEntry:
    """The latest revision of one department's opinion on one item."""

    item_id: int
    opinion_id: str
    revision: int
    department_code: str
    department_name: str
    post: str | None
    stands_in_for: str | None
    by: str
    kind: str
    text: str
    conditions: list[str]
    reasons: str
    legal_basis: str
    remedy_notice: str
    refer_to: str | None
    materials: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        kind = OpinionKind(self.kind)
        return {"opinion_id": self.opinion_id, "department_code": self.department_code,
                "department_name": self.department_name, "post": self.post,
                "stands_in_for": self.stands_in_for, "by": self.by, "kind": self.kind,
                "kind_label": kind.label_zh, "kind_label_en": kind.label_en, "text": self.text,
                "conditions": list(self.conditions), "reasons": self.reasons,
                "legal_basis": self.legal_basis, "remedy_notice": self.remedy_notice,
                "refer_to": self.refer_to, "revision": self.revision,
                "materials": [dict(m) for m in self.materials]}


def presentation_url(meeting_id: int, material_id: int) -> str:
    """Where the meeting's participants fetch the PDF being presented (server/web/api/materials.py):
    guests and sites that joined by token cannot see the case, but may see what is shown to them."""
    return f"/api/v1/meetings/{meeting_id}/presentation/{material_id}"


@dataclass
class Presentation:
    material_id: int
    title: str
    file_name: str
    page_count: int
    page: int = 1

    def public(self, meeting_id: int) -> dict[str, Any]:
        return {"material_id": self.material_id, "url": presentation_url(meeting_id, self.material_id),
                "title": self.title, "file_name": self.file_name, "page": self.page,
                "page_count": self.page_count}


@dataclass(frozen=True)
class Present:
    """A participant as the review sees them: enough to pick the default presenter."""

    id: str
    capacity: str


def next_id(prefix: str, taken: Iterable[str]) -> str:
    """The next id in the demo data's style ("op-01", "d-03"), unused in this meeting's log."""
    used = set(taken)
    number = len(used) + 1
    while f"{prefix}-{number:02d}" in used:
        number += 1
    return f"{prefix}-{number:02d}"


class Review:
    """One meeting's review; on-record changes go through ``apply``."""

    def __init__(self, facts: ReviewFacts) -> None:
        self.facts = facts
        self.status: dict[int, str] = {item.id: PENDING for item in facts.items}
        self.opinions: dict[tuple[int, str], OpinionEntry] = {}
        """(item id, department code) -> latest revision."""
        self.opinion_ids: set[str] = set()
        self.request_ids: set[str] = set()
        self.decisions: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.recording = False
        # off the record: this session's people
        self.hands: list[str] = []
        self.floor: str | None = None
        self.chat_enabled = True
        self.presenter_choice: str | None = None
        self.presentation: Presentation | None = None
        self.last_broadcast: dict[str, Any] | None = None

    @property
    def open_item_id(self) -> int | None:
        return next((item_id for item_id, status in self.status.items() if status == OPEN), None)

    def opinion_of(self, item_id: int, department_code: str) -> OpinionEntry | None:
        return self.opinions.get((item_id, department_code))

    # -- the record -------------------------------------------------------------

    def apply(self, type: str, payload: Mapping[str, Any], by: str) -> None:
        """Take one logged event into the state (live, right after writing it; or on replay).
        ``by`` is the display name of the event's actor. Events of other meetings' agendas (a
        replayed log whose agenda changed since) are ignored rather than guessed at."""
        item = self.facts.item_named(payload.get("project_code"), payload.get("item_name"))
        match type:
            case "agenda_item_opened" if item is not None:
                self.status[item.id] = OPEN
            case "agenda_item_closed" if item is not None:
                self.status[item.id] = CLOSED
            case "opinion_submitted" | "opinion_amended" if item is not None:
                self._apply_opinion(item, payload, by)
            case "material_requested":
                self.request_ids.add(payload["request_id"])
                entry = next((e for e in self.opinions.values()
                              if e.opinion_id == payload["opinion_id"]), None)
                if entry is not None:
                    entry.materials.append({key: payload[key] for key in
                                            ("request_id", "material", "detail", "due_working_days")})
            case "decision_recorded":
                self.decisions.append({**payload, "item_id": item.id if item else None})
            case "task_assigned":
                name = self.facts.department_names.get(payload["department_code"], payload["department_code"])
                self.tasks.append({**payload, "department_name": name, "item_id": item.id if item else None})
            case "recording_started" | "recording_stopped":
                self.recording = type == "recording_started"

    def _apply_opinion(self, item: AgendaItem, payload: Mapping[str, Any], by: str) -> None:
        code = payload["department_code"]
        department = self.facts.by_code(code)
        self.opinion_ids.add(payload["opinion_id"])
        self.opinions[(item.id, code)] = OpinionEntry(
            item_id=item.id, opinion_id=payload["opinion_id"], revision=payload["revision"],
            department_code=code,
            department_name=department.name if department else self.facts.department_names.get(code, code),
            post=payload["post"],
            stands_in_for=department.a_post_username if department and payload["post"] == Post.B.value else None,
            by=by, kind=payload["kind"], text=payload["text"], conditions=list(payload["conditions"]),
            reasons=payload["reasons"], legal_basis=payload["legal_basis"],
            remedy_notice=payload["remedy_notice"], refer_to=payload["refer_to"])

    # -- what everyone sees -------------------------------------------------------

    def presenter(self, present: list[Present]) -> str | None:
        """The chair's choice while that person is here; else the first applicant present."""
        ids = {p.id for p in present}
        if self.presenter_choice in ids:
            return self.presenter_choice
        return next((p.id for p in present if p.capacity == APPLICANT), None)

    def public(self, present: list[Present]) -> dict[str, Any]:
        here = {p.id for p in present}
        opinions: dict[str, list[dict[str, Any]]] = {str(item.id): [] for item in self.facts.items}
        for (item_id, _code), entry in self.opinions.items():
            opinions[str(item_id)].append(entry.public())
        return {
            "meeting_id": self.facts.meeting_id,
            "open_item_id": self.open_item_id,
            "items": [{"id": item.id, "position": item.position, "project_code": item.project_code,
                       "item_name": item.item_name, "department_code": item.department_code,
                       "department_name": item.department_name, "status": self.status[item.id]}
                      for item in self.facts.items],
            "hands": [pid for pid in self.hands if pid in here],
            "floor": self.floor if self.floor in here else None,
            "chat_enabled": self.chat_enabled,
            "presenter": self.presenter(present),
            "presentation": self.presentation.public(self.facts.meeting_id) if self.presentation else None,
            "opinions": opinions,
            "decisions": [dict(d) for d in self.decisions],
            "tasks": [dict(t) for t in self.tasks],
            "recording": self.recording,
        }


async def load_facts(db: AsyncSession, meeting_id: int) -> ReviewFacts:
    agenda = await db.execute(
        select(AgendaEntry.position, ApprovalItem.id, ApprovalItem.name, InvestmentCase.id,
               InvestmentCase.project_code, Department.code, Department.name)
        .join(ApprovalItem, ApprovalItem.id == AgendaEntry.item_id)
        .join(InvestmentCase, InvestmentCase.id == ApprovalItem.case_id)
        .join(Department, Department.id == ApprovalItem.department_id)
        .where(AgendaEntry.meeting_id == meeting_id).order_by(AgendaEntry.position))
    items = tuple(AgendaItem(item_id, position, case_id, project_code, name, code, department)
                  for position, item_id, name, case_id, project_code, code, department in agenda)
    invited = await db.execute(
        select(Department.id, Department.code, Department.name, Invitation.capacity)
        .join(Invitation, Invitation.department_id == Department.id)
        .where(Invitation.meeting_id == meeting_id))
    a_posts = dict((await db.execute(
        select(User.department_id, User.username)
        .where(User.post == Post.A.value, User.department_id.is_not(None), User.is_active))).all())
    departments = {dept_id: InvitedDepartment(dept_id, code, name, capacity, a_posts.get(dept_id))
                   for dept_id, code, name, capacity in invited}
    names = dict((await db.execute(select(Department.code, Department.name))).all())
    return ReviewFacts(meeting_id, items, departments, names)


async def load_review(db: AsyncSession, meeting_id: int) -> Review:
    """The review as its log leaves it (a fresh one for a meeting that has not begun)."""
    review = Review(await load_facts(db, meeting_id))
    events = await db.execute(
        select(MeetingEvent.type, MeetingEvent.payload, User.display_name)
        .outerjoin(User, User.id == MeetingEvent.actor_id)
        .where(MeetingEvent.meeting_id == meeting_id,
               MeetingEvent.type.in_(REVIEW_EVENT_TYPES + RECORDING_EVENTS))
        .order_by(MeetingEvent.seq))
    for type, payload, by in events:
        review.apply(type, payload, by or "")
    return review
