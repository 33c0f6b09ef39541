"""Every event a meeting's log holds, as a typed and versioned model, in one discriminated union.

The event log is the record the minutes, the archive and the recording chapters are made from, so
what goes in is checked on the way in: ``parse_event(type, payload)`` refuses an unknown type, a
missing or unknown key, a value of the wrong type or outside the vocabulary (``EventError``, a
ValueError with a bilingual message), and ``payload_of(event)`` gives back the JSON-safe payload
that is stored and hashed (server.domain.eventlog). A stored payload is always exactly
``payload_of(parse_event(type, payload))``: defaults are written out, so nothing is translated or
filled in on read.

One dialect: people are named by ids (``user_id``, ``department_id``; guests without an account by
name and unit), departments in opinions, materials and tasks by their code, agenda items by project
code and item name (how the minutes and the archive name them). Meeting start and end are status
changes (``meeting_status_changed`` to live / ended; the note of the end is the chair's summary).

Versioning: every payload carries ``schema_version``. A shape that changes gets a new version and
an alembic data migration that rewrites the stored rows (and keeps the trail that lets the old
hash chain be verified, see docs/architecture.md "The record"), so readers only ever see the
current version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from record.vocab import Capacity, MeetingStatus, OpinionKind, Post

SCHEMA_VERSION: Final = 1


def _storable(value: str) -> str:
    """What the hash-chained log can store byte for byte (server.domain.eventlog)."""
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate)")
    return value


def _iso_date(value: str) -> str:
    date.fromisoformat(value)
    return value


def _iso_datetime(value: str) -> str:
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError("a time in the record must carry its time zone")
    return value


Text = Annotated[str, AfterValidator(_storable)]
Id = Annotated[int, Field(ge=1, le=2**53 - 1)]
Count = Annotated[int, Field(ge=0, le=2**53 - 1)]
IsoDateTime = Annotated[str, AfterValidator(_iso_datetime)]
"""Kept as written (a datetime would be re-printed differently and change the hash)."""
IsoDate = Annotated[str, AfterValidator(_iso_date)]
MediaKind = Literal["audio", "video", "screen"]
# Enum fields accept their plain stored value (the log is JSON), the rest of a payload is strict.
Vocab = Field(strict=False)


class EventError(ValueError):
    """An event the record does not take; ``problems`` names each wrong key."""

    def __init__(self, type: str, problems: list[str]) -> None:
        super().__init__(f"事件 {type} 不符合记录格式 / event {type} does not fit the record: "
                         + "; ".join(problems))
        self.type = type
        self.problems = problems


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    schema_version: Literal[1] = SCHEMA_VERSION


# -- people in the room ----------------------------------------------------------------------


class ParticipantJoined(_Event):
    """Someone entered the live meeting. ``via``: signed in and invited ("session"), by a join
    link ("token"), admitted from the lobby ("lobby")."""

    type: Literal["participant_joined"] = "participant_joined"
    participant_id: Text
    user_id: Id | None
    display_name: Text
    unit: Text
    capacity: Capacity = Vocab
    department_id: Id | None
    post: Post | None = Vocab
    token_id: Text | None
    """The join link's id (join_tokens.id) when it came by one."""
    via: Literal["session", "token", "lobby"]


class ParticipantLeft(_Event):
    type: Literal["participant_left"] = "participant_left"
    participant_id: Text
    user_id: Id | None
    display_name: Text
    reason: Text | None
    duration_ms: Count


class ProducerPublished(_Event):
    type: Literal["producer_published"] = "producer_published"
    participant_id: Text
    producer_id: Text
    kind: MediaKind
    mime_type: Text


class ProducerUnpublished(_Event):
    type: Literal["producer_unpublished"] = "producer_unpublished"
    participant_id: Text
    producer_id: Text
    kind: MediaKind


class _MediaToggle(_Event):
    participant_id: Text
    user_id: Id | None
    kind: MediaKind


class ParticipantMuted(_MediaToggle):
    """The chair muted someone's microphone or camera."""

    type: Literal["participant_muted"] = "participant_muted"


class ParticipantUnmuted(_MediaToggle):
    type: Literal["participant_unmuted"] = "participant_unmuted"


class ParticipantPaused(_MediaToggle):
    """Camera or microphone switched off by its owner: recordings show a gap."""

    type: Literal["participant_paused"] = "participant_paused"


class ParticipantResumed(_MediaToggle):
    type: Literal["participant_resumed"] = "participant_resumed"


class ScreenShareStopped(_Event):
    type: Literal["screen_share_stopped"] = "screen_share_stopped"
    participant_id: Text
    user_id: Id | None


class ParticipantRemoved(_Event):
    type: Literal["participant_removed"] = "participant_removed"
    participant_id: Text
    user_id: Id | None
    display_name: Text


class MeetingLocked(_Event):
    type: Literal["meeting_locked"] = "meeting_locked"


class MeetingUnlocked(_Event):
    type: Literal["meeting_unlocked"] = "meeting_unlocked"


class _LobbyDecision(_Event):
    user_id: Id | None
    display_name: Text
    unit: Text


class LobbyAdmitted(_LobbyDecision):
    type: Literal["lobby_admitted"] = "lobby_admitted"


class LobbyRejected(_LobbyDecision):
    type: Literal["lobby_rejected"] = "lobby_rejected"


class SpeakingStarted(_Event):
    """The floor went to a participant (the room's active speaker). ``summary`` is an optional
    gist for the minutes writer, never a transcript."""

    type: Literal["speaking_started"] = "speaking_started"
    participant_id: Text
    user_id: Id | None
    display_name: Text
    summary: Text = ""


class _LinkEpisode(_Event):
    """A site's received video below what its tiles want, sustained (server.sfu.degradation: at
    least 10 s, one episode per site per minute). ``since``: when it went below; layers count from
    0 (the lowest) of ``layers`` the publisher sends; ``reason``: loss, a growing round trip (rtt)
    or a link that could not carry the next layer up (bandwidth)."""

    participant_id: Text
    user_id: Id | None
    since: IsoDateTime
    layer: Count
    wanted: Count
    layers: Count
    reason: Literal["bandwidth", "loss", "rtt"]


class LinkDegraded(_LinkEpisode):
    type: Literal["link_degraded"] = "link_degraded"


class LinkRecovered(_LinkEpisode):
    """The episode that began at ``since`` is over (its payload repeats how it began)."""

    type: Literal["link_recovered"] = "link_recovered"


class JoinTokenIssued(_Event):
    type: Literal["join_token_issued"] = "join_token_issued"
    token_id: Text
    user_id: Id | None
    guest_name: Text
    guest_unit: Text
    capacity: Capacity = Vocab
    expires_at: IsoDateTime


# -- the meeting's plan and life cycle ----------------------------------------------------------


class SitePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Text
    division_code: Text
    level: Text


class _Plan(_Event):
    """The meeting's plan (times in UTC ISO-8601, everything else by id)."""

    title: Text
    start: IsoDateTime
    end: IsoDateTime
    place: Text
    chair_id: Id
    lead_department_id: Id
    agenda_item_ids: list[Id]
    member_department_ids: list[Id]
    observer_department_ids: list[Id]
    organisation_ids: list[Id]
    sites: list[SitePlan]


class MeetingScheduled(_Plan):
    type: Literal["meeting_scheduled"] = "meeting_scheduled"


class MeetingUpdated(_Plan):
    """The whole plan after a change; ``changed`` names the fields, ``previous_chair_id`` is the
    chair before it (equal to ``chair_id`` when the chair did not change)."""

    type: Literal["meeting_updated"] = "meeting_updated"
    changed: list[Text]
    previous_chair_id: Id


class MeetingStatusChanged(_Event):
    """Going live starts the meeting, "ended" ends it; the note of the end is the chair's closing
    summary."""

    type: Literal["meeting_status_changed"] = "meeting_status_changed"
    from_: MeetingStatus = Field(alias="from", strict=False)
    to: MeetingStatus = Vocab
    note: Text


class InvitationExcused(_Event):
    """请假: an invited department will not attend, with its reason."""

    type: Literal["invitation_excused"] = "invitation_excused"
    invitation_id: Id
    department_id: Id
    reason: Text


# -- the review ---------------------------------------------------------------------------------


class _AgendaEvent(_Event):
    project_code: Text
    item_name: Text
    position: Annotated[int, Field(ge=1)]


class AgendaItemOpened(_AgendaEvent):
    type: Literal["agenda_item_opened"] = "agenda_item_opened"


class AgendaItemClosed(_AgendaEvent):
    type: Literal["agenda_item_closed"] = "agenda_item_closed"
    outcome: Text
    """One-line result for the minutes."""


class HandRaised(_Event):
    type: Literal["hand_raised"] = "hand_raised"
    purpose: Text


class ChatMessage(_Event):
    """``to``: the user id of a private message's addressee, None for everyone."""

    type: Literal["chat_message"] = "chat_message"
    text: Text
    to: Id | None


class _OpinionContent(_Event):
    """A department's complete opinion on an item, as of one revision."""

    opinion_id: Text
    revision: Annotated[int, Field(ge=1)]
    project_code: Text
    item_name: Text
    department_code: Text
    post: Post = Vocab
    """The post of whoever gave this revision (A, or B standing in)."""
    kind: OpinionKind = Vocab
    text: Text
    conditions: list[Text]
    reasons: Text
    legal_basis: Text
    remedy_notice: Text
    refer_to: Text | None
    """For 需转报上级: the department code the matter goes up to."""


class OpinionSubmitted(_OpinionContent):
    type: Literal["opinion_submitted"] = "opinion_submitted"


class OpinionAmended(_OpinionContent):
    """A later revision of the same ``opinion_id`` (full new content, revision + 1); it replaces
    the earlier one, which stays in the record."""

    type: Literal["opinion_amended"] = "opinion_amended"
    amendment_reason: Text


class OpinionConfirmed(_Event):
    """The department's representative (A post, or B standing in while A is away) read the opinion
    as it will print in the minutes and confirmed it in the room. It belongs to that revision: an
    amendment after it voids it, and the department is asked again after the meeting."""

    type: Literal["opinion_confirmed"] = "opinion_confirmed"
    opinion_id: Text
    revision: Annotated[int, Field(ge=1)]
    department_code: Text
    post: Post = Vocab
    """The post of whoever confirmed (A, or B standing in)."""


class MaterialRequested(_Event):
    type: Literal["material_requested"] = "material_requested"
    request_id: Text
    opinion_id: Text | None
    project_code: Text
    item_name: Text
    department_code: Text
    material: Text
    detail: Text
    due_working_days: Annotated[int, Field(ge=1)]


class DecisionRecorded(_Event):
    """议定事项; without an item it concerns the case (or the whole meeting without a case)."""

    type: Literal["decision_recorded"] = "decision_recorded"
    decision_id: Text
    project_code: Text | None
    item_name: Text | None
    text: Text


class TaskAssigned(_Event):
    type: Literal["task_assigned"] = "task_assigned"
    task_id: Text
    department_code: Text
    project_code: Text | None
    item_name: Text | None
    text: Text
    due_working_days: Annotated[int, Field(ge=1)]


class PresentationStarted(_Event):
    type: Literal["presentation_started"] = "presentation_started"
    title: Text
    file_name: Text
    page_count: Count


class PresentationStopped(_Event):
    type: Literal["presentation_stopped"] = "presentation_stopped"
    title: Text


class RecordingStarted(_Event):
    type: Literal["recording_started"] = "recording_started"
    recording_key: Text
    consent_notice: Text
    """What the room announced."""


class RecordingStopped(_Event):
    type: Literal["recording_stopped"] = "recording_stopped"
    recording_key: Text


class _ClockNotice(_Event):
    """中止/恢复办理 of an item, backed by a notice; mirrors the item's suspension records."""

    project_code: Text
    item_name: Text
    department_code: Text
    notice_no: Text
    effective_date: IsoDate
    reason: Text


class ClockSuspended(_ClockNotice):
    type: Literal["clock_suspended"] = "clock_suspended"


class ClockResumed(_ClockNotice):
    type: Literal["clock_resumed"] = "clock_resumed"


Event = Annotated[
    ParticipantJoined | ParticipantLeft | ProducerPublished | ProducerUnpublished | ParticipantMuted
    | ParticipantUnmuted | ParticipantPaused | ParticipantResumed | ScreenShareStopped
    | ParticipantRemoved | MeetingLocked | MeetingUnlocked | LobbyAdmitted | LobbyRejected
    | SpeakingStarted | LinkDegraded | LinkRecovered | JoinTokenIssued | MeetingScheduled | MeetingUpdated
    | MeetingStatusChanged | InvitationExcused | AgendaItemOpened | AgendaItemClosed | HandRaised | ChatMessage
    | OpinionSubmitted | OpinionAmended | OpinionConfirmed | MaterialRequested | DecisionRecorded | TaskAssigned
    | PresentationStarted | PresentationStopped | RecordingStarted | RecordingStopped
    | ClockSuspended | ClockResumed,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].default: model for model in get_args(get_args(Event)[0])}
"""Event type -> its model."""
EVENT_TYPES = frozenset(MODELS)


def payload_keys(type: str) -> frozenset[str]:
    """The keys every stored payload of this type has (by their stored names)."""
    model = MODELS[type]
    return frozenset(field.alias or name for name, field in model.model_fields.items() if name != "type")


def parse_event(type: str, payload: dict[str, Any]) -> Event:
    """The typed event, or EventError naming what is wrong (unknown type, missing, unknown or
    mistyped keys)."""
    if type not in MODELS:
        raise EventError(type, [f"未知的事件类型 / unknown event type {type!r}"])
    if not isinstance(payload, dict) or "type" in payload:
        raise EventError(type, ["事件内容须为不含 type 的对象 / the payload must be an object without 'type'"])
    try:
        return _EVENT.validate_python({**payload, "type": type})
    except ValidationError as exc:
        raise EventError(type, [f"{'.'.join(str(p) for p in error['loc'][1:]) or '(payload)'}: {error['msg']}"
                                for error in exc.errors(include_url=False)]) from None


def payload_of(event: BaseModel) -> dict[str, Any]:
    """The JSON-safe payload that is stored and hashed: every key, by its stored name, no type."""
    return event.model_dump(mode="json", by_alias=True, exclude={"type"})


@dataclass(frozen=True)
class Logged:
    """An event as the log holds it: when (aware), by whom (a user id; None for the system or a
    guest), and in which place of the meeting's log (None while it is not yet stored)."""

    ts: datetime
    actor_id: int | None
    event: Event
    seq: int | None = None
