"""The structured minutes (会议纪要) of one meeting: what every rendering and the archive hold.

Everything a reader needs is resolved here (names, Chinese labels, due dates as dates, local times
as strings), so renderers only lay it out and the JSON form reads on its own. Times are local
(the centre's offset) ISO strings, dates ISO "YYYY-MM-DD".
"""

from __future__ import annotations

from typing import Literal

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
    poor_link_minutes: int = Field(0, description="网络不佳: minutes their site's received video was "
                                                  "degraded (the record's link_degraded episodes), rounded up")


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


class CaseClock(_Part):
    """A case's clock against the centre's promise (by management category) on the meeting's date,
    exactly as the server's one clock computation gives it (server.services.clock.case_clocks, the
    figures the case list, the case page and the archive show): the minutes cannot print another."""

    state: str = Field(description="not_started | running | suspended | excluded | waiting | decided")
    state_label: str
    limit_wd: int = Field(description="the centre's promised limit in working days")
    start: str | None = Field(description="the case's first acceptance")
    used: int | None
    left: int | None = Field(description="against the promised limit; negative once overdue")
    deadline: str | None
    overdue: bool
    suspended: bool
    provisional: bool = Field(description="depends on a year without a confirmed holiday table")


class ItemClock(_Part):
    """An item's clock on the meeting's date from the same computation (case_clocks): used and
    left are against the item's promised limit."""

    state: str
    state_label: str
    used: int | None
    left: int | None
    promised_deadline: str | None
    statutory_deadline: str | None
    overdue: bool
    statutory_overdue: bool
    suspended: bool
    provisional: bool


class Agency(_Part):
    """The 代办员 an applicant commissioned (全程免费代办): named with the case in the minutes and as
    a co-addressee of the 一次性告知书, who may sign its 送达回证 for the applicant."""

    agent: str
    title: str = Field("", description="where the agent serves, e.g. 洛党镇为民服务中心代办员")
    document_no: str = Field(description="the commission's document number (委托书编号)")


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
    clock: CaseClock | None = Field(None, description="on the meeting's date; None when not given")
    agency: Agency | None = None
    notice_number: str = Field("", description="文号 of the 一次性告知书 to this case's applicant "
                                               "(minutes.notice.notice_number); empty in minutes stored before it")


class Presentation(_Part):
    """Material the applicant's side showed in the meeting (presentation_started), by whom."""

    at: str
    title: str
    file_name: str
    page_count: int
    presenter: str
    unit: str
    project_codes: list[str] = Field(description="the cases of the presenter's organisation; empty: not known")


class Statement(_Part):
    """What the applicant's side said when given the floor, as the record's gist (speaking_started
    summary), never a transcript."""

    at: str
    speaker: str
    unit: str
    summary: str
    project_codes: list[str]


class RecordingLink(_Part):
    recording_key: str
    offset_s: int
    url: str


class Amendment(_Part):
    """One amendment of an opinion: when (local time), by whom with which post, why, and whether
    it was made during the meeting or after it (a post-meeting amendment is printed as such)."""

    revision: int
    at: str
    reason: str
    phase: str = Field("", description="before | during | after the meeting (record.vocab.Phase); "
                                       "empty in minutes stored before it was recorded")
    phase_label: str = ""
    by: str = ""
    post: str | None = None
    post_label: str = ""


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
    """What stands in a reviewed item's opinions for a department that gave none: an absent member
    department (the centre's policy, unless it must give a written opinion), or the item's own
    lead department, which is never deemed to agree on its own item."""

    department_code: str
    department: str
    status: str = Field("", description="deemed_accept | pending | written_opinion (a task asks for it) | "
                                    "own_opinion_required (the item's lead department)")
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
    reviewed: bool = Field(True, description="opened in the meeting; an item never opened is 未审议 (follow-up)")
    outcome: str = Field(description="the chair's closing result for the item (editable)")
    opinions: list[Opinion]
    absent: list[AbsentOpinion] = Field(description="empty for an item not reviewed: nobody is deemed "
                                                    "to have agreed to what was never discussed")
    clock: ItemClock | None = Field(None, description="on the meeting's date; None when not given")


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
    legal_basis: str = Field("", description="why it is asked for: the legal basis of the opinion it came "
                                             "with, else of the department's opinion on the item")


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
    date: str = Field(description="the meeting's local date: the day it went live, else the planned day")
    start: str = Field(description="local: when the meeting went live in the record, else as planned")
    start_planned: bool = Field(False, description="the record has no start: `start` is the planned time")
    end: str | None = Field(description="local: when the meeting was ended in the record")
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
    presentations: list[Presentation] = []
    statements: list[Statement] = Field([], description="the applicant's side's words, as recorded gists")
    recorder: str = Field("", description="记录人: who kept the record of the meeting")
    compiler: str = Field("", description="整理人: who generated and edited the draft")
    distribution: list[str]
    confirmations: list[Confirmation] = []
    source_log: SourceLog | None = None
    masthead: str = Field("", description="纪要标志 printed in red at the head (centre settings); "
                                          "empty: the title stands alone")
    printer: str = Field("", description="印发机关 of the 版记 (centre settings); empty: the issuer")
    contact_phone: str = Field("", description="the centre's telephone for applicants (一次性告知书)")
    status: Literal["draft", "awaiting_confirmation", "final", "superseded"] = Field(
        "draft", description="the version's standing: the paper of an open version says 征求意见稿")
    correction: str = Field("", description="why this version corrects the previous final one (version > 1)")
    issued_on: str | None = Field(None, description="印发日期 of this version; None: the meeting's date")
