"""Meeting pages: the schedule, one meeting, the chair's scheduling form and the status/请假 forms.

They use the same services and the same visibility rule as the API, so a page can never show or
change what the API would refuse; the forms of a meeting are offered by the services' own rules
(policy.is_meeting_chair, meetings.may_excuse), so another chair sees no buttons either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from pydantic import ValidationError
from sqlalchemy import select

from record.reducer import fold
from server.auth.policy import is_meeting_chair
from server.auth.principal import Principal
from server.db.models import ApprovalItem, InvestmentCase, Meeting, MeetingEvent, User
from server.domain.divisions import Level
from server.domain.meetings import ALLOWED_TRANSITIONS, MeetingStatus
from server.domain.roles import Post, Role
from server.services.clock import CENTRE_TZ
from server.services.eventlog import read_record, recent_events
from server.services.meeting_proposal import a_post_names, propose
from server.services.meetings import (
    EXCUSABLE_STATUSES,
    MEMBER,
    OBSERVER,
    MeetingError,
    MeetingPlan,
    SchedulingChoices,
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
from server.web import i18n
from server.web.api.meetings import MeetingIn
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.form_errors import GENERAL, FieldErrors, Labels, catalog_labels, in_language, validation_errors
from server.web.ids import parse_id, path_id
from server.web.pages.display import held, label, span, when
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
    """The event type's label; a type added without a label reads "other record", never as its
    internal code (the archive's dossier keeps the type for whoever needs it)."""
    key = f"meetings.event.{event_type}"
    text = i18n.translate(lang, key)
    return i18n.translate(lang, "meetings.event.other") if text == key else text


def _event_summary(lang: str, event: MeetingEvent) -> str:
    payload = event.payload
    if event.type == "meeting_status_changed":
        text = f"{label(lang, MeetingStatus(payload['from']))} → {label(lang, MeetingStatus(payload['to']))}"
        return i18n.translate(lang, "meetings.event.with_note", text=text, note=payload["note"]) \
            if payload.get("note") else text
    if event.type == "invitation_excused":
        return payload.get("reason", "")
    if event.type == "meeting_updated":
        return i18n.translate(lang, "punct.list").join(
            i18n.translate(lang, f"meetings.field.{name}") for name in payload.get("changed", []))
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
    record = fold(await read_record(db(request), meeting.id))
    return render(
        request, "meetings/detail.html", meeting=meeting, meeting_status=_status_view(lang, meeting.status),
        span=span(meeting.scheduled_start, meeting.scheduled_end), held=held(lang, record.started, record.ended),
        departments=departments,
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
    # a live meeting hears of it from the record once committed (services.log_hub), not before
    await _or_refuse(change_status_with_minutes(db(request), me, meeting.id, target, str(form.get("note", "")),
                                                context(request).settings))
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

# The form's fields and the catalog keys of their labels (errors name a field by its label).
FORM_LABELS = {
    "case": "meetings.form.case", "title": "meetings.meeting_title", "date": "meetings.date",
    "start_time": "meetings.start_time", "end_time": "meetings.end_time", "place": "meetings.place",
    "lead_department_id": "meetings.lead_department", "chair_id": "meetings.chair",
    "agenda_item_ids": "meetings.agenda", "departments": "meetings.form.departments", "sites": "meetings.sites",
}
# Model and service field names -> the form field that shows their errors.
FORM_FIELD_OF = {"scheduled_start": "start_time", "scheduled_end": "end_time",
                 "member_department_ids": "departments", "observer_department_ids": "departments"}
CHOSEN_FIELDS = frozenset({"lead_department_id", "chair_id", "agenda_item_ids", "departments"})
INVITE_PREFIX = "invite_"
SITE_FIELD = re.compile(r"site_(name|division)_(\d+)")


def _labels(lang: str) -> Labels:
    """The form's labels; a video site row's fields name their row ("会商点2名称")."""
    base = catalog_labels(lang, FORM_LABELS)

    def label(field: str) -> str:
        row = SITE_FIELD.fullmatch(field)
        return i18n.translate(lang, f"meetings.site_{row[1]}", n=row[2]) if row else base(field)
    return label


def _field_of(site_rows: list[int]) -> Callable[[tuple[int | str, ...]], str]:
    """Where an error of MeetingIn shows: a site's fields at their row, the rest by FORM_FIELD_OF."""
    def field_of(loc: tuple[int | str, ...]) -> str:
        name = str(loc[0]) if loc else GENERAL
        if name == "sites" and len(loc) >= 3 and isinstance(loc[1], int) and loc[1] < len(site_rows):
            return f"site_{'name' if loc[2] == 'name' else 'division'}_{site_rows[loc[1]]}"
        name = FORM_FIELD_OF.get(name, name)
        return name if name in FORM_LABELS else GENERAL
    return field_of


def _number(raw: Any) -> Any:
    """A submitted id as an int, or as sent, for MeetingIn to refuse by the field."""
    number = parse_id(str(raw))
    return raw if number is None else number


def _moment(lang: str, day: str, clock: str, field: str, errors: FieldErrors) -> datetime | None:
    """The local date and time as an aware moment, or None with the error noted at its field."""
    label = _labels(lang)
    if not day:
        errors.setdefault("date", i18n.translate(lang, "form.error.required", field=label("date")))
        return None
    if not clock:
        errors.setdefault(field, i18n.translate(lang, "form.error.required", field=label(field)))
        return None
    try:
        parsed_day = date.fromisoformat(day)
    except ValueError:
        errors.setdefault("date", i18n.translate(lang, "form.error.date", field=label("date")))
        return None
    try:
        return datetime.combine(parsed_day, time.fromisoformat(clock), CENTRE_TZ)
    except ValueError:
        errors.setdefault(field, i18n.translate(lang, "form.error.datetime", field=label(field)))
        return None


def _invitations(form: MultiDictProxy[Any]) -> tuple[list[Any], list[Any], bool]:
    """Members and observers from the one department list (invite_<id> = member | observer | empty);
    the flag is false when a choice is none of these."""
    members: list[Any] = []
    observers: list[Any] = []
    for key, value in form.items():
        if not key.startswith(INVITE_PREFIX) or value == "":
            continue
        department = _number(key.removeprefix(INVITE_PREFIX))
        if value == MEMBER:
            members.append(department)
        elif value == OBSERVER:
            observers.append(department)
        else:
            return members, observers, False
    return members, observers, True


def _plan_from_form(lang: str, form: MultiDictProxy[Any], me: Principal) -> tuple[MeetingPlan | None, FieldErrors]:
    """The plan, or the errors by field: checked by the API's own MeetingIn, so the form and the API
    refuse the same input, but said with the form's labels in the page's language."""
    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    errors: FieldErrors = {}
    start = _moment(lang, text("date"), text("start_time"), "start_time", errors)
    end = _moment(lang, text("date"), text("end_time"), "end_time", errors)
    site_rows = [n for n in range(1, SITE_ROWS + 1) if text(f"site_name_{n}")]
    members, observers, understood = _invitations(form)
    if not understood:
        errors["departments"] = i18n.translate(lang, "form.error.choice", field=_labels(lang)("departments"))
    chair = text("chair_id")
    data = {"title": text("title"), "place": text("place"), "lead_department_id": _number(text("lead_department_id"))
            if text("lead_department_id") else None, "chair_id": _number(chair) if chair else None,
            "agenda_item_ids": [_number(v) for v in form.getall("agenda_item_ids", [])],
            "member_department_ids": members, "observer_department_ids": observers,
            "sites": [{"name": text(f"site_name_{n}"), "division_code": text(f"site_division_{n}")} for n in site_rows],
            "scheduled_start": start, "scheduled_end": end}
    if data["lead_department_id"] is None:
        del data["lead_department_id"]  # missing: "choose the lead department"
    try:
        body = MeetingIn.model_validate(data)
    except ValidationError as exc:
        found = validation_errors(lang, exc, _labels(lang), _field_of(site_rows), CHOSEN_FIELDS)
        unread = {"start_time"} if start is None else set()  # already said at the date or the time
        unread |= {"end_time"} if end is None else set()
        for field, sentence in found.items():
            if field not in unread:
                errors.setdefault(field, sentence)
    if errors:
        return None, errors
    return MeetingPlan(
        title=body.title, scheduled_start=body.scheduled_start, scheduled_end=body.scheduled_end,
        place=body.place, lead_department_id=body.lead_department_id, chair_id=body.chair_id or me.user_id,
        agenda_item_ids=body.agenda_item_ids, member_department_ids=body.member_department_ids,
        observer_department_ids=body.observer_department_ids,
        sites=[SitePlan(site.name, site.division_code) for site in body.sites]), {}


def _service_errors(lang: str, error: MeetingError) -> FieldErrors:
    """A refusal of the service at the field it names, in the page's language."""
    field = FORM_FIELD_OF.get(error.field, error.field)
    return {field if field in FORM_LABELS else GENERAL: in_language(lang, str(error))}


def _cases_with_open_items(choices: SchedulingChoices) -> dict[int, tuple[InvestmentCase, list[ApprovalItem]]]:
    """Cases that have items to review, each with those items, in the choices' order."""
    cases: dict[int, tuple[InvestmentCase, list[ApprovalItem]]] = {}
    for item, case_row in choices.items:
        cases.setdefault(case_row.id, (case_row, []))[1].append(item)
    return cases


async def _form_page(request: web.Request, me: Principal, form: MultiDictProxy[Any] | None,
                     errors: FieldErrors | None = None) -> web.Response:
    """The scheduling form for the chosen case (?case= or the form's case): its open items ticked,
    the departments handling them proposed as members with their A posts, its approving department
    as the lead; every other department listed once, to invite as member or observer."""
    lang = _lang(request)
    choices = await scheduling_choices(db(request))
    cases = _cases_with_open_items(choices)
    values = form if form is not None else MultiDictProxy(MultiDict())
    case_id = parse_id(str(values.get("case", request.query.get("case", ""))))
    proposal = propose(*cases[case_id]) if case_id in cases else None
    proposed = {d.id for d in proposal.departments} if proposal else set()
    submitted = form is not None

    def invite(department_id: int) -> str:
        if submitted:
            return str(values.get(f"{INVITE_PREFIX}{department_id}", ""))
        return MEMBER if department_id in proposed else ""

    def ticked(item_id: int) -> bool:
        if submitted:
            return str(item_id) in set(values.getall("agenda_item_ids", []))
        return proposal is not None and any(item.id == item_id for item in proposal.items)

    default_lead = str(proposal.lead_department_id) if proposal else ""
    errors = errors or {}
    return render(
        request, "meetings/new.html", status=422 if errors else 200, choices=choices, errors=errors,
        general=[sentence for field, sentence in errors.items() if field not in FORM_LABELS and
                 not SITE_FIELD.fullmatch(field)],
        cases=[case_row for case_row, _items in cases.values()], proposal=proposal,
        proposed=[d for d in choices.departments if d.id in proposed],
        others=sorted((d for d in choices.departments if d.id not in proposed),  # the centre's own first
                      key=lambda d: d.division_code != context(request).settings.centre.division),
        a_posts=await a_post_names(db(request)), invite=invite, ticked=ticked,
        levels={level.value: label(lang, level) for level in Level},
        value=lambda name, default="": str(values.get(name, default)),
        lead=str(values.get("lead_department_id", default_lead)), me_id=str(me.user_id),
        site_rows=range(1, SITE_ROWS + 1), member=MEMBER, observer=OBSERVER,
        centre_division=context(request).settings.centre.division,  # a new site row's region: the centre's own
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
    lang = _lang(request)
    form = await request.post()
    plan, errors = _plan_from_form(lang, form, me)
    if plan is None:
        return await _form_page(request, me, form, errors)
    try:
        meeting = await schedule_meeting(db(request), me, plan)
    except MeetingError as error:
        if error.status in (403, 404):
            raise ApiError(error.status, str(error)) from None
        return await _form_page(request, me, form, _service_errors(lang, error))
    raise web.HTTPFound(f"/meetings/{meeting.id}")
