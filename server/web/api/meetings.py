"""Meetings over the API: schedule, read, change, move through the life cycle, 请假, event log.

Times go out in ISO 8601 with the centre's offset (+08:00) and come in as any aware ISO 8601
time; a time without an offset is refused because its instant is unknown.
Only chairs schedule meetings, and only a meeting's own chair changes and runs it (another chair
gets 403: the services check it, see services.meetings.require_meeting_chair); an administrator
may reassign a scheduled meeting's chair and nothing else. Everyone else sees the meetings
policy.visible_meetings allows (others answer 404), and a chief representative may excuse only
their own department.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, model_validator

from server.db.models import InvestmentCase, Invitation, Meeting, MeetingEvent
from server.domain.eventlog import ChainProblem
from server.domain.meetings import MeetingStatus
from server.domain.roles import Role
from server.schemas.base import Body, Out
from server.schemas.fields import PG_INT_MAX, DbId, one_line, paragraphs
from server.schemas.refs import (
    DepartmentRef,
    OrganisationRef,
    PersonRef,
    department_ref,
    organisation_ref,
    person_ref,
)
from server.services import eventlog
from server.services.meetings import (
    MeetingDetail,
    MeetingError,
    MeetingPlan,
    SitePlan,
    cases_of,
    excuse_invitation,
    find_visible,
    list_meetings,
    load_detail,
    local,
    schedule_meeting,
    update_meeting,
)
from server.services.minutes_workflow import change_status_with_minutes
from server.signaling.server import meeting_changed
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError

TAG = "meetings"
STAFF_READERS = {Role.ADMIN, Role.CHAIR, Role.ARCHIVIST}
_EARLIEST, _LATEST = 2000, 2100


def _plausible_year(moment: datetime) -> datetime:
    """Refuse times far outside any real meeting (they also overflow when converted to UTC)."""
    if not _EARLIEST <= moment.year < _LATEST:
        raise ValueError(f"年份须在 {_EARLIEST}–{_LATEST - 1} 之间 / year must be {_EARLIEST}–{_LATEST - 1}")
    return moment


MeetingTime = Annotated[AwareDatetime, AfterValidator(_plausible_year)]
IdList = Annotated[list[DbId], Field(max_length=50)]


# ---------------------------------------------------------------- input


class SiteIn(Body):
    name: Annotated[str, one_line(128, 1)]
    division_code: str = Field(pattern=r"^[0-9]{6}$", description="6-digit division code; the level follows")


class MeetingIn(Body):
    """A meeting to schedule. Departments of agenda items are invited as members automatically, the
    applicant organisations of the agenda cases as applicants; chair_id defaults to the caller."""

    title: Annotated[str, one_line(256, 1)]
    scheduled_start: MeetingTime
    scheduled_end: MeetingTime
    place: Annotated[str, one_line(128)] = ""
    lead_department_id: DbId
    chair_id: DbId | None = None
    agenda_item_ids: Annotated[list[DbId], Field(min_length=1, max_length=50)]
    member_department_ids: IdList = []
    observer_department_ids: IdList = []
    sites: Annotated[list[SiteIn], Field(max_length=20)] = []


class MeetingPatch(Body):
    """Fields to change on a scheduled meeting; absent fields stay as they are, null is refused."""

    title: Annotated[str, one_line(256, 1)] | None = None
    scheduled_start: MeetingTime | None = None
    scheduled_end: MeetingTime | None = None
    place: Annotated[str, one_line(128)] | None = None
    lead_department_id: DbId | None = None
    chair_id: DbId | None = None
    agenda_item_ids: Annotated[list[DbId], Field(min_length=1, max_length=50)] | None = None
    member_department_ids: IdList | None = None
    observer_department_ids: IdList | None = None
    sites: Annotated[list[SiteIn], Field(max_length=20)] | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> MeetingPatch:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"字段不能为 null（不修改请省略）: {nulls} / fields cannot be null "
                             f"(omit them to keep them): {nulls}")
        return self


class StatusIn(Body):
    status: MeetingStatus
    note: Annotated[str, paragraphs(500)] = ""


class ExcuseIn(Body):
    reason: Annotated[str, paragraphs(500, 1)]


class MeetingQuery(Body):
    status: MeetingStatus | None = None
    date_from: date | None = Field(None, description="local (Asia/Shanghai) start date, inclusive")
    date_to: date | None = Field(None, description="local (Asia/Shanghai) start date, inclusive")
    case_id: int | None = Field(None, ge=1, le=PG_INT_MAX)

    @model_validator(mode="after")
    def _ordered(self) -> MeetingQuery:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to 早于 date_from / date_to is before date_from")
        return self


class EventQuery(Body):
    after_seq: int = Field(0, ge=0, le=PG_INT_MAX)
    limit: int = Field(100, ge=1, le=500)


# ---------------------------------------------------------------- output


class CaseRef(Out):
    id: int
    project_code: str
    name: str
    organisation: OrganisationRef


class AgendaOut(Out):
    position: int
    item_id: int
    item_name: str
    item_status: str
    department: DepartmentRef
    case: CaseRef


class InvitationOut(Out):
    """A department (representatives: its A and B posts) or an applicant (agents: commissioned)."""

    id: int
    capacity: str
    excused: bool
    excused_reason: str
    department: DepartmentRef | None
    organisation: OrganisationRef | None
    representatives: list[PersonRef]
    agents: list[PersonRef]


class SiteOut(Out):
    id: int
    name: str
    division_code: str
    level: str


class MeetingSummary(Out):
    id: int
    title: str
    status: str
    scheduled_start: datetime
    scheduled_end: datetime
    place: str
    chair: PersonRef
    lead_department: DepartmentRef
    cases: list[CaseRef]


class MeetingOut(MeetingSummary):
    agenda: list[AgendaOut]
    invitations: list[InvitationOut]
    sites: list[SiteOut]


class EventOut(Out):
    seq: int
    ts: datetime
    actor_id: int | None
    type: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class EventPage(Out):
    events: list[EventOut]
    next_after_seq: int | None = Field(description="pass as after_seq for the next page; null at the end")


class ProblemOut(Out):
    seq: int
    kind: str
    expected: str | None
    found: str | None
    message: str


class VerifyOut(Out):
    intact: bool
    count: int
    head_hash: str | None
    problems: list[ProblemOut]


def _summary_fields(meeting: Meeting, cases: dict[int, InvestmentCase]) -> dict[str, Any]:
    case_ids = dict.fromkeys(entry.item.case_id for entry in meeting.agenda)
    return {
        "id": meeting.id, "title": meeting.title, "status": meeting.status,
        "scheduled_start": local(meeting.scheduled_start), "scheduled_end": local(meeting.scheduled_end),
        "place": meeting.place, "chair": person_ref(meeting.chair),
        "lead_department": department_ref(meeting.lead_department),
        "cases": [_case(cases[case_id]) for case_id in case_ids],
    }


def _case(case_row: InvestmentCase) -> CaseRef:
    return CaseRef(id=case_row.id, project_code=case_row.project_code, name=case_row.name,
                   organisation=organisation_ref(case_row.organisation))


def _invitation(invitation: Invitation, detail: MeetingDetail) -> InvitationOut:
    department, organisation = invitation.department, invitation.organisation
    return InvitationOut(
        id=invitation.id, capacity=invitation.capacity, excused=bool(invitation.excused_reason),
        excused_reason=invitation.excused_reason,
        department=department_ref(department) if department else None,
        organisation=organisation_ref(organisation) if organisation else None,
        representatives=[person_ref(u) for u in detail.representatives.get(department.id, [])] if department else [],
        agents=[person_ref(u) for u in detail.agents.get(organisation.id, [])] if organisation else [],
    )


def meeting_out(detail: MeetingDetail) -> MeetingOut:
    meeting = detail.meeting
    return MeetingOut(
        **_summary_fields(meeting, detail.cases),
        agenda=[AgendaOut(position=e.position, item_id=e.item_id, item_name=e.item.name,
                          item_status=e.item.status, department=department_ref(e.item.department),
                          case=_case(detail.cases[e.item.case_id])) for e in meeting.agenda],
        invitations=[_invitation(i, detail) for i in sorted(meeting.invitations, key=lambda i: i.id)],
        sites=[SiteOut.model_validate(site) for site in meeting.sites],
    )


def _event(row: MeetingEvent) -> EventOut:
    return EventOut(seq=row.seq, ts=local(row.ts), actor_id=row.actor_id, type=row.type,
                    payload=row.payload, prev_hash=row.prev_hash, hash=row.hash)


def _problem(problem: ChainProblem) -> ProblemOut:
    return ProblemOut(seq=problem.seq, kind=problem.kind, expected=problem.expected,
                      found=problem.found, message=problem.message)


def refusal(error: MeetingError) -> ApiError:
    """The API form of a service refusal."""
    return ApiError(error.status, str(error), code=error.code or None,
                    details=[{"field": error.field}] if error.field else None)


async def _visible(call: Call) -> Meeting:
    meeting = await find_visible(call.db, call.principal, call.path_int("id"))
    if meeting is None:
        raise ApiError(404, "会议不存在或无权查看 / no such meeting visible to you")
    return meeting


async def _detail_out(call: Call, meeting: Meeting) -> MeetingOut:
    return meeting_out(await load_detail(call.db, meeting))


def _plan_fields(body: MeetingIn | MeetingPatch, fields: set[str]) -> dict[str, Any]:
    values = {name: getattr(body, name) for name in fields}
    if "sites" in values:
        values["sites"] = [SitePlan(site.name, site.division_code) for site in values["sites"]]
    return values


# ---------------------------------------------------------------- endpoints


@API.route("GET", "/meetings", summary="Meetings visible to the caller, upcoming first", query=MeetingQuery,
           response=list[MeetingSummary], tag=TAG)
async def api_list_meetings(call: Call) -> list[MeetingSummary]:
    q: MeetingQuery = call.query
    meetings = await list_meetings(call.db, call.principal, status=q.status, date_from=q.date_from,
                                   date_to=q.date_to, case_id=q.case_id)
    cases = await cases_of(call.db, meetings)
    return [MeetingSummary(**_summary_fields(meeting, cases)) for meeting in meetings]


@API.route("GET", "/meetings/{id}", summary="One meeting with agenda, invitations and video sites",
           response=MeetingOut, tag=TAG)
async def api_get_meeting(call: Call) -> MeetingOut:
    return await _detail_out(call, await _visible(call))


@API.route("POST", "/meetings", summary="Schedule a meeting (chairs only)", roles={Role.CHAIR},
           body=MeetingIn, response=MeetingOut, status=201, tag=TAG)
async def api_schedule_meeting(call: Call) -> MeetingOut:
    body: MeetingIn = call.body
    values = _plan_fields(body, set(MeetingIn.model_fields))
    values["chair_id"] = body.chair_id or call.principal.user_id
    try:
        meeting = await schedule_meeting(call.db, call.principal, MeetingPlan(**values))
    except MeetingError as error:
        raise refusal(error) from None
    return await _detail_out(call, meeting)


@API.route("PATCH", "/meetings/{id}", summary="Change a scheduled meeting (its chair; an administrator "
           "may only reassign chair_id)", roles={Role.CHAIR, Role.ADMIN}, body=MeetingPatch, response=MeetingOut,
           tag=TAG)
async def api_update_meeting(call: Call) -> MeetingOut:
    meeting = await _visible(call)
    try:
        meeting = await update_meeting(call.db, call.principal, meeting.id,
                                       _plan_fields(call.body, call.body.model_fields_set))
    except MeetingError as error:
        raise refusal(error) from None
    await meeting_changed(call.request.app, meeting.id, call.db)
    return await _detail_out(call, meeting)


@API.route("POST", "/meetings/{id}/status", summary="Move a meeting along its life cycle (its chair)",
           roles={Role.CHAIR}, body=StatusIn, response=MeetingOut, tag=TAG)
async def api_change_status(call: Call) -> MeetingOut:
    meeting = await _visible(call)
    try:
        meeting = await change_status_with_minutes(call.db, call.principal, meeting.id, call.body.status,
                                                   call.body.note, context(call.request).settings)
    except MeetingError as error:
        raise refusal(error) from None
    # a live meeting hears of it from the record once committed (services.log_hub), not before
    return await _detail_out(call, meeting)


@API.route("POST", "/meetings/{id}/invitations/{inv_id}/excuse",
           summary="Record 请假 for an invited department (the meeting's chair, or that department's "
                   "representative)",
           roles={Role.CHAIR, Role.CHIEF_REP}, body=ExcuseIn, response=MeetingOut, tag=TAG)
async def api_excuse(call: Call) -> MeetingOut:
    meeting = await _visible(call)
    try:
        await excuse_invitation(call.db, call.principal, meeting.id, call.path_int("inv_id"),
                                call.body.reason)
    except MeetingError as error:
        raise refusal(error) from None
    return await _detail_out(call, meeting)


@API.route("GET", "/meetings/{id}/events", summary="The meeting's event log, a page after `after_seq`",
           query=EventQuery, response=EventPage, tag=TAG)
async def api_events(call: Call) -> EventPage:
    meeting = await _visible(call)
    q: EventQuery = call.query
    rows = await eventlog.read_events(call.db, meeting.id, q.after_seq, q.limit)
    more = len(rows) == q.limit
    return EventPage(events=[_event(row) for row in rows], next_after_seq=rows[-1].seq if more else None)


@API.route("GET", "/meetings/{id}/events/verify", summary="Check the event log's hash chain",
           roles=STAFF_READERS, response=VerifyOut, tag=TAG)
async def api_verify_events(call: Call) -> VerifyOut:
    meeting = await _visible(call)
    check = await eventlog.check_meeting_log(call.db, meeting.id)
    return VerifyOut(intact=check.intact, count=check.count, head_hash=check.head_hash,
                     problems=[_problem(p) for p in check.problems])
