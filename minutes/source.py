"""What the minutes are built from: plain data about the meeting, its cases and its event log.

The server fills this (server/services/minutes_source.py) from the database; tests and the
benchmark fill it directly. Nothing here reads a clock, a file or a database, so the same source
always builds the same minutes. The events are the record's (record.events), folded by the record's
reducer; the record's vocabularies (opinion kinds, posts) carry their own labels, the server's
(levels, case categories, item statuses) come in with the source because this library must not
import the server. So do the clocks: the server computes them once (server.services.clock) and
hands over the figures, in the shape the minutes print them (minutes.model.CaseClock, ItemClock).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from minutes.model import Agency, CaseClock, ItemClock

_SATURDAY = 5


class _Plain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WorkCalendar(_Plain):
    """The working-day table the due dates are counted on (the server's stored 调休 table).

    holidays: weekdays off; workdays: make-up working weekends; years not in confirmed_years are
    guessed Mon-Fri, and a due date that depends on one is marked provisional.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    confirmed_years: frozenset[int] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < _SATURDAY

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start excluded, 民法典 §201); n >= 1. Counting only
        working days means the result is never a holiday (§203 needs no extra step)."""
        if n < 1:
            raise ValueError(f"工作日数须为正整数: {n} / number of working days must be positive")
        day = start
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def provisional(self, start: date, end: date) -> bool:
        """Whether any year from start to end lacks a confirmed holiday table."""
        return any(year not in self.confirmed_years for year in range(start.year, end.year + 1))


class Labels(_Plain):
    """Chinese labels by stored value of the server's enums: level, category, item status."""

    level: dict[str, str]
    category: dict[str, str]
    item_status: dict[str, str] = {}


class Centre(_Plain):
    """The centre convening the meeting and its policy for absent departments (brief §4)."""

    name: str
    issuer: str = Field(description="the unit issuing the minutes (the parallel-approval office)")
    absent_policy: Literal["deemed_accept", "pending"]
    absent_opinion_due_working_days: int = Field(3, ge=1)
    utc_offset_minutes: int = Field(480, description="local time of the centre (China: UTC+8)")
    minutes_mark: str = Field("", description="纪要标志 at the head of the printed minutes")
    printer: str = Field("", description="印发机关 in the 版记; empty: the issuer")
    telephone: str = Field("", description="contact telephone printed for applicants")


class Department(_Plain):
    id: int | None = Field(None, description="the id the record's attendance names it by")
    code: str
    name: str
    level: str = Field(description="province | city | county")


class Person(_Plain):
    """Someone who may appear in the log as an actor or a participant."""

    user_id: int | None = None
    username: str | None = None
    display_name: str
    title: str = ""
    department_code: str | None = None
    post: str | None = Field(None, description="A | B for chief representatives")
    organisation_credit_code: str | None = Field(None, description="an applicant's organisation")


class Site(_Plain):
    name: str
    level: str
    is_host: bool = False


class Invitation(_Plain):
    """An invited unit. capacity: member (出席, gives opinions), observer (列席), applicant."""

    capacity: Literal["member", "observer", "applicant"]
    department_code: str | None = None
    organisation_name: str | None = None
    organisation_credit_code: str | None = None
    excused_reason: str = ""


class Item(_Plain):
    """An approval item on the agenda, at its agenda position."""

    position: int
    project_code: str
    name: str
    department_code: str
    level: str
    accepted_on: date | None = None
    statutory_limit_wd: int
    promised_limit_wd: int
    status: str
    clock: ItemClock | None = Field(None, description="its clock on the meeting's date, as the server's "
                                                      "one clock computation gives it")


class Case(_Plain):
    project_code: str
    name: str
    applicant_name: str
    applicant_credit_code: str
    location: str
    total_investment: str = Field(description="万元, decimal string with 2 places")
    scale_content: str
    category: str
    industry: str = ""
    clock: CaseClock | None = Field(None, description="its clock on the meeting's date, as the server's "
                                                      "one clock computation gives it")
    agency: Agency | None = Field(None, description="the applicant's commissioned agent (委托代办) as the "
                                                    "commission on record stands on the meeting's day")
    agent_user_id: int | None = Field(None, description="the agent's account: what they present is the applicant's")


class Event(_Plain):
    """One stored event of the record (record.events): seq order is log order; ts is aware (UTC)."""

    seq: int
    ts: datetime
    actor_id: int | None = None
    type: str
    payload: dict[str, Any]


class Meeting(_Plain):
    id: int
    title: str
    place: str
    scheduled_start: datetime
    scheduled_end: datetime
    chair: Person
    lead_department_code: str
    recorder: Person | None = Field(None, description="记录人: who set the meeting up and keeps its record "
                                                      "(the meeting's creator); None: the issuing office")


class LogHead(_Plain):
    """Where the hash-chained log stood when the minutes were built (for the archive)."""

    count: int
    head_hash: str | None


class MinutesSource(_Plain):
    """Everything build_minutes needs, and nothing it must fetch."""

    centre: Centre
    meeting: Meeting
    sites: tuple[Site, ...]
    departments: tuple[Department, ...] = Field(
        description="every department the log may name (tasks may go to units not at the table)")
    people: tuple[Person, ...]
    invitations: tuple[Invitation, ...]
    cases: tuple[Case, ...]
    items: tuple[Item, ...]
    events: tuple[Event, ...]
    calendar: WorkCalendar
    labels: Labels
    log: LogHead | None = None
    compilers: tuple[Person, ...] = Field((), description="整理人: who generated and edited the draft, in "
                                                          "order; empty: the issuing office")
