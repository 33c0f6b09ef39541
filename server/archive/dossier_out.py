"""What a case's dossier shows (the API's answer, the page, a bag's metadata.json): the shapes
only; server.archive.dossier fills them from the record."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, computed_field

from server.schemas.base import Out
from server.services.clock import CaseClock, ItemClock


class Note(Out):
    """A note for people in both languages: the page shows the reader's, a package keeps both."""

    zh: str
    en: str

    def both(self) -> str:
        return f"{self.zh} / {self.en}"


class DossierFileOut(Out):
    name: str
    media_type: str
    note: Note
    sha256: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def description(self) -> str:
        """Both languages in one line (the API's and a bag's metadata.json field)."""
        return self.note.both()


class DossierGap(Out):
    name: str
    note: Note

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reason(self) -> str:
        """Both languages in one line (the API's and a bag's metadata.json field)."""
        return self.note.both()


class DossierSuspension(Out):
    kind: str
    start: date
    end: date | None
    reason: str
    suspend_notice_no: str
    resume_notice_no: str


class DossierItem(Out):
    id: int
    name: str
    department: str
    level: str
    status: str
    result: str
    document_no: str
    accepted_on: date | None
    decided_on: date | None
    statutory_limit_wd: int
    promised_limit_wd: int
    suspensions: list[DossierSuspension]
    clock: ItemClock


class DossierCase(Out):
    id: int
    project_code: str
    name: str
    applicant: str
    applicant_credit_code: str
    category: str
    total_investment: str
    items: list[DossierItem]
    clock: CaseClock
    clock_as_of: date = Field(description="the day the clocks were read (the centre's date)")


class DossierMinutesVersion(Out):
    id: int
    version: int
    status: str
    sha256: str | None
    reason: str
    finalised_at: datetime | None
    finalise_note: str
    files: list[str]


class DossierMinutes(Out):
    number: str
    versions: list[DossierMinutesVersion]


class DossierTrack(Out):
    display_name: str
    department: str | None
    unit: str | None
    kind: str
    file: str
    duration_ms: int
    sha256: str
    state: str


class DossierRecording(Out):
    key: str
    started_at: datetime | None
    stopped_at: datetime | None
    duration_ms: int | None
    status: str
    tracks: list[DossierTrack]
    playback: str | None  # the dossier file name of the composed video
    error: str


class DossierJump(Out):
    """Where an event happened in a recording (for 'show me the moment')."""

    recording_key: str
    at_ms: int
    playback: str | None


class DossierEvent(Out):
    """One logged event as the dossier lists it: codes and names, never a sentence in one
    language, so the page words it in the reader's (its "what" column) and the API keeps the facts."""

    seq: int
    at: datetime
    type: str
    actor: str | None
    item: str | None = Field(description="the agenda item the event concerns, by name")
    opinion_kind: str | None = Field(description="an opinion's kind (record.vocab.OpinionKind)")
    status_from: str | None = Field(description="a status change's old meeting status")
    status_to: str | None = Field(description="a status change's new meeting status")
    subject: str | None = Field(description="whose camera, microphone or screen a media event is about, "
                                            "whose received video a link event")
    media: str | None = Field(description="audio, video or screen, for media events (video for link events)")
    text: str = Field(description="the record's own words: opinion, decision, note, chat…")
    jump: DossierJump | None


class DossierLog(Out):
    count: int
    head_hash: str | None
    intact: bool
    problems: list[str]


class DossierUnit(Out):
    """A unit invited to a meeting: a department or the applicant organisation."""

    name: str
    capacity: str  # record.vocab.Capacity
    excused_reason: str


class DossierMeeting(Out):
    id: int
    title: str
    status: str
    scheduled_start: datetime
    scheduled_end: datetime
    started: datetime | None = Field(description="when the record has it go live (local time); null before")
    ended: datetime | None = Field(description="when the record has it end (local time); null before")
    place: str
    chair: str
    lead_department: str
    units: list[DossierUnit]
    minutes: DossierMinutes | None
    recordings: list[DossierRecording]
    missing_recordings: list[str] = Field(
        description="keys the event log records as started whose files are not in storage")
    log: DossierLog
    events: list[DossierEvent]


class DossierOut(Out):
    case: DossierCase
    meetings: list[DossierMeeting]
    files: list[DossierFileOut]
    unavailable: list[DossierGap]
