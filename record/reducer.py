"""The one reducer: ``apply(state, logged)`` takes one event of the record into a review's state,
``fold(events)`` replays a whole log.

Every reader of the record uses it (the live review applies each event as the room writes it, the
minutes and the recording chapters fold the stored log), so the meaning of an event is decided in
one place: a replayed log gives exactly the state the live meeting had.

``apply`` changes the state in place and returns it: the live review applies thousands of events
(every join, mute and change of speaker) to one state, and a fold stays linear.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from record.events import (
    AgendaItemClosed,
    AgendaItemOpened,
    ChatMessage,
    ClockResumed,
    ClockSuspended,
    DecisionRecorded,
    HandRaised,
    InvitationExcused,
    LinkDegraded,
    LinkRecovered,
    Logged,
    MaterialRequested,
    MeetingStatusChanged,
    OpinionAmended,
    OpinionConfirmed,
    OpinionSubmitted,
    ParticipantJoined,
    ParticipantLeft,
    PresentationStarted,
    PresentationStopped,
    RecordingStarted,
    RecordingStopped,
    SpeakingStarted,
    TaskAssigned,
)
from record.state import (
    Act,
    AgendaItem,
    AgendaRef,
    DegradedSpan,
    Entry,
    Material,
    Opinion,
    OpinionRevision,
    Presence,
    RecordingSpan,
    ReviewState,
)
from record.vocab import ItemState, MeetingStatus

ACTS = (AgendaItemOpened, AgendaItemClosed, HandRaised, ChatMessage, OpinionSubmitted, OpinionAmended,
        OpinionConfirmed, MaterialRequested, DecisionRecorded, TaskAssigned, PresentationStarted, PresentationStopped,
        RecordingStarted, RecordingStopped, ClockSuspended, ClockResumed)
"""Events that are someone's act in the review (attendance counts them as having acted)."""


def fold(events: Iterable[Logged], agenda: Iterable[AgendaRef] | None = None) -> ReviewState:
    """The state a log leaves, events taken in the order given (the log's seq order). With the
    meeting's agenda, only its items are reviewed; without, items are learnt as they are opened."""
    state = ReviewState.for_agenda(tuple(agenda)) if agenda is not None else ReviewState()
    for logged in events:
        apply(state, logged)
    return state


def apply(state: ReviewState, logged: Logged) -> ReviewState:
    """Take one logged event into the state (in place); returns the state."""
    event = logged.event
    act = Act(logged.ts, logged.actor_id, state.name_of(logged.actor_id), state.phase)
    match event:
        case MeetingStatusChanged():
            _status(state, event, logged)
        case InvitationExcused():
            state.excused[event.department_id] = event.reason
        case ParticipantJoined():
            state.presences[event.participant_id] = Presence(
                participant_id=event.participant_id, user_id=event.user_id,
                display_name=event.display_name, unit=event.unit, capacity=event.capacity,
                department_id=event.department_id, post=event.post, via=event.via, joined=logged.ts)
        case ParticipantLeft():
            presence = state.presences.get(event.participant_id)
            if presence is not None and presence.here:
                presence.left, presence.left_reason = logged.ts, event.reason
        case SpeakingStarted():
            presence = state.presences.get(event.participant_id)
            if presence is not None:
                presence.floor += 1
        case LinkDegraded() | LinkRecovered():
            _link(state, event, logged)
        case AgendaItemOpened():
            item = _agenda_item(state, event)
            if item is not None and item.status is not ItemState.CLOSED:
                item.status = ItemState.OPEN
                item.opened = item.opened or act
        case AgendaItemClosed():
            item = _agenda_item(state, event)
            if item is not None:
                item.status, item.outcome, item.closed = ItemState.CLOSED, event.outcome, act
        case OpinionSubmitted() | OpinionAmended():
            _opinion(state, event, act)
        case OpinionConfirmed():
            _confirmation(state, event, act)
        case MaterialRequested():
            opinion = state.opinions.get(event.opinion_id) if event.opinion_id else None
            state.materials.append(Material(event, act, opinion.current.content.revision if opinion else None))
        case DecisionRecorded():
            state.decisions.append(Entry(event, act))
        case TaskAssigned():
            state.tasks.append(Entry(event, act))
        case ClockSuspended() | ClockResumed():
            state.clock.append(Entry(event, act))
        case HandRaised():
            state.hands.append(Entry(event, act))
        case PresentationStarted():
            state.presentation = Entry(event, act)
        case PresentationStopped():
            state.presentation = None
        case RecordingStarted():
            state.recordings.setdefault(event.recording_key, RecordingSpan(
                event.recording_key, event.consent_notice, logged.ts))
        case RecordingStopped():
            span = state.recordings.get(event.recording_key)
            if span is not None and span.stopped is None:
                span.stopped = logged.ts
    if isinstance(event, ACTS):
        _acted(state, logged.actor_id)
    return state


def _status(state: ReviewState, event: MeetingStatusChanged, logged: Logged) -> None:
    state.status = event.to
    if event.to is MeetingStatus.LIVE and state.started is None:
        state.started = logged.ts
    elif event.to is MeetingStatus.ENDED:
        state.ended, state.closing_note = logged.ts, event.note


def _link(state: ReviewState, event: LinkDegraded | LinkRecovered, logged: Logged) -> None:
    """Open an episode (one at a time, only while here) or close the open one; an episode still
    open when the participant leaves ends with the leave (Presence.degraded_s)."""
    presence = state.presences.get(event.participant_id)
    if presence is None or not presence.here:
        return
    open_span = presence.degraded[-1] if presence.degraded and presence.degraded[-1].until is None else None
    if isinstance(event, LinkRecovered):
        if open_span is not None:
            open_span.until = logged.ts
    elif open_span is None:
        presence.degraded.append(DegradedSpan(datetime.fromisoformat(event.since), None, event.layer,
                                              event.wanted, event.layers, event.reason))


def _agenda_item(state: ReviewState, event: AgendaItemOpened | AgendaItemClosed) -> AgendaItem | None:
    """The item an agenda event names; on a log-only state, learnt when first named."""
    key = (event.project_code, event.item_name)
    if key not in state.agenda and not state.agenda_fixed:
        state.agenda[key] = AgendaItem(AgendaRef(event.position, event.project_code, event.item_name))
    return state.agenda.get(key)


def _opinion(state: ReviewState, event: OpinionSubmitted | OpinionAmended, act: Act) -> None:
    revision = OpinionRevision(event, act)
    opinion = state.opinions.get(event.opinion_id)
    if opinion is None:
        state.opinions[event.opinion_id] = Opinion(event.opinion_id, event.project_code, event.item_name,
                                                   event.department_code, [revision])
    else:
        opinion.revisions.append(revision)


def _confirmation(state: ReviewState, event: OpinionConfirmed, act: Act) -> None:
    """A confirmation counts for the revision it names, and only while that revision is current:
    one naming another revision (read before an amendment crossed it) confirms nothing."""
    opinion = state.opinions.get(event.opinion_id)
    if opinion is not None and opinion.current.content.revision == event.revision:
        opinion.confirmations.append(Entry(event, act))


def _acted(state: ReviewState, user_id: int | None) -> None:
    """Count the act for the actor's presence in the room (their latest one), if they are in it."""
    if user_id is None:
        return
    presence = next((p for p in reversed(state.presences.values()) if p.user_id == user_id and p.here), None)
    if presence is not None:
        presence.acts += 1
