"""The database side of the minutes: one meeting, its cases and its event log as a MinutesSource.

The minutes library never imports the server, so everything it needs is read here and handed over
as plain data: the people and departments the record names by id, the working-day table as dates,
and the Chinese labels of the server's enums (so the library holds no copy of them). The events
are handed over exactly as stored: the log holds only the record's events (record.events), live
and demo alike, so nothing is translated on the way.

The clocks are the server's one computation (services.clock.case_clocks, the figures of the case
list, the case page, the API and the archive) on the meeting's date at the centre: the day the
record says it went live, else the day it was planned for. The working-day table is the same
calendar those clocks count on (services.calendar.load_calendar), so a year without a stored table
keeps its statutory fixed-date holidays (元旦, 清明, 劳动节, 国庆节) and stays unconfirmed.

Who the minutes name as 记录人 and 整理人 comes from what the database records, not from a setting:
the record is kept for the meeting's creator (the 并联审批办公室 account that set it up), and the
draft is compiled by whoever created its versions; before the first version exists (the draft
being generated now) that is the meeting's chair, the only one who may generate it
(minutes_workflow.generate_draft). An applicant's 代办员 is the agent of the commission on record
(agent_commissions) in force on the meeting's day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from minutes import model as mm, source as ms
from minutes.build import meeting_started
from record.events import ChatMessage, ParticipantJoined, ParticipantLeft, parse_event
from server.db.models import (
    AgentCommission,
    Department,
    Division,
    InvestmentCase,
    Meeting,
    MeetingEvent,
    MinutesDocument,
    MinutesVersion,
    User,
)
from server.domain.cases import ItemStatus, ManagementCategory
from server.domain.divisions import Level
from server.domain.workcalendar import WorkCalendar
from server.services import clock
from server.services.calendar import load_calendar
from server.services.clock import CENTRE_TZ
from server.services.eventlog import MeetingNotFound
from server.settings import Settings

_SATURDAY = 5
LABELS = ms.Labels(
    level={k.value: k.label_zh for k in Level},
    category={k.value: k.label_zh for k in ManagementCategory},
    item_status={k.value: k.label_zh for k in ItemStatus},
)


async def load_minutes_source(db: AsyncSession, meeting_id: int, settings: Settings) -> ms.MinutesSource:
    """Everything build_minutes needs for one meeting; MeetingNotFound if there is none."""
    meeting = await db.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound(meeting_id)
    rows = list(await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                                 .order_by(MeetingEvent.seq)))
    departments = {d.id: d for d in await db.scalars(select(Department))}
    people = await _people(db, meeting, rows)
    entries = sorted(meeting.agenda, key=lambda entry: entry.position)
    case_ids = list(dict.fromkeys(entry.item.case_id for entry in entries))
    cases = {c.id: c for c in await db.scalars(select(InvestmentCase).where(InvestmentCase.id.in_(case_ids)))}
    divisions = {d.code: d.name for d in await db.scalars(select(Division))}
    events = tuple(ms.Event(seq=r.seq, ts=r.ts, actor_id=r.actor_id, type=r.type, payload=r.payload) for r in rows)
    start = meeting_started(events) or meeting.scheduled_start
    meeting_day = start.astimezone(CENTRE_TZ).date()
    calendar = await load_calendar(db)
    case_clocks: dict[int, mm.CaseClock] = {}
    item_clocks: dict[int, mm.ItemClock] = {}
    for case in cases.values():
        limit = clock.promised_limit(settings.centre.promised_limits, ManagementCategory(case.category))
        case_clock, its_items = clock.case_clocks(calendar, limit, case.items, meeting_day)
        case_clocks[case.id] = _case_clock(case_clock)
        item_clocks |= {item.id: _item_clock(c) for item, c in zip(case.items, its_items, strict=True)}
    offset = start.astimezone(CENTRE_TZ).utcoffset()
    chair = meeting.chair
    agencies = await _agencies(db, [c.organisation_id for c in cases.values()], meeting_day)
    recorder = await db.get(User, meeting.created_by_id)
    issuer = chair.department.name if chair.department else settings.centre.name
    return ms.MinutesSource(
        centre=ms.Centre(name=settings.centre.name, issuer=issuer,
                         absent_policy=settings.centre.absent_policy,
                         absent_opinion_due_working_days=settings.centre.absent_opinion_due_working_days,
                         utc_offset_minutes=int(offset.total_seconds() // 60) if offset else 0,
                         minutes_mark=settings.centre.minutes_mark, printer=settings.centre.minutes_printer,
                         telephone=settings.centre.telephone),
        meeting=ms.Meeting(id=meeting.id, title=meeting.title, place=meeting.place,
                           scheduled_start=meeting.scheduled_start, scheduled_end=meeting.scheduled_end,
                           chair=_person(chair), lead_department_code=meeting.lead_department.code,
                           recorder=_person(recorder) if recorder else None),
        sites=tuple(ms.Site(name=s.name, level=s.level, is_host=s.name == meeting.place)
                    for s in sorted(meeting.sites, key=lambda s: s.id)),
        departments=tuple(ms.Department(id=d.id, code=d.code, name=d.name, level=d.division.level)
                          for d in departments.values()),
        people=tuple(_person(u) for u in people),
        invitations=tuple(ms.Invitation(
            capacity=i.capacity, department_code=i.department.code if i.department else None,
            organisation_name=i.organisation.name if i.organisation else None,
            organisation_credit_code=i.organisation.credit_code if i.organisation else None,
            excused_reason=i.excused_reason) for i in sorted(meeting.invitations, key=lambda i: i.id)),
        cases=tuple(_case(cases[case_id], divisions, case_clocks[case_id], agencies.get(cases[case_id].organisation_id))
                    for case_id in case_ids),
        items=tuple(ms.Item(
            position=e.position, project_code=cases[e.item.case_id].project_code, name=e.item.name,
            department_code=e.item.department.code, level=e.item.level, accepted_on=e.item.accepted_on,
            statutory_limit_wd=e.item.statutory_limit_wd, promised_limit_wd=e.item.promised_limit_wd,
            status=e.item.status, clock=item_clocks[e.item.id]) for e in entries),
        events=events,
        calendar=_calendar(calendar, meeting_day.year),
        labels=LABELS,
        log=ms.LogHead(count=len(rows), head_hash=rows[-1].hash if rows else None),
        compilers=tuple(_person(u) for u in await _compilers(db, meeting)),
    )


async def _agencies(db: AsyncSession, organisation_ids: list[int],
                    day: date) -> dict[int, tuple[mm.Agency, int]]:
    """Organisation id -> (its agency, the agent's user id) under the commission in force on the
    day (granted by then, not revoked by then); the latest granted where several are."""
    found = await db.execute(
        select(AgentCommission, User).join(User, User.id == AgentCommission.agent_id)
        .where(AgentCommission.organisation_id.in_(organisation_ids), AgentCommission.granted_on <= day,
               or_(AgentCommission.revoked_on.is_(None), AgentCommission.revoked_on > day))
        .order_by(AgentCommission.granted_on, AgentCommission.id))
    return {commission.organisation_id: (mm.Agency(agent=agent.display_name, title=agent.title,
                                                   document_no=commission.document_no), agent.id)
            for commission, agent in found}


async def _compilers(db: AsyncSession, meeting: Meeting) -> list[User]:
    """整理人: the creators of the meeting's minutes versions in version order; the chair while
    there is none yet (see the module doc)."""
    found = await db.scalars(select(User).join(MinutesVersion, MinutesVersion.created_by_id == User.id)
                             .join(MinutesDocument, MinutesDocument.id == MinutesVersion.document_id)
                             .where(MinutesDocument.meeting_id == meeting.id).order_by(MinutesVersion.version))
    return list(dict.fromkeys(found)) or [meeting.chair]


async def _people(db: AsyncSession, meeting: Meeting, rows: Iterable[MeetingEvent]) -> list[User]:
    """The chair, everyone who acted, joined or was written to, and the posts of invited
    departments (a B post who attended stands in for the A post, who must be named)."""
    ids = {meeting.chair_id}
    for row in rows:
        if row.actor_id is not None:
            ids.add(row.actor_id)
        event = parse_event(row.type, row.payload)
        named = (event.to if isinstance(event, ChatMessage)
                 else event.user_id if isinstance(event, ParticipantJoined | ParticipantLeft) else None)
        if named is not None:
            ids.add(named)
    departments = [i.department_id for i in meeting.invitations if i.department_id is not None]
    found = await db.scalars(select(User).where(or_(User.id.in_(ids), User.department_id.in_(departments))))
    return sorted(found, key=lambda u: u.id)


def _person(user: User) -> ms.Person:
    return ms.Person(user_id=user.id, username=user.username, display_name=user.display_name,
                     title=user.title, department_code=user.department.code if user.department else None,
                     post=user.post,
                     organisation_credit_code=user.organisation.credit_code if user.organisation else None)


def _case(case: InvestmentCase, divisions: dict[str, str], case_clock: mm.CaseClock,
          agency: tuple[mm.Agency, int] | None) -> ms.Case:
    location = ""
    for part in (divisions.get(case.division_code, ""), case.town, case.address):
        location = part if part.startswith(location) else location + part.removeprefix(location)
    return ms.Case(project_code=case.project_code, name=case.name, applicant_name=case.organisation.name,
                   applicant_credit_code=case.organisation.credit_code, location=location,
                   total_investment=f"{case.total_investment:.2f}", scale_content=case.scale_content,
                   category=case.category, industry=case.industry, clock=case_clock,
                   agency=agency[0] if agency else None, agent_user_id=agency[1] if agency else None)


def _calendar(calendar: WorkCalendar, year: int) -> ms.WorkCalendar:
    """The server's calendar written out day by day for the year before the meeting's through two
    years after it (every due date the minutes count lies there): each weekday it keeps off, each
    weekend day it works, the years it has confirmed. Asking the server's calendar itself, rather
    than reading its tables again, means a year without a table keeps the statutory holidays
    (workcalendar.statutory_holidays) here too, and both count the same days."""
    first, end = date(year - 1, 1, 1), date(year + 3, 1, 1)
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    return ms.WorkCalendar(
        holidays=frozenset(d for d in days if d.weekday() < _SATURDAY and not calendar.is_working_day(d)),
        workdays=frozenset(d for d in days if d.weekday() >= _SATURDAY and calendar.is_working_day(d)),
        confirmed_years=frozenset(y for y in range(year - 1, year + 3) if calendar.is_confirmed(y)))


def _case_clock(c: clock.CaseClock) -> mm.CaseClock:
    return mm.CaseClock(state=c.state.value, state_label=c.state.label_zh, limit_wd=c.limit_wd,
                        start=_iso(c.start), used=c.used, left=c.left, deadline=_iso(c.deadline),
                        overdue=c.overdue, suspended=c.suspended, provisional=c.provisional)


def _item_clock(c: clock.ItemClock) -> mm.ItemClock:
    return mm.ItemClock(state=c.state.value, state_label=c.state.label_zh, used=c.used, left=c.left,
                        promised_deadline=_iso(c.promised_deadline), statutory_deadline=_iso(c.statutory_deadline),
                        overdue=c.overdue, statutory_overdue=c.statutory_overdue, suspended=c.suspended,
                        provisional=c.provisional)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
