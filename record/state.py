"""The state of a review as the record leaves it: what the one reducer (record.reducer) builds.

Everything a reader of the record needs and nothing it would have to derive again from payloads:
the agenda items and where each stands (opened when, closed with which outcome), each opinion with
all its revisions (who gave or amended it, with which post, when, and whether during the meeting
or after it), material requests, decisions, tasks, clock notices, attendance (who joined and left
when, who was given the floor, who acted on the record), the presentation, recordings, and the
meeting's own start and end as the record has them.

Plain dataclasses: the live review keeps one per meeting and applies each event as it is written,
the minutes fold a whole log once; both read the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from record.events import (
    ClockResumed,
    ClockSuspended,
    DecisionRecorded,
    HandRaised,
    MaterialRequested,
    OpinionAmended,
    OpinionConfirmed,
    OpinionSubmitted,
    PresentationStarted,
    TaskAssigned,
)
from record.vocab import Capacity, ItemState, MeetingStatus, Phase, Post

ItemKey = tuple[str, str]
"""(project code, item name): how the record names an agenda item."""
E = TypeVar("E")


@dataclass(frozen=True)
class AgendaRef:
    """An agenda entry as the meeting's plan has it (the record names items by code and name)."""

    position: int
    project_code: str
    item_name: str

    @property
    def key(self) -> ItemKey:
        return (self.project_code, self.item_name)


@dataclass(frozen=True)
class Act:
    """Who did something on the record, and when. ``actor_name`` is the name the actor was in the
    room under (None when they were not in the room, e.g. an amendment made after the meeting);
    ``phase`` places the act before, during or after the meeting (its start and end in the record)."""

    at: datetime
    actor_id: int | None
    actor_name: str | None
    phase: Phase


@dataclass(frozen=True)
class Entry(Generic[E]):
    """An event kept as it was recorded, with the act that made it."""

    event: E
    act: Act


@dataclass
class AgendaItem:
    """An agenda item and where its review stands."""

    ref: AgendaRef
    status: ItemState = ItemState.PENDING
    outcome: str = ""
    opened: Act | None = None
    """The first opening (an item is reviewed only if it was opened)."""
    closed: Act | None = None


@dataclass(frozen=True)
class OpinionRevision:
    """One revision of an opinion: the full content, and who gave it when."""

    content: OpinionSubmitted | OpinionAmended
    act: Act

    @property
    def amended(self) -> bool:
        return isinstance(self.content, OpinionAmended)

    @property
    def amendment_reason(self) -> str:
        return self.content.amendment_reason if isinstance(self.content, OpinionAmended) else ""

    @property
    def post(self) -> Post:
        return self.content.post


@dataclass
class Opinion:
    """A department's opinion on an item with every revision in order; the last one counts."""

    opinion_id: str
    project_code: str
    item_name: str
    department_code: str
    revisions: list[OpinionRevision]
    confirmations: list[Entry[OpinionConfirmed]] = field(default_factory=list)
    """Confirmations in the room, each of the revision that was current when it was given."""

    @property
    def key(self) -> ItemKey:
        return (self.project_code, self.item_name)

    @property
    def current(self) -> OpinionRevision:
        return self.revisions[-1]

    @property
    def confirmation(self) -> Entry[OpinionConfirmed] | None:
        """The department's standing confirmation of the current revision (None: not confirmed,
        or an amendment came after it). AB工作制 as for every answer of a department: the A post's
        confirmation stands once given; a B confirmation stands only while A has given none."""
        revision = self.current.content.revision
        of_current = [c for c in self.confirmations if c.event.revision == revision]
        by_a = [c for c in of_current if c.event.post is Post.A]
        standing = by_a or of_current
        return standing[-1] if standing else None

    @property
    def amendments(self) -> list[OpinionRevision]:
        return [revision for revision in self.revisions if revision.amended]


@dataclass(frozen=True)
class Material(Entry[MaterialRequested]):
    """A requested material; ``opinion_revision`` is the revision of its opinion it came with."""

    opinion_revision: int | None = None


@dataclass
class DegradedSpan:
    """An episode of a site's video held below what its tiles want (link_degraded until
    link_recovered, or until the participant left)."""

    since: datetime
    until: datetime | None
    layer: int
    wanted: int
    layers: int
    reason: str


@dataclass
class Presence:
    """One participant's stay in the live meeting (a rejoin under a new id is a new presence)."""

    participant_id: str
    user_id: int | None
    display_name: str
    unit: str
    capacity: Capacity
    department_id: int | None
    post: Post | None
    via: str
    joined: datetime
    left: datetime | None = None
    left_reason: str | None = None
    floor: int = 0
    """How often the room gave this participant the floor (speaking_started)."""
    acts: int = 0
    """How many acts on the record they made while here (opinions, decisions, hands, chat, ...)."""
    degraded: list[DegradedSpan] = field(default_factory=list)
    """Episodes of poor received video (网络不佳), in order; the last may still be open."""

    @property
    def here(self) -> bool:
        return self.left is None

    def degraded_s(self, now: datetime | None) -> float:
        """Seconds of poor received video; an open episode counts until the participant left, or
        until ``now`` while they are here (the meeting's end for the minutes; None: not yet)."""
        end = self.left or now
        return sum(((span.until or end or span.since) - span.since).total_seconds() for span in self.degraded)


@dataclass
class RecordingSpan:
    key: str
    consent_notice: str
    started: datetime
    stopped: datetime | None = None


@dataclass
class ReviewState:
    """A review as its log leaves it. ``agenda_fixed``: the agenda was given from the meeting's
    plan (events about other items are not review of this meeting's agenda); otherwise items are
    learnt from the log as they are opened (a reader that has only the log, e.g. a recording)."""

    agenda: dict[ItemKey, AgendaItem] = field(default_factory=dict)
    agenda_fixed: bool = False
    opinions: dict[str, Opinion] = field(default_factory=dict)
    materials: list[Material] = field(default_factory=list)
    decisions: list[Entry[DecisionRecorded]] = field(default_factory=list)
    tasks: list[Entry[TaskAssigned]] = field(default_factory=list)
    clock: list[Entry[ClockSuspended | ClockResumed]] = field(default_factory=list)
    hands: list[Entry[HandRaised]] = field(default_factory=list)
    presences: dict[str, Presence] = field(default_factory=dict)
    recordings: dict[str, RecordingSpan] = field(default_factory=dict)
    presentation: Entry[PresentationStarted] | None = None
    status: MeetingStatus | None = None
    started: datetime | None = None
    """When the meeting went live (its first start in the record)."""
    ended: datetime | None = None
    closing_note: str = ""
    excused: dict[int, str] = field(default_factory=dict)
    """Department id -> the reason it was excused (请假)."""

    @classmethod
    def for_agenda(cls, agenda: list[AgendaRef] | tuple[AgendaRef, ...]) -> ReviewState:
        return cls(agenda={ref.key: AgendaItem(ref) for ref in agenda}, agenda_fixed=True)

    @property
    def phase(self) -> Phase:
        """Where the meeting is now, as acts are placed."""
        if self.ended is not None:
            return Phase.AFTER
        return Phase.DURING if self.started is not None else Phase.BEFORE

    @property
    def open_item(self) -> AgendaItem | None:
        return next((item for item in self.agenda.values() if item.status is ItemState.OPEN), None)

    @property
    def recording(self) -> bool:
        return any(span.stopped is None for span in self.recordings.values())

    def item(self, project_code: str | None, item_name: str | None) -> AgendaItem | None:
        if project_code is None or item_name is None:
            return None
        return self.agenda.get((project_code, item_name))

    def opinion_for(self, key: ItemKey, department_code: str) -> Opinion | None:
        """The department's opinion on the item (the one last given, should there be several)."""
        return next((o for o in reversed(self.opinions.values())
                     if o.key == key and o.department_code == department_code), None)

    def opinions_on(self, key: ItemKey) -> list[Opinion]:
        """The opinions on an item in the order they were first given."""
        return [o for o in self.opinions.values() if o.key == key]

    def materials_of(self, opinion: Opinion) -> list[Material]:
        """The materials requested with the opinion's current revision."""
        revision = opinion.current.content.revision
        return [m for m in self.materials
                if m.event.opinion_id == opinion.opinion_id and m.opinion_revision == revision]

    def present(self) -> list[Presence]:
        return [p for p in self.presences.values() if p.here]

    def name_of(self, user_id: int | None) -> str | None:
        """The name a user was last in the room under (None if they never were)."""
        if user_id is None:
            return None
        return next((p.display_name for p in reversed(self.presences.values()) if p.user_id == user_id), None)
