"""Record types of the demo data (server.demo.data) and how its meeting events name people.

Plain frozen dataclasses, no database code: the loader walks the constants of server.demo.data and
maps these records onto the models. Field names follow server.db.models where a column exists
(`document_no`, `scale_content`, `suspend_notice_no`, ...); the extra fields (e.g. `decided_on`,
`kind`) are information the loader may use or ignore.

Vocabularies (the values are the domain enums' stored values):
- level: "province" | "city" | "county" (省/市/县)
- role: "admin" | "chair" | "chief_rep" | "applicant" | "agent" | "archivist"
- post: "A" | "B" (AB工作制); None for everyone but chief representatives
- category: "approval" (审批制) | "ratification" (核准制) | "filing" (备案制)
- investor_type: "government" | "enterprise"
- item status: "pending" | "accepted" | "in_review" | "suspended" | "approved" | "rejected" | "withdrawn"
- meeting status: "scheduled" | "ended"
- invitation capacity: "member" (出席, gives opinions) | "observer" (列席) | "applicant"
- opinion kind: "agree" | "agree_in_principle" | "conditional" | "disagree" | "refer_upward"

Meeting events
==============
A meeting's `events` are in log order; `offset_s` counts seconds from the meeting's actual start
(timestamp = actual_start + offset_s, never decreasing). `actor` is a username or None (a person
without an account, e.g. a township official sitting in). Types and payloads are the record's
(record.events), written as plain dicts, except where people are named: for the data's own
convenience they are named by username and display name, and the loader
(server.demo.record_events) turns them into the record's ids:

Type                  Demo payload keys (the loader writes the record's)
--------------------  ------------------------------------------------------------------------------
participant_joined    username|None, display_name, unit_name, capacity, department_code|None,
                      organisation_credit_code|None, post ("A"|"B"|None), stands_in_for (the A-post
                      username a B post replaces, else None), site_key
participant_left      username|None, display_name, reason|None
speaking_started      speaker_name (a participant's display name), site_key, summary (gist for the
                      minutes writer, not a transcript)
chat_message          text, to (username, or None for everyone)

The meeting starts and ends by `meeting_status_changed` (to "live"; to "ended" with the chair's
closing summary as its note). The clock events mirror the Suspension records of the item (same
notice numbers and dates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Division:
    """An administrative division (GB/T 2260 code)."""

    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class Department:
    """A government department. kind: "approval" (holds approval items; stationed departments send
    an A and a B chief representative), "office" (the 并联审批办公室: the chairs' unit, no chief
    representatives), "service" (the 政务服务管理局 running the centre; it also has A/B posts)."""

    code: str
    name: str
    short_name: str
    division_code: str
    kind: str
    stationed_at_centre: bool


@dataclass(frozen=True)
class Organisation:
    """An applicant unit (申请单位). The credit codes are synthetic but valid (GB 32100-2015)."""

    credit_code: str
    name: str
    kind: str  # "enterprise" | "government"
    division_code: str  # where it is registered (characters 3-8 of the credit code)
    address: str
    legal_representative: str
    contact: str
    contact_title: str
    phone: str


@dataclass(frozen=True)
class User:
    """An account. department_code: chief_rep (with post) and chair only; organisation_credit_code:
    applicant only (an agent acts through a Commission); admin, agent and archivist have neither,
    their unit is in `title`."""

    username: str
    password: str
    role: str
    display_name: str
    title: str
    department_code: str | None = None
    post: str | None = None
    organisation_credit_code: str | None = None
    phone: str = ""


@dataclass(frozen=True)
class Commission:
    """An agent's written commission (委托书) to act for an applicant organisation."""

    document_no: str
    agent_username: str
    organisation_credit_code: str
    granted_on: date
    revoked_on: date | None
    project_code: str | None
    scope: str


@dataclass(frozen=True)
class Suspension:
    """中止/恢复办理 of one item; days start..end (both included) are off the clock; end None = still
    suspended."""

    start: date
    end: date | None
    reason: str
    suspend_notice_no: str
    resume_notice_no: str = ""


@dataclass(frozen=True)
class ApprovalItem:
    """One approval matter of a case. statutory/promised limits are working days (promised <=
    statutory, >= 1). accepted_on None = not yet accepted (status "pending"). decided_on is set for
    approved/rejected/withdrawn, with document_no for approved/rejected."""

    name: str
    department_code: str
    level: str
    accepted_on: date | None
    statutory_limit_wd: int
    promised_limit_wd: int
    status: str
    result: str = ""
    decided_on: date | None = None
    document_no: str = ""
    suspensions: tuple[Suspension, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Case:
    """An investment project under approval (brief §2). total_investment: 万元 as a decimal string."""

    project_code: str
    name: str
    organisation_credit_code: str
    division_code: str
    town: str
    address: str
    total_investment: str
    scale_content: str
    category: str
    industry: str
    investor_type: str
    funding_source: str
    planned_start: date
    planned_finish: date
    lead_department_code: str
    """The approving department (审批部门, cases.approving_department_id): it leads the case's meetings."""
    items: tuple[ApprovalItem, ...]
    agent_username: str | None = None


@dataclass(frozen=True)
class Site:
    """A video site (视频会商点) of a meeting; exactly one per meeting is the host."""

    key: str
    name: str
    level: str
    division_code: str
    department_code: str | None
    is_host: bool = False


@dataclass(frozen=True)
class Invitation:
    """An invited department (department_code) or applicant organisation (organisation_credit_code).

    excused_reason: non-empty = 请假. attended_by (ended meetings only): the username who attended,
    for a department its A or B post; must agree with the participant_joined events."""

    capacity: str
    site_key: str
    department_code: str | None = None
    organisation_credit_code: str | None = None
    excused_reason: str = ""
    attended_by: str | None = None


@dataclass(frozen=True)
class OtherAttendee:
    """A person sitting in (列席) without an account and outside DEPARTMENTS/ORGANISATIONS."""

    unit_name: str
    person_name: str
    title: str
    site_key: str


@dataclass(frozen=True)
class AgendaRef:
    """An agenda entry: one approval item, named by its case and item name; position = order."""

    project_code: str
    item_name: str


@dataclass(frozen=True)
class Event:
    """One meeting event; see the table in the module docstring."""

    offset_s: int
    actor: str | None
    type: str
    payload: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Meeting:
    """A parallel approval meeting. Datetimes are aware (UTC+08:00)."""

    key: str
    title: str
    status: str
    scheduled_start: datetime
    scheduled_end: datetime
    place: str
    chair_username: str
    lead_department_code: str
    created_by_username: str
    sites: tuple[Site, ...]
    invitations: tuple[Invitation, ...]
    agenda: tuple[AgendaRef, ...]
    other_attendees: tuple[OtherAttendee, ...] = ()
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    minutes_no: str = ""
    events: tuple[Event, ...] = ()
