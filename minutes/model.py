"""The structured minutes (会议纪要) of one meeting: what every rendering and the archive hold.

Everything a reader needs is resolved here (names, Chinese labels, due dates as dates, local times
as strings), so renderers only lay it out and the JSON form reads on its own. Times are local
(the centre's offset) ISO strings, dates ISO "YYYY-MM-DD".
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Site(_Part):
    name: str
    level: str
    level_label: str
    is_host: bool


class Attendee(_Part):
    name: str
    title: str = ""
    post: str | None = None
    post_label: str = ""
    stands_in_for: str | None = Field(None, description="the A post a B post acts for (AB工作制)")


class AttendingUnit(_Part):
    """One line of 出席/列席: a unit and who came for it."""

    code: str | None
    name: str
    people: list[Attendee]


class AbsentUnit(_Part):
    """One line of 请假: an invited department nobody came for, and what its absence means."""

    code: str
    name: str
    reason: str
    policy: str = Field(description="deemed_accept | pending")
    statement: str = Field(description="the centre's policy applied to this department, in words")
    opinion_due: str | None = Field(None, description="date the written opinion is due (pending)")


class Attendance(_Part):
    present: list[AttendingUnit] = Field(description="出席: member departments that attended")
    absent: list[AbsentUnit] = Field(description="请假: member departments that did not attend")
    observers: list[AttendingUnit] = Field(description="列席: observers, the applicant, guests")


class Case(_Part):
    project_code: str
    name: str
    applicant: str
    applicant_credit_code: str
    location: str
    total_investment: str = Field(description="万元")
    scale_content: str
    category: str
    category_label: str
    industry: str


class RecordingLink(_Part):
    recording_key: str
    offset_s: int
    url: str


class Amendment(_Part):
    revision: int
    at: str
    reason: str


class Opinion(_Part):
    """A department's final opinion on an item (the last revision) and how it got there."""

    opinion_id: str
    department_code: str
    department: str
    kind: str
    kind_label: str
    text: str
    conditions: list[str]
    reasons: str
    legal_basis: str
    remedy_notice: str
    refer_to: str | None
    refer_to_name: str | None
    given_by: str
    post: str | None
    post_label: str
    revision: int
    amendments: list[Amendment] = Field(description="the amendments that led to this revision, oldest first")
    at: str
    recording: RecordingLink | None


class AbsentOpinion(_Part):
    """What stands in an item's opinions for an absent member department."""

    department_code: str
    department: str
    statement: str


class Item(_Part):
    position: int
    project_code: str
    name: str
    department_code: str
    department: str
    level_label: str
    accepted_on: str | None
    promised_limit_wd: int
    statutory_limit_wd: int
    outcome: str = Field(description="the chair's closing result for the item (editable)")
    opinions: list[Opinion]
    absent: list[AbsentOpinion]


class Material(_Part):
    """A material the applicant must supplement (one line of the 一次性告知书)."""

    request_id: str
    project_code: str
    item_name: str
    item_position: int | None
    department_code: str
    department: str
    material: str
    detail: str
    due_working_days: int
    due_date: str
    provisional: bool = Field(description="the due date crosses a year without a confirmed calendar")


class Task(_Part):
    task_id: str
    project_code: str | None
    item_name: str | None
    text: str
    due_working_days: int
    due_date: str
    provisional: bool


class DepartmentTasks(_Part):
    department_code: str
    department: str
    tasks: list[Task]


class Referral(_Part):
    """An item a department says must go to a higher level (需转报上级)."""

    opinion_id: str
    project_code: str
    item_name: str
    from_department: str
    to_department_code: str | None
    to_department: str | None
    text: str


class Decision(_Part):
    decision_id: str
    project_code: str | None
    item_name: str | None
    text: str


class ClockEntry(_Part):
    """A suspension (中止) or resumption (恢复) of an item's clock, with its notice."""

    kind: str = Field(description="suspended | resumed")
    label: str
    project_code: str
    item_name: str
    department: str
    notice_no: str
    effective_date: str
    reason: str


class RecordingSpan(_Part):
    recording_key: str
    started_at: str
    stopped_at: str | None
    consent_notice: str


class Confirmation(_Part):
    """A department's confirmation of the minutes (filled by the minutes workflow)."""

    department: str
    person: str
    at: str
    note: str = ""


class SourceLog(_Part):
    events: int
    head_hash: str | None


class Minutes(_Part):
    """The minutes of one meeting; build_minutes makes them, apply_edits changes the free text."""

    schema_version: int = SCHEMA_VERSION
    number: str
    version: int
    title: str
    issuer: str
    meeting_id: int
    meeting_title: str
    date: str
    start: str
    end: str | None
    place: str
    sites: list[Site]
    chair: Attendee
    chair_unit: str
    attendance: Attendance
    absent_policy: str
    absent_policy_statement: str
    cases: list[Case]
    items: list[Item]
    materials: list[Material]
    tasks: list[DepartmentTasks]
    referrals: list[Referral]
    decisions: list[Decision]
    clock: list[ClockEntry]
    recordings: list[RecordingSpan]
    summary: str = Field(description="the chair's closing summary (editable)")
    distribution: list[str]
    confirmations: list[Confirmation] = []
    source_log: SourceLog | None = None
