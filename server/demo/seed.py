"""Load the demo data (server.demo.data) into the database, idempotently.

Every record is found by its natural key (division code, department code, credit code, username,
project code, item name within a case, meeting title and start) before anything is inserted, so
running `lianshen demo` twice changes nothing the second time. People go through the people
service, events through the event-log service and the ended meeting's minutes through the minutes
workflow (as its chair, exactly as when a meeting ends): the demo exercises the real write paths.
The minutes are left as a numbered draft awaiting the chair, so a demo user can walk them through
editing, sending, the departments' confirmations and finalising.
The scheduled meeting's case gets small PDF materials (server.demo.materials) uploaded by its
applicant and agent through the materials service, so presenting can be tried in its room.

The data is loaded as of the day it is loaded (server.demo.as_of: every date moved by whole weeks
from DATA_AS_OF), and stays as first loaded: a later run finds the demo's first meeting and takes
the shift it was loaded with, so running it again on another day still changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import load_principal
from server.db.models import (
    AgendaEntry,
    AgentCommission,
    ApprovalItem,
    ClockSuspension,
    Department,
    Division,
    InvestmentCase,
    Invitation,
    Meeting,
    MeetingEvent,
    MeetingSite,
    MinutesDocument,
    Organisation,
    User,
)
from server.demo import data, records
from server.demo.as_of import DemoWorld, demo_world, shift_for
from server.demo.materials import seed_materials
from server.demo.record_events import record_events
from server.domain.meetings import MeetingStatus
from server.domain.roles import Post, Role
from server.services.calendar import load_calendar
from server.services.clock import centre_today
from server.services.eventlog import append_event
from server.services.minutes_workflow import find_document, generate_draft
from server.services.people import NewPerson, create_person
from server.settings import Settings

DEMO_FILE = "demo.json"


class _Ids:
    """Natural key -> database id, filled as records are found or created."""

    def __init__(self) -> None:
        self.departments: dict[str, int] = {}
        self.organisations: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.items: dict[tuple[str, str], int] = {}


async def _divisions(db: AsyncSession) -> None:
    present = set(await db.scalars(select(Division.code)))
    for division in data.DIVISIONS:
        if division.code not in present:
            db.add(Division(code=division.code, name=division.name, level=division.level,
                            parent_code=division.parent_code))
            await db.flush()


async def _departments(db: AsyncSession, ids: _Ids) -> None:
    existing = {d.code: d.id for d in await db.scalars(select(Department))}
    for department in data.DEPARTMENTS:
        if department.code not in existing:
            row = Department(code=department.code, name=department.name,
                             short_name=department.short_name, division_code=department.division_code)
            db.add(row)
            await db.flush()
            existing[department.code] = row.id
    ids.departments = existing


async def _organisations(db: AsyncSession, ids: _Ids) -> None:
    existing = {o.credit_code: o.id for o in await db.scalars(select(Organisation))}
    for org in data.ORGANISATIONS:
        if org.credit_code not in existing:
            row = Organisation(credit_code=org.credit_code, name=org.name, address=org.address,
                               legal_representative=org.legal_representative,
                               contact=f"{org.contact}（{org.contact_title}）", phone=org.phone)
            db.add(row)
            await db.flush()
            existing[org.credit_code] = row.id
    ids.organisations = existing


async def _people(db: AsyncSession, ids: _Ids, world: DemoWorld) -> None:
    existing = {u.username: u.id for u in await db.scalars(select(User))}
    for person in data.USERS:
        if person.username not in existing:
            user = await create_person(db, NewPerson(
                username=person.username, display_name=person.display_name, role=Role(person.role),
                password=person.password, department_code=person.department_code,
                post=Post(person.post) if person.post else None,
                credit_code=person.organisation_credit_code, title=person.title, phone=person.phone))
            existing[person.username] = user.id
    ids.users = existing
    for commission in world.commissions:
        found = await db.scalar(select(AgentCommission.id).where(
            AgentCommission.document_no == commission.document_no))
        if found is None:
            db.add(AgentCommission(agent_id=ids.users[commission.agent_username],
                                   organisation_id=ids.organisations[commission.organisation_credit_code],
                                   document_no=commission.document_no, granted_on=commission.granted_on,
                                   revoked_on=commission.revoked_on))
    await db.flush()


async def _cases(db: AsyncSession, ids: _Ids, world: DemoWorld, now: datetime) -> None:
    for case in world.cases:
        row = await db.scalar(select(InvestmentCase).where(InvestmentCase.project_code == case.project_code))
        if row is None:
            row = InvestmentCase(
                project_code=case.project_code, name=case.name,
                organisation_id=ids.organisations[case.organisation_credit_code],
                division_code=case.division_code, town=case.town, address=case.address,
                total_investment=Decimal(case.total_investment), scale_content=case.scale_content,
                category=case.category, industry=case.industry, investor_type=case.investor_type,
                funding_source=case.funding_source, planned_start=case.planned_start,
                planned_finish=case.planned_finish, created_at=now)
            db.add(row)
        if row.approving_department_id is None:  # also a case loaded before cases stored it
            row.approving_department_id = ids.departments[case.lead_department_code]
        await db.flush()
        existing = {i.name: i.id for i in await db.scalars(
            select(ApprovalItem).where(ApprovalItem.case_id == row.id))}
        for item in case.items:
            if item.name not in existing:
                item_row = _item(row.id, item, ids)
                db.add(item_row)
                await db.flush()
                existing[item.name] = item_row.id
            ids.items[(case.project_code, item.name)] = existing[item.name]


def _item(case_id: int, item: records.ApprovalItem, ids: _Ids) -> ApprovalItem:
    return ApprovalItem(
        case_id=case_id, name=item.name, department_id=ids.departments[item.department_code],
        level=item.level, accepted_on=item.accepted_on, statutory_limit_wd=item.statutory_limit_wd,
        promised_limit_wd=item.promised_limit_wd, status=item.status, result=item.result,
        document_no=item.document_no,
        decided_on=item.decided_on,
        suspensions=[ClockSuspension(start=s.start, end=s.end, reason=s.reason,
                                     suspend_notice_no=s.suspend_notice_no,
                                     resume_notice_no=s.resume_notice_no) for s in item.suspensions])


async def _meetings(db: AsyncSession, ids: _Ids, world: DemoWorld, now: datetime,
                    settings: Settings) -> list[dict[str, Any]]:
    summaries = []
    for meeting in world.meetings:
        row = await db.scalar(select(Meeting).where(Meeting.title == meeting.title,
                                                    Meeting.scheduled_start == meeting.scheduled_start))
        if row is None:
            row = _meeting(meeting, ids, now)
            db.add(row)
            await db.flush()
        if meeting.events and not await db.scalar(
                select(func.count()).where(MeetingEvent.meeting_id == row.id)):
            await _events(db, row.id, meeting, ids)
        minutes = await _minutes(db, row, settings)
        summaries.append({"id": row.id, "title": meeting.title, "status": row.status,
                          "minutes_number": minutes.number if minutes else None,
                          "scheduled_start": meeting.scheduled_start.isoformat(),
                          "cases": sorted({ref.project_code for ref in meeting.agenda})})
    return summaries


def _meeting(meeting: records.Meeting, ids: _Ids, now: datetime) -> Meeting:
    sites = {site.key: site for site in meeting.sites}
    return Meeting(
        title=meeting.title, status=meeting.status, scheduled_start=meeting.scheduled_start,
        scheduled_end=meeting.scheduled_end, place=meeting.place,
        chair_id=ids.users[meeting.chair_username],
        lead_department_id=ids.departments[meeting.lead_department_code],
        created_by_id=ids.users[meeting.created_by_username], created_at=now,
        agenda=[AgendaEntry(item_id=ids.items[(ref.project_code, ref.item_name)], position=n)
                for n, ref in enumerate(meeting.agenda, start=1)],
        invitations=[Invitation(
            capacity=inv.capacity,
            department_id=ids.departments[inv.department_code] if inv.department_code else None,
            organisation_id=(ids.organisations[inv.organisation_credit_code]
                             if inv.organisation_credit_code else None),
            excused_reason=inv.excused_reason) for inv in meeting.invitations],
        sites=[MeetingSite(name=site.name, division_code=site.division_code, level=site.level)
               for site in sites.values()],
    )


async def _events(db: AsyncSession, meeting_id: int, meeting: records.Meeting, ids: _Ids) -> None:
    for event in record_events(meeting, ids.users, ids.departments):
        await append_event(db, meeting_id, event.actor_id, event.type, event.payload, ts=event.ts)


async def _minutes(db: AsyncSession, meeting: Meeting, settings: Settings) -> MinutesDocument | None:
    """The minutes of the meeting, if it has ended: made as a draft by its chair through the
    workflow (which numbers them and moves the meeting to "minutes_draft") unless they exist."""
    document = await find_document(db, meeting.id)
    if document is not None or meeting.status != MeetingStatus.ENDED.value:
        return document
    chair = (await db.scalars(select(User).where(User.id == meeting.chair_id))).one()
    await generate_draft(db, await load_principal(db, chair), meeting.id, settings)
    await db.refresh(meeting)
    return await find_document(db, meeting.id)


async def _loaded_shift(db: AsyncSession) -> timedelta | None:
    """The shift the demo was loaded with (its first meeting's stored start against the data's),
    None if it has not been loaded."""
    reference = data.MEETINGS[0]
    start = await db.scalar(select(Meeting.scheduled_start).where(Meeting.title == reference.title)
                            .order_by(Meeting.id).limit(1))
    return None if start is None else start - reference.scheduled_start


async def seed_demo(db: AsyncSession, settings: Settings, today: date | None = None) -> dict[str, Any]:
    """Create whatever demo data is missing, as of ``today`` (default: the centre's date) unless
    the demo was loaded before; returns what demo.json lists. The calendar must be seeded first
    (`lianshen db upgrade`): the minutes count due dates in working days."""
    now = datetime.now(UTC)
    shift = await _loaded_shift(db)
    world = demo_world(shift if shift is not None else shift_for(today or centre_today(), await load_calendar(db)))
    ids = _Ids()
    await _divisions(db)
    await _departments(db, ids)
    await _organisations(db, ids)
    await _people(db, ids, world)
    await _cases(db, ids, world, now)
    meetings = await _meetings(db, ids, world, now, settings)
    await seed_materials(db, settings, ids.users)
    departments = {d.code: d.name for d in data.DEPARTMENTS}
    organisations = {o.credit_code: o.name for o in data.ORGANISATIONS}
    accounts = [{
        "username": u.username, "password": u.password, "role": u.role, "display_name": u.display_name,
        "department": departments.get(u.department_code or "", None),
        "department_code": u.department_code, "post": u.post,
        "organisation": organisations.get(u.organisation_credit_code or "", None),
    } for u in data.USERS]
    return {"as_of": world.as_of.isoformat(), "accounts": accounts, "meetings": meetings}


def write_demo_json(data_dir: Path, summary: dict[str, Any]) -> Path:
    """Write demo.json (accounts and meetings) into the data dir; returns its path."""
    path = data_dir / DEMO_FILE
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
