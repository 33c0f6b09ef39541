"""Meeting pages: the schedule, one meeting, the chair's scheduling form and the status/请假 forms.

They use the same services and the same visibility rule as the API, so a page can never show or
change what the API would refuse; the forms of a meeting are offered by the services' own rules
(policy.is_meeting_chair, meetings.may_excuse), so another chair sees no buttons either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from sqlalchemy import select

from server.auth.policy import is_meeting_chair
from server.auth.principal import Principal
from server.db.models import Meeting, MeetingEvent, User
from server.domain.divisions import Level
from server.domain.meetings import ALLOWED_TRANSITIONS, MeetingStatus
from server.domain.roles import Post, Role
from server.services.clock import CENTRE_TZ
from server.services.eventlog import recent_events
from server.services.meetings import (
    EXCUSABLE_STATUSES,
    MEMBER,
    OBSERVER,
    MeetingError,
    MeetingPlan,
    SitePlan,
    cases_of,
    excuse_invitation,
    find_visible,
    list_meetings,
    load_detail,
    may_excuse,
    schedule_meeting,
    scheduling_choices,
    sites_by_level,
)
from server.services.minutes_workflow import WORKFLOW_STATUSES, change_status_with_minutes
from server.signaling.server import meeting_changed
from server.web import i18n
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.ids import parse_id, path_id
from server.web.pages.display import label, span, when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()

RECENT_EVENTS = 10
SITE_ROWS = 3
BADGES = {
    MeetingStatus.SCHEDULED: "",
    MeetingStatus.LIVE: "ok",
    MeetingStatus.ENDED: "",
    MeetingStatus.MINUTES_DRAFT: "warn",
    MeetingStatus.MINUTES_FINAL: "ok",
    MeetingStatus.CANCELLED: "bad",
}


def _lang(request: web.Request) -> str:
    return i18n.language(request)


def _status_view(lang: str, status: str) -> dict[str, str]:
    member = MeetingStatus(status)
    return {"value": member.value, "label": label(lang, member), "badge": BADGES[member]}


def _require_chair(principal: Principal) -> None:
    if principal.role != Role.CHAIR:
        raise ApiError(403, "只有会议主持人可以执行此操作 / only chairs may do this")


async def _visible_or_404(request: web.Request, principal: Principal) -> Meeting:
    meeting = await find_visible(db(request), principal, path_id(request, "id"))
    if meeting is None:
        raise ApiError(404, "会议不存在或无权查看 / no such meeting visible to you")
    return meeting


# ---------------------------------------------------------------- the schedule


@routes.get("/meetings")
async def schedule_page(request: web.Request) -> web.Response:
    me = require_page_user(request)
    lang = _lang(request)
    raw_status = request.query.get("status", "")
    try:
        status = MeetingStatus(raw_status) if raw_status else None
    except ValueError:
        raise ApiError(422, f"未知的会议状态 / unknown meeting status: {raw_status}") from None
    now = datetime.now(UTC)
    meetings = await list_meetings(db(request), me, status=status, now=now)
    cases = await cases_of(db(request), meetings)
    upcoming: list[dict[str, Any]] = []
    past: list[dict[str, Any]] = []
    for meeting in meetings:
        codes = list(dict.fromkeys(cases[e.item.case_id].project_code for e in meeting.agenda))
        row = {"id": meeting.id, "title": meeting.title, "place": meeting.place, "cases": codes,
               "span": span(meeting.scheduled_start, meeting.scheduled_end),
               "status": _status_view(lang, meeting.status)}
        (upcoming if meeting.scheduled_end >= now else past).append(row)
    return render(request, "meetings/list.html", upcoming=upcoming, past=past, chosen_status=raw_status,
                  statuses=[_status_view(lang, s.value) for s in MeetingStatus])


# ---------------------------------------------------------------- one meeting


def _event_label(lang: str, event_type: str) -> str:
    """The event type's label; types other slices add without a label show as they are."""
    key = f"meetings.event.{event_type}"
    text = i18n.translate(lang, key)
    return event_type if text == key else text


def _event_summary(lang: str, event: MeetingEvent) -> str:
    payload = event.payload
    if event.type == "meeting_status_changed":
        text = f"{label(lang, MeetingStatus(payload['from']))} → {label(lang, MeetingStatus(payload['to']))}"
        return f"{text}（{payload['note']}）" if payload.get("note") else text
    if event.type == "invitation_excused":
        return payload.get("reason", "")
    if event.type == "meeting_updated":
        return "、".join(i18n.translate(lang, f"meetings.field.{name}") for name in payload.get("changed", []))
    return ""


async def _actor_names(request: web.Request, events: list[MeetingEvent]) -> dict[int, str]:
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    rows = await db(request).execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


@routes.get(r"/meetings/{id:\d+}")
async def meeting_page(request: web.Request) -> web.Response:
    me = require_page_user(request)
    lang = _lang(request)
    meeting = await _visible_or_404(request, me)
    detail = await load_detail(db(request), meeting)
    status = MeetingStatus(meeting.status)
    departments: dict[str, list[dict[str, Any]]] = {"present": [], "excused": [], "observer": []}
    applicants = []
    for invitation in sorted(meeting.invitations, key=lambda i: i.id):
        organisation, department = invitation.organisation, invitation.department
        if organisation is not None:
            applicants.append({"organisation": organisation, "agents": detail.agents.get(organisation.id, [])})
            continue
        if department is None:  # not reached: an invitation is of an organisation or of a department
            continue
        posts = {p.post: p for p in detail.representatives.get(department.id, [])}
        group = ("excused" if invitation.excused_reason
                 else "observer" if invitation.capacity == OBSERVER else "present")
        departments[group].append({
            "invitation": invitation, "department": department,
            "level": label(lang, Level(department.division.level)),
            "capacity": invitation.capacity, "a": posts.get(Post.A.value), "b": posts.get(Post.B.value),
            "may_excuse": status in EXCUSABLE_STATUSES and may_excuse(me, meeting, department.id),
        })
    events = await recent_events(db(request), meeting.id, RECENT_EVENTS)
    actors = await _actor_names(request, events)
    return render(
        request, "meetings/detail.html", meeting=meeting, meeting_status=_status_view(lang, meeting.status),
        span=span(meeting.scheduled_start, meeting.scheduled_end), departments=departments,
        applicants=applicants, cases=detail.cases, member=MEMBER,
        sites=[(label(lang, level), sites) for level, sites in sites_by_level(meeting)],
        events=[{"seq": e.seq, "when": when(e.ts),
                 "actor": actors.get(e.actor_id, "—") if e.actor_id is not None else "—",
                 "type": _event_label(lang, e.type), "summary": _event_summary(lang, e)}
                for e in events],
        next_statuses=([_status_view(lang, s.value) for s in MeetingStatus
                        if s in ALLOWED_TRANSITIONS[status] and s not in WORKFLOW_STATUSES]
                       if is_meeting_chair(me, meeting.chair_id) else []),
    )


@routes.post(r"/meetings/{id:\d+}/status")
async def status_submit(request: web.Request) -> web.Response:
    me = require_page_user(request)
    _require_chair(me)
    meeting = await _visible_or_404(request, me)
    form = await request.post()
    try:
        target = MeetingStatus(str(form.get("status", "")))
    except ValueError:
        raise ApiError(422, "未知的会议状态 / unknown meeting status") from None
    await _or_refuse(change_status_with_minutes(db(request), me, meeting.id, target, str(form.get("note", "")),
                                                context(request).settings))
    await meeting_changed(request.app, meeting.id, db(request))
    raise web.HTTPFound(f"/meetings/{meeting.id}")


@routes.post(r"/meetings/{id:\d+}/invitations/{inv_id:\d+}/excuse")
async def excuse_submit(request: web.Request) -> web.Response:
    me = require_page_user(request)
    if me.role not in (Role.CHAIR, Role.CHIEF_REP):
        raise ApiError(403)
    meeting = await _visible_or_404(request, me)
    form = await request.post()
    await _or_refuse(excuse_invitation(db(request), me, meeting.id, path_id(request, "inv_id"),
                                       str(form.get("reason", ""))))
    raise web.HTTPFound(f"/meetings/{meeting.id}")


async def _or_refuse(operation: Any) -> Any:
    """Await a service call, turning its refusal into an error page with the same status."""
    try:
        return await operation
    except MeetingError as error:
        raise ApiError(error.status, str(error)) from None


# ---------------------------------------------------------------- scheduling form


def _ids(form: MultiDictProxy[Any], name: str) -> list[int]:
    values = []
    for raw in form.getall(name, []):
        number = parse_id(raw)
        if number is None:
            raise MeetingError(f"无效的选择 / invalid choice in {name}", field=name)
        values.append(number)
    return values


def _local_moment(day: str, clock: str, field: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), CENTRE_TZ)
    except ValueError:
        raise MeetingError("请填写有效的日期和时间 / enter a valid date and time", field=field) from None


def _plan_from_form(form: MultiDictProxy[Any], me: Principal) -> MeetingPlan:
    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    chair_ids = _ids(form, "chair_id")
    lead = _ids(form, "lead_department_id")
    if not lead:
        raise MeetingError("请选择牵头部门 / choose the lead department", field="lead_department_id")
    sites = [SitePlan(text(f"site_name_{n}"), text(f"site_division_{n}"))
             for n in range(1, SITE_ROWS + 1) if text(f"site_name_{n}")]
    return MeetingPlan(
        title=text("title"),
        scheduled_start=_local_moment(text("date"), text("start_time"), "start_time"),
        scheduled_end=_local_moment(text("date"), text("end_time"), "end_time"),
        lead_department_id=lead[0], chair_id=chair_ids[0] if chair_ids else me.user_id,
        agenda_item_ids=_ids(form, "agenda_item_ids"), place=text("place"),
        member_department_ids=_ids(form, "member_department_ids"),
        observer_department_ids=_ids(form, "observer_department_ids"), sites=sites,
    )


async def _form_page(request: web.Request, me: Principal, form: MultiDictProxy[Any] | None,
                     message: str = "", status: int = 200) -> web.Response:
    choices = await scheduling_choices(db(request))
    values = form if form is not None else MultiDictProxy(MultiDict())
    return render(
        request, "meetings/new.html", status=status, choices=choices, message=message,
        value=lambda name, default="": str(values.get(name, default)),
        chosen=lambda name: set(values.getall(name, [])), me_id=str(me.user_id),
        site_rows=range(1, SITE_ROWS + 1),
    )


@routes.get("/meetings/new")
async def new_meeting_form(request: web.Request) -> web.Response:
    me = require_page_user(request)
    _require_chair(me)
    return await _form_page(request, me, None)


@routes.post("/meetings/new")
async def new_meeting_submit(request: web.Request) -> web.Response:
    me = require_page_user(request)
    _require_chair(me)
    form = await request.post()
    try:
        meeting = await schedule_meeting(db(request), me, _plan_from_form(form, me))
    except MeetingError as error:
        return await _form_page(request, me, form, str(error), status=error.status)
    raise web.HTTPFound(f"/meetings/{meeting.id}")
