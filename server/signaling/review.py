"""The state of a review in progress: agenda, hands, floor, chat switch, presenter, opinions,
decisions and tasks of one live meeting.

What is on the record (items opened and closed, opinions and their revisions, requested materials,
decisions, tasks, recording, who is in the room) is the meeting's record state
(record.state.ReviewState): loaded by folding the stored log with the one reducer
(record.reducer) when the live meeting opens, then kept up to date by taking every event the room
writes, as it is written (MeetingLog listeners). So the live state is exactly what replaying the
log gives: a meeting that everyone left, or a server that restarted, carries on from its log. What
is not on the record (raised hands, the floor, the presenter, the page shown, whether chat is on)
belongs to the people present and starts afresh with a new session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from record.events import Logged
from record.reducer import apply, fold
from record.state import Opinion, ReviewState
from record.vocab import Post
from server.services.eventlog import read_record
from server.services.live_meeting import AgendaItem, LiveFacts
from server.signaling.admission import APPLICANT


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
    """One meeting's review: the record's state plus what belongs to the people present."""

    def __init__(self, facts: LiveFacts, state: ReviewState | None = None,
                 log: list[Logged] | None = None) -> None:
        self.facts = facts
        self.state = state if state is not None else ReviewState.for_agenda(facts.agenda)
        self.log: list[Logged] = log if log is not None else []
        """Every event of the meeting's record in order: the stored log it was loaded from, then
        each event as it is written. What the live draft of the minutes is built from, so that
        following the meeting never reads the log back from the database."""
        # off the record: this session's people
        self.hands: list[str] = []
        self.floor: str | None = None
        self.chat_enabled = True
        self.presenter_choice: str | None = None
        self.presentation: Presentation | None = None
        self.last_broadcast: dict[str, Any] | None = None

    def take(self, logged: Logged) -> None:
        """Take one event of the meeting's log into the state, as it is written (a MeetingLog
        listener) or replayed."""
        apply(self.state, logged)
        self.log.append(logged)

    def status_of(self, item: AgendaItem) -> str:
        return self.state.agenda[(item.project_code, item.item_name)].status.value

    @property
    def open_item_id(self) -> int | None:
        open_item = self.state.open_item
        if open_item is None:
            return None
        item = self.facts.item_named(open_item.ref.project_code, open_item.ref.item_name)
        return item.id if item is not None else None

    def opinion_of(self, item: AgendaItem, department_code: str) -> Opinion | None:
        return self.state.opinion_for((item.project_code, item.item_name), department_code)

    @property
    def opinion_ids(self) -> set[str]:
        return set(self.state.opinions)

    @property
    def request_ids(self) -> set[str]:
        return {material.event.request_id for material in self.state.materials}

    @property
    def decision_ids(self) -> set[str]:
        return {entry.event.decision_id for entry in self.state.decisions}

    @property
    def task_ids(self) -> set[str]:
        return {entry.event.task_id for entry in self.state.tasks}

    # -- what everyone sees -------------------------------------------------------

    def presenter(self, present: list[Present]) -> str | None:
        """The chair's choice while that person is here; else the first applicant present."""
        ids = {p.id for p in present}
        if self.presenter_choice in ids:
            return self.presenter_choice
        return next((p.id for p in present if p.capacity == APPLICANT), None)

    def public(self, present: list[Present]) -> dict[str, Any]:
        here = {p.id for p in present}
        return {
            "meeting_id": self.facts.id,
            "open_item_id": self.open_item_id,
            "items": [{"id": item.id, "position": item.position, "project_code": item.project_code,
                       "item_name": item.item_name, "department_code": item.department_code,
                       "department_name": item.department_name, "status": self.status_of(item)}
                      for item in self.facts.items],
            "hands": [pid for pid in self.hands if pid in here],
            "floor": self.floor if self.floor in here else None,
            "chat_enabled": self.chat_enabled,
            "presenter": self.presenter(present),
            "presentation": self.presentation.public(self.facts.id) if self.presentation else None,
            "opinions": {str(item.id): [self._opinion(o) for o in
                                        self.state.opinions_on((item.project_code, item.item_name))]
                         for item in self.facts.items},
            "decisions": [{**_fields(entry.event), "item_id": self._item_id(entry.event)}
                          for entry in self.state.decisions],
            "tasks": [{**_fields(entry.event), "department_name": self.facts.department_name(
                entry.event.department_code), "item_id": self._item_id(entry.event)}
                for entry in self.state.tasks],
            "recording": self.state.recording,
            "meeting_status": self.state.status.value if self.state.status is not None else None,
        }

    def _item_id(self, event: Any) -> int | None:
        item = self.facts.item_named(event.project_code, event.item_name)
        return item.id if item is not None else None

    def _opinion(self, opinion: Opinion) -> dict[str, Any]:
        current = opinion.current
        content = current.content
        department = self.facts.by_code(opinion.department_code)
        return {"opinion_id": opinion.opinion_id, "department_code": opinion.department_code,
                "department_name": self.facts.department_name(opinion.department_code),
                "post": content.post.value,
                "stands_in_for": (department.a_post_username
                                  if department is not None and content.post is Post.B else None),
                "by": current.act.actor_name or "", "kind": content.kind.value,
                "kind_label": content.kind.label_zh, "kind_label_en": content.kind.label_en,
                "text": content.text, "conditions": list(content.conditions), "reasons": content.reasons,
                "legal_basis": content.legal_basis, "remedy_notice": content.remedy_notice,
                "refer_to": content.refer_to, "revision": content.revision,
                "materials": [{"request_id": m.event.request_id, "material": m.event.material,
                               "detail": m.event.detail, "due_working_days": m.event.due_working_days}
                              for m in self.state.materials_of(opinion)],
                "confirmed": _confirmed(opinion)}


def _confirmed(opinion: Opinion) -> dict[str, Any] | None:
    """The department's confirmation of the opinion's current revision in the room, if any."""
    confirmation = opinion.confirmation
    if confirmation is None:
        return None
    return {"revision": confirmation.event.revision, "post": confirmation.event.post.value,
            "by": confirmation.act.actor_name or "", "at": confirmation.act.at.isoformat()}


def _fields(event: Any) -> dict[str, Any]:
    """An event's own fields for the room (without the record's type and schema version)."""
    return event.model_dump(mode="json", exclude={"type", "schema_version"})


async def load_review(db: AsyncSession, facts: LiveFacts) -> Review:
    """The review as the meeting's stored log leaves it (a fresh one for a meeting not yet begun)."""
    log = await read_record(db, facts.id)
    return Review(facts, fold(log, facts.agenda), log)
