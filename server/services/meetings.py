"""Scheduling parallel approval meetings and moving them through their life cycle.

Invitations follow from the agenda, so that a meeting can never review an item without the
department that must give its opinion, nor a case without its applicant:
- every department with an item on the agenda is invited as a member (出席) automatically, and may not
  be listed as a mere observer (列席);
- the applicant organisation of every agenda case is invited (with its commissioned agents, who act
  for it); no other organisation is, since an invitation would show it another applicant's case;
- further departments may be invited as members (to give an opinion without an item of their own)
  or as observers.
Every change is recorded in the meeting's event log (server.services.eventlog), which the minutes
and the archive rely on; the types and payloads are the record's (record.events: MeetingScheduled,
MeetingUpdated, MeetingStatusChanged, InvitationExcused).
Only the meeting's own chair changes it (require_meeting_chair, also used by the minutes, join
links and recordings); an administrator may only hand a scheduled meeting to another chair.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.policy import is_meeting_chair, visible_meetings
from server.auth.principal import Principal
from server.db.models import (
    AgendaEntry,
    AgentCommission,
    ApprovalItem,
    Department,
    Division,
    InvestmentCase,
    Invitation,
    Meeting,
    MeetingSite,
    User,
)
from server.domain.cases import ItemStatus
from server.domain.divisions import DivisionCodeError, Level, level_of
from server.domain.meetings import InvalidTransition, MeetingStatus, transition
from server.domain.roles import Role
from server.services.clock import CENTRE_TZ
from server.services.eventlog import append_event, lock_meeting

# Meetings are held, and their times shown, in the centre's local time.

MEMBER, OBSERVER, APPLICANT = "member", "observer", "applicant"
# Items already decided have nothing left to review.
CLOSED_ITEM_STATUSES = frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.WITHDRAWN})
# 请假 is announced before or during the meeting, not afterwards.
EXCUSABLE_STATUSES = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.LIVE})

NOT_THE_CHAIR = "只有本次会议的主持人可以执行此操作 / only the chair of this meeting may do this"
ADMIN_REASSIGNS_ONLY = ("管理员只能更换会议主持人，其他安排由主持人修改 / an administrator may only reassign "
                        "the chair; the chair changes the rest")


class MeetingError(ValueError):
    """A refused meeting operation; `status` is the HTTP status, `field` the culprit if any,
    `code` a stable machine code for API clients (empty: the status's generic code)."""

    def __init__(self, message: str, status: int = 422, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.code = code

    @property
    def message(self) -> str:
        return str(self)


def require_meeting_chair(actor: Principal, meeting: Meeting) -> None:
    """Refuse (403) anyone but the chair of this meeting: the one ownership check of every service
    that changes a meeting, its minutes, join links or recordings. 403, not 404: every chair may
    see the meeting, just not act on it."""
    if not is_meeting_chair(actor, meeting.chair_id):
        raise MeetingError(NOT_THE_CHAIR, status=403, code="not_the_chair")


@dataclass(frozen=True)
class SitePlan:
    """A video site to join: its name and the division it joins from (the level follows)."""

    name: str
    division_code: str


@dataclass(frozen=True)
class MeetingPlan:
    """Everything a chair decides when scheduling; times must be aware datetimes."""

    title: str
    scheduled_start: datetime
    scheduled_end: datetime
    lead_department_id: int
    chair_id: int
    agenda_item_ids: Sequence[int]
    place: str = ""
    member_department_ids: Sequence[int] = ()
    observer_department_ids: Sequence[int] = ()
    sites: Sequence[SitePlan] = ()


PLAN_FIELDS = tuple(f.name for f in dataclasses.fields(MeetingPlan))


@dataclass
class _Resolved:
    """A plan checked against the database, with the rows it names."""

    plan: MeetingPlan
    items: list[ApprovalItem]
    members: set[int]
    observers: set[int]
    organisations: set[int]
    site_levels: list[Level]


@dataclass
class MeetingDetail:
    """A meeting with what its pages and API show beside it."""

    meeting: Meeting
    cases: dict[int, InvestmentCase]
    representatives: dict[int, list[User]] = field(default_factory=dict)
    agents: dict[int, list[User]] = field(default_factory=dict)


# ---------------------------------------------------------------- reading


def local(moment: datetime) -> datetime:
    """A stored (UTC) moment in the centre's local time."""
    return moment.astimezone(CENTRE_TZ)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CENTRE_TZ).astimezone(UTC)


async def find_visible(db: AsyncSession, principal: Principal, meeting_id: int) -> Meeting | None:
    """The meeting if the principal may see it; None both when absent and when out of scope."""
    return await db.scalar(select(Meeting).where(Meeting.id == meeting_id, visible_meetings(principal)))


async def list_meetings(db: AsyncSession, principal: Principal, *, status: MeetingStatus | None = None,
                        date_from: date | None = None, date_to: date | None = None,
                        case_id: int | None = None, now: datetime | None = None) -> list[Meeting]:
    """Meetings in the principal's scope, upcoming (not yet ended) first by start, then past ones
    latest first. Dates are local (Asia/Shanghai) days of the scheduled start, both inclusive."""
    moment = now or datetime.now(UTC)
    conditions: list[ColumnElement[bool]] = [visible_meetings(principal)]
    if status is not None:
        conditions.append(Meeting.status == status.value)
    if date_from is not None:
        conditions.append(Meeting.scheduled_start >= _local_midnight(date_from))
    if date_to is not None:
        conditions.append(Meeting.scheduled_start < _local_midnight(date_to + timedelta(days=1)))
    if case_id is not None:
        conditions.append(exists().where(AgendaEntry.meeting_id == Meeting.id,
                                         AgendaEntry.item_id == ApprovalItem.id,
                                         ApprovalItem.case_id == case_id))
    upcoming = Meeting.scheduled_end >= moment
    rows = await db.scalars(
        select(Meeting).where(*conditions).order_by(
            case((upcoming, 0), else_=1),
            case((upcoming, Meeting.scheduled_start), else_=None),
            Meeting.scheduled_start.desc(),
            Meeting.id,
        )
    )
    return list(rows)


async def cases_of(db: AsyncSession, meetings: Iterable[Meeting]) -> dict[int, InvestmentCase]:
    """The cases of the meetings' agenda items, by id (queried, not lazily loaded: async code)."""
    ids = {entry.item.case_id for meeting in meetings for entry in meeting.agenda}
    if not ids:
        return {}
    return {c.id: c for c in await db.scalars(select(InvestmentCase).where(InvestmentCase.id.in_(ids)))}


async def load_detail(db: AsyncSession, meeting: Meeting) -> MeetingDetail:
    """The meeting with its cases, the A/B people of its departments and the agents of its applicants."""
    detail = MeetingDetail(meeting=meeting, cases=await cases_of(db, [meeting]))
    department_ids = {i.department_id for i in meeting.invitations if i.department_id is not None}
    if department_ids:
        people = await db.scalars(
            select(User).where(User.department_id.in_(department_ids), User.role == Role.CHIEF_REP.value)
            .order_by(User.post, User.id)
        )
        for person in people:
            assert person.department_id is not None  # selected by department above
            detail.representatives.setdefault(person.department_id, []).append(person)
    organisation_ids = {i.organisation_id for i in meeting.invitations if i.organisation_id is not None}
    if organisation_ids:
        rows = await db.execute(
            select(AgentCommission.organisation_id, User)
            .join(User, User.id == AgentCommission.agent_id)
            .where(AgentCommission.organisation_id.in_(organisation_ids),
                   AgentCommission.revoked_on.is_(None), User.is_active.is_(True))
            .order_by(User.id)
        )
        for organisation_id, agent in rows:
            detail.agents.setdefault(organisation_id, []).append(agent)
    return detail


def sites_by_level(meeting: Meeting) -> list[tuple[Level, list[MeetingSite]]]:
    """Video sites grouped 省 → 市 → 县, omitting empty levels."""
    groups: defaultdict[str, list[MeetingSite]] = defaultdict(list)
    for site in meeting.sites:
        groups[site.level].append(site)
    return [(level, groups[level.value]) for level in Level if groups[level.value]]


# ---------------------------------------------------------------- scheduling


def _line(value: str, limit: int, field: str, required: bool = False, multiline: bool = False) -> str:
    """A text within its column's size, without control characters (line breaks only if
    `multiline`): forms reach the service without the API's schema, and PostgreSQL refuses NUL."""
    value = value.strip()
    if required and not value:
        raise MeetingError(f"{field} 不能为空 / {field} is required", field=field)
    if len(value) > limit:
        raise MeetingError(f"{field} 最多 {limit} 个字符 / {field} allows at most {limit} characters", field=field)
    allowed = "\n\r\t" if multiline else ""
    if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in value):
        raise MeetingError(f"{field} 不能包含控制字符 / {field} must not contain control characters", field=field)
    return value


def _check_times(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise MeetingError("会议时间须带时区 / meeting times must carry a time zone", field="scheduled_start")
    if end <= start:
        raise MeetingError("结束时间须晚于开始时间 / the end must be after the start", field="scheduled_end")


def _unknown(wanted: Iterable[int], found: Iterable[int]) -> list[int]:
    return sorted(set(wanted) - set(found))


async def _existing_departments(db: AsyncSession, ids: set[int]) -> set[int]:
    return set(await db.scalars(select(Department.id).where(Department.id.in_(ids)))) if ids else set()


async def _resolve(db: AsyncSession, plan: MeetingPlan, on_agenda: frozenset[int] = frozenset()) -> _Resolved:
    """Check a plan against the database and derive its invitations; MeetingError names the fault.

    Items already on the agenda (`on_agenda`) may have been decided since; only new ones must be open.
    """
    _check_times(plan.scheduled_start, plan.scheduled_end)
    _line(plan.title, 256, "title", required=True)
    _line(plan.place, 128, "place")
    if not plan.agenda_item_ids:
        raise MeetingError("议程至少包含一个审批事项 / the agenda needs at least one approval item",
                           field="agenda_item_ids")
    if len(set(plan.agenda_item_ids)) != len(plan.agenda_item_ids):
        raise MeetingError("议程中审批事项重复 / an approval item appears twice on the agenda",
                           field="agenda_item_ids")
    chair = await db.get(User, plan.chair_id)
    if chair is None or chair.role != Role.CHAIR.value or not chair.is_active:
        raise MeetingError(f"主持人须为在职的会议主持人账号: {plan.chair_id} / "
                           f"the chair must be an active chair account: {plan.chair_id}", field="chair_id")
    items_by_id = {item.id: item for item in await db.scalars(
        select(ApprovalItem).where(ApprovalItem.id.in_(plan.agenda_item_ids)))}
    if missing := _unknown(plan.agenda_item_ids, items_by_id):
        raise MeetingError(f"审批事项不存在: {missing} / unknown approval items: {missing}",
                           field="agenda_item_ids")
    items = [items_by_id[item_id] for item_id in plan.agenda_item_ids]
    if closed := [item.id for item in items if item.status in CLOSED_ITEM_STATUSES and item.id not in on_agenda]:
        raise MeetingError(f"审批事项已办结或撤回，无需上会: {closed} / "
                           f"approval items already decided or withdrawn: {closed}", field="agenda_item_ids")
    members = set(plan.member_department_ids) | {item.department_id for item in items}
    observers = set(plan.observer_department_ids)
    named = members | observers | {plan.lead_department_id}
    if missing := _unknown(named, await _existing_departments(db, named)):
        raise MeetingError(f"部门不存在: {missing} / unknown departments: {missing}", field="departments")
    if both := sorted(members & observers):
        raise MeetingError(f"部门不能既出席又列席（有议程事项的部门必须出席）: {both} / departments cannot be "
                           f"both members and observers (a department with an agenda item is a member): {both}",
                           field="observer_department_ids")
    organisations = set(await db.scalars(
        select(InvestmentCase.organisation_id).where(InvestmentCase.id.in_({i.case_id for i in items}))))
    return _Resolved(plan=plan, items=items, members=members, observers=observers,
                     organisations=organisations, site_levels=await _site_levels(db, plan.sites))


async def _site_levels(db: AsyncSession, sites: Sequence[SitePlan]) -> list[Level]:
    levels = []
    for site in sites:
        _line(site.name, 128, "sites", required=True)
        try:
            levels.append(level_of(site.division_code))
        except DivisionCodeError as error:
            raise MeetingError(str(error), field="sites") from None
    codes = {site.division_code for site in sites}
    known = set(await db.scalars(select(Division.code).where(Division.code.in_(codes)))) if codes else set()
    if missing := sorted(codes - known):
        raise MeetingError(f"行政区划不存在: {missing} / unknown divisions: {missing}", field="sites")
    return levels


def _reconcile_invitations(meeting: Meeting, resolved: _Resolved) -> None:
    """Make the invitations match the plan, keeping existing rows (their ids and 请假 reasons)."""
    wanted: dict[tuple[str, int], str] = {("department", d): MEMBER for d in resolved.members}
    wanted.update({("department", d): OBSERVER for d in resolved.observers})
    wanted.update({("organisation", o): APPLICANT for o in resolved.organisations})
    kept: list[Invitation] = []
    for invitation in meeting.invitations:
        if invitation.department_id is not None:
            capacity = wanted.pop(("department", invitation.department_id), None)
        elif invitation.organisation_id is not None:
            capacity = wanted.pop(("organisation", invitation.organisation_id), None)
        else:
            capacity = None  # names no unit, so nothing in the plan keeps it
        if capacity is not None:
            invitation.capacity = capacity
            kept.append(invitation)
    for (kind, unit_id), capacity in sorted(wanted.items()):
        kept.append(Invitation(capacity=capacity, excused_reason="",
                               **{f"{kind}_id": unit_id}))
    meeting.invitations = kept


def _apply(meeting: Meeting, resolved: _Resolved) -> None:
    plan = resolved.plan
    meeting.title = plan.title.strip()
    meeting.scheduled_start = plan.scheduled_start.astimezone(UTC)
    meeting.scheduled_end = plan.scheduled_end.astimezone(UTC)
    meeting.place = plan.place.strip()
    meeting.chair_id = plan.chair_id
    meeting.lead_department_id = plan.lead_department_id
    existing = {entry.item_id: entry for entry in meeting.agenda}
    agenda = []
    for position, item in enumerate(resolved.items, start=1):
        entry = existing.get(item.id) or AgendaEntry(item_id=item.id)
        entry.position = position
        agenda.append(entry)
    meeting.agenda = agenda
    _reconcile_invitations(meeting, resolved)
    meeting.sites = [MeetingSite(name=site.name.strip(), division_code=site.division_code, level=level.value)
                     for site, level in zip(plan.sites, resolved.site_levels, strict=True)]


def _snapshot(meeting: Meeting) -> dict[str, Any]:
    """The scheduled facts as they go into the event log (JSON-safe: ids, strings, UTC ISO times)."""
    def unit_ids(capacity: str, attribute: str) -> list[int]:
        return sorted(getattr(i, attribute) for i in meeting.invitations if i.capacity == capacity)

    return {
        "title": meeting.title,
        "start": meeting.scheduled_start.astimezone(UTC).isoformat(),
        "end": meeting.scheduled_end.astimezone(UTC).isoformat(),
        "place": meeting.place,
        "chair_id": meeting.chair_id,
        "lead_department_id": meeting.lead_department_id,
        "agenda_item_ids": [entry.item_id for entry in meeting.agenda],
        "member_department_ids": unit_ids(MEMBER, "department_id"),
        "observer_department_ids": unit_ids(OBSERVER, "department_id"),
        "organisation_ids": unit_ids(APPLICANT, "organisation_id"),
        "sites": [{"name": s.name, "division_code": s.division_code, "level": s.level} for s in meeting.sites],
    }


async def _reload(db: AsyncSession, meeting_id: int) -> Meeting:
    meeting = await db.get(Meeting, meeting_id, populate_existing=True)
    assert meeting is not None
    return meeting


async def schedule_meeting(db: AsyncSession, actor: Principal, plan: MeetingPlan) -> Meeting:
    """Create a scheduled meeting and log "meeting_scheduled" (flushed, not committed)."""
    resolved = await _resolve(db, plan)
    meeting = Meeting(status=MeetingStatus.SCHEDULED.value, created_by_id=actor.user_id,
                      created_at=datetime.now(UTC), agenda=[], invitations=[], sites=[])
    _apply(meeting, resolved)
    db.add(meeting)
    await db.flush()
    await append_event(db, meeting.id, actor.user_id, "meeting_scheduled", _snapshot(meeting))
    return await _reload(db, meeting.id)


def plan_of(meeting: Meeting) -> MeetingPlan:
    """The plan a meeting currently follows (the base a partial change is applied to)."""
    return MeetingPlan(
        title=meeting.title, scheduled_start=meeting.scheduled_start, scheduled_end=meeting.scheduled_end,
        lead_department_id=meeting.lead_department_id, chair_id=meeting.chair_id,
        agenda_item_ids=[entry.item_id for entry in meeting.agenda], place=meeting.place,
        member_department_ids=sorted(i.department_id for i in meeting.invitations
                                     if i.capacity == MEMBER and i.department_id is not None),
        observer_department_ids=sorted(i.department_id for i in meeting.invitations
                                       if i.capacity == OBSERVER and i.department_id is not None),
        sites=[SitePlan(site.name, site.division_code) for site in meeting.sites],
    )


async def update_meeting(db: AsyncSession, actor: Principal, meeting_id: int,
                         changes: dict[str, Any]) -> Meeting:
    """Apply a partial change (keys from PLAN_FIELDS) to a scheduled meeting; logs "meeting_updated".

    The meeting's chair changes anything (handing the meeting to another chair included); an
    administrator only reassigns the chair (when the chair is away or has left), so that the
    office's plan stays the chair's. The whole resulting plan is checked again, so a change can
    never leave, say, an agenda item's department uninvited. Member departments that were invited
    only for their items are derived again from the new agenda.
    """
    meeting = await lock_meeting(db, meeting_id)
    if actor.role == Role.ADMIN:
        if set(changes) - {"chair_id"}:
            raise MeetingError(ADMIN_REASSIGNS_ONLY, status=403, code="admin_reassigns_only")
    else:
        require_meeting_chair(actor, meeting)
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise MeetingError(f"不能修改的字段: {sorted(unknown)} / fields that cannot be changed: {sorted(unknown)}")
    if not changes:
        raise MeetingError("没有要修改的内容 / nothing to change")
    if meeting.status != MeetingStatus.SCHEDULED.value:
        status = MeetingStatus(meeting.status)
        raise MeetingError(f"会议已{status.label_zh}，不能再修改安排 / a meeting that is {status.label_en} "
                           "can no longer be changed", status=409, field="status")
    base = plan_of(meeting)
    if "agenda_item_ids" in changes and "member_department_ids" not in changes:
        agenda_departments = {entry.item.department_id for entry in meeting.agenda}
        base = dataclasses.replace(base, member_department_ids=[
            d for d in base.member_department_ids if d not in agenda_departments])
    plan = dataclasses.replace(base, **changes)
    resolved = await _resolve(db, plan, frozenset(entry.item_id for entry in meeting.agenda))
    previous_chair_id = meeting.chair_id
    _apply(meeting, resolved)
    await db.flush()
    snapshot = _snapshot(meeting)
    await append_event(db, meeting.id, actor.user_id, "meeting_updated",
                       {"changed": sorted(changes), **snapshot, "previous_chair_id": previous_chair_id})
    return await _reload(db, meeting.id)


async def change_status(db: AsyncSession, actor: Principal, meeting_id: int, target: MeetingStatus,
                        note: str = "") -> Meeting:
    """Move the meeting along its life cycle (its chair; 409 if not allowed); logs
    "meeting_status_changed"."""
    meeting, change = await set_status(db, actor, meeting_id, target, note)
    await append_event(db, meeting.id, actor.user_id, "meeting_status_changed", change)
    return meeting


async def set_status(db: AsyncSession, actor: Principal, meeting_id: int, target: MeetingStatus,
                     note: str = "") -> tuple[Meeting, dict[str, Any]]:
    """The rules of a status change (the meeting's chair, a legal transition, the note) applied to
    the meeting row, and the ``meeting_status_changed`` payload the caller must record. Kept apart
    from change_status, which appends it, because a meeting conducted in the room records it
    through the live meeting's log instead (its review takes the start and end as they are
    written): either way the event is written once."""
    meeting = await lock_meeting(db, meeting_id)
    require_meeting_chair(actor, meeting)
    note = _line(note, 500, "note", multiline=True)
    current = MeetingStatus(meeting.status)
    try:
        transition(current, target)
    except InvalidTransition as error:
        raise MeetingError(str(error), status=409, field="status") from None
    meeting.status = target.value
    await db.flush()
    return meeting, {"from": current.value, "to": target.value, "note": note}


async def excuse_invitation(db: AsyncSession, actor: Principal, meeting_id: int, invitation_id: int,
                            reason: str) -> Invitation:
    """Record 请假 for an invited department, by the meeting's chair or that department's own
    representative (A or B post); logs "invitation_excused". Asking again replaces the reason."""
    meeting = await lock_meeting(db, meeting_id)
    if actor.role == Role.CHAIR:
        require_meeting_chair(actor, meeting)
    invitation = next((i for i in meeting.invitations if i.id == invitation_id), None)
    if invitation is None:
        raise MeetingError("该会议没有此邀请 / no such invitation in this meeting", status=404)
    if not may_excuse(actor, meeting, invitation.department_id):
        raise MeetingError("只能为本部门请假 / you can only excuse your own department", status=403)
    if invitation.department_id is None:
        raise MeetingError("只有受邀部门可以请假；申请单位不能到会请通知主持人 / only invited departments "
                           "can be excused; an applicant that cannot attend should tell the chair",
                           field="invitation")
    status = MeetingStatus(meeting.status)
    if status not in EXCUSABLE_STATUSES:
        raise MeetingError(f"会议已{status.label_zh}，不能再请假 / a meeting that is {status.label_en} "
                           "no longer takes excuses", status=409, field="status")
    reason = _line(reason, 500, "reason", required=True, multiline=True)
    invitation.excused_reason = reason
    await db.flush()
    await append_event(db, meeting.id, actor.user_id, "invitation_excused",
                       {"invitation_id": invitation.id, "department_id": invitation.department_id,
                        "reason": reason})
    return invitation


def may_excuse(actor: Principal, meeting: Meeting, department_id: int | None) -> bool:
    """The meeting's chair excuses any department, a chief representative only their own (the
    pages offer the form by the same rule)."""
    return is_meeting_chair(actor, meeting.chair_id) or (
        actor.role == Role.CHIEF_REP and department_id is not None and actor.department_id == department_id)


# ---------------------------------------------------------------- choices for the scheduling form


@dataclass
class SchedulingChoices:
    """What the scheduling form offers: chairs, departments, open items (with their cases), divisions."""

    chairs: list[User]
    departments: list[Department]
    items: list[tuple[ApprovalItem, InvestmentCase]]
    divisions: list[Division]


async def scheduling_choices(db: AsyncSession) -> SchedulingChoices:
    chairs = await db.scalars(select(User).where(User.role == Role.CHAIR.value, User.is_active.is_(True))
                              .order_by(User.display_name))
    departments = await db.scalars(select(Department).order_by(Department.division_code, Department.code))
    open_items = await db.execute(
        select(ApprovalItem, InvestmentCase).join(InvestmentCase, InvestmentCase.id == ApprovalItem.case_id)
        .where(ApprovalItem.status.not_in([s.value for s in CLOSED_ITEM_STATUSES]))
        .order_by(InvestmentCase.project_code, ApprovalItem.id)
    )
    divisions = await db.scalars(select(Division).order_by(Division.code))
    return SchedulingChoices(chairs=list(chairs), departments=list(departments),
                             items=[(item, case_row) for item, case_row in open_items],
                             divisions=list(divisions))

