"""The minutes page of a meeting: the rendered version, where each department stands, and the
forms each person may use (the chair's editor, send, finalise and new version; a representative's
confirm/object and amendment of their own department's opinion).

The chair's editor is one form: every editable text of the open version in place (named
``edit:<path>``) and one reason, so a save is one batch; the service records only the texts that
changed, so the form works as a plain post without scripts (minutes_editor.js only helps).

Every form posts to a route here that calls the same services as the API, so the page can never
do what the API would refuse; a refusal shows the error page with the service's message.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from aiohttp import web

from minutes.edit import TextEdit
from server.auth.policy import is_meeting_chair
from server.auth.principal import Principal
from server.domain.opinions import OpinionKind
from server.domain.roles import Post, Role
from server.services.meetings import MeetingError
from server.services.minutes_reading import Reader, readable_version, reader_for, reader_notice
from server.services.minutes_state import AWAITING, OPEN_STATUSES, MinutesError, minutes_of
from server.services.minutes_workflow import (
    AMENDMENT,
    EDIT,
    OpinionAmendment,
    amend_opinion,
    answer,
    edit_draft,
    finalise,
    generate_draft,
    new_version,
    send_for_confirmation,
)
from server.web import i18n
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.ids import parse_id, path_id
from server.web.pages.display import label, when
from server.web.pages.minutes_editor import edit_batches, editor_sections
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()
MEETING = r"/meetings/{id:\d+}/minutes"
EDIT_FIELD = "edit:"  # the editor's field of the text at <path> is named edit:<path>


async def _call(operation: Any) -> Any:
    """Await a workflow call, turning its refusal (the minutes' own, or a meeting rule such as the
    chair's ownership) into the error page with the same status."""
    try:
        return await operation
    except (MinutesError, MeetingError) as error:
        raise ApiError(error.status, error.message) from None


def _meeting_id(request: web.Request) -> int:
    return path_id(request, "id")


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: str(value) for key, value in form.items()}


def _back(meeting_id: int) -> web.HTTPFound:
    return web.HTTPFound(f"/meetings/{meeting_id}/minutes")


def _own_opinions(me: Principal, reader: Reader, department_code: str | None) -> list[dict[str, Any]]:
    """The opinions of the representative's own department in the open version (amendable)."""
    state = reader.state
    if state is None or me.role != Role.CHIEF_REP or department_code is None \
            or state.current.status not in OPEN_STATUSES:
        return []
    return [{"item": item, "opinion": opinion}
            for item in minutes_of(state.current).items for opinion in item.opinions
            if opinion.department_code == department_code]


@routes.get(MEETING)
async def minutes_page(request: web.Request) -> web.Response:
    me = require_page_user(request)
    lang = i18n.language(request)
    reader = await _call(reader_for(db(request), me, _meeting_id(request)))
    state = reader.state
    is_chair = is_meeting_chair(me, reader.meeting.chair_id)
    values: dict[str, Any] = {"meeting": reader.meeting, "state": state, "is_chair": is_chair,
                              "version": None, "editing": False, "editor": [], "own_opinions": [], "answers": [],
                              "may_answer": False, "kinds": [], "notice": [], "whole": reader.whole_minutes,
                              "saved": "saved" in request.query}
    if state is not None:
        raw = request.query.get("version", "")
        try:
            shown = _shown(reader, raw)
        except MinutesError as error:
            raise ApiError(error.status, error.message) from None
        current = state.current
        minutes = minutes_of(shown)
        editing = is_chair and shown is current and current.status in OPEN_STATUSES
        department_code = _code_of(state, me.department_id) if me.department_id else None
        t = functools.partial(i18n.translate, lang)
        latest = minutes_of(current)
        values.update(
            version=shown, versions=reader.versions(), minutes=minutes, editing=editing,
            editor=editor_sections(minutes, t, lang) if editing else [],
            answers=[{"department": a.department, "answer": a.answer, "when": when(a.answer.at) if a.answer else "",
                      "post": label(lang, Post(a.answer.post)) if a.answer else ""}
                     for a in state.answers] if reader.drafts else [],
            may_answer=(me.role == Role.CHIEF_REP and current.status == AWAITING and department_code is not None),
            own_opinions=_own_opinions(me, reader, department_code),
            kinds=[{"value": k.value, "label": label(lang, k)} for k in OpinionKind],
            notice=_notice_numbers(reader),
            edit_batches=edit_batches(state.edits, latest, t, lang, EDIT) if reader.drafts else [],
            amendment_batches=edit_batches(state.edits, latest, t, lang, AMENDMENT) if reader.drafts else [],
        )
    return render(request, "minutes/page.html", **values)


def _notice_numbers(reader: Reader) -> list[str]:
    """The numbers of the 一次性告知书 this reader is given with the final minutes (a letter per
    applicant), as the dossier lists it; none before the final or for a reader without a case in it."""
    if reader.state is None or reader.state.latest_final is None:
        return []
    try:
        return [letter.number for letter in reader_notice(reader).letters]
    except MinutesError:
        return []


def _code_of(state: Any, department_id: int) -> str | None:
    """The code of the representative's department if it attended (only those amend and answer)."""
    return next((a.department.code for a in state.answers if a.department.id == department_id), None)


def _shown(reader: Reader, raw: str) -> Any:
    """The version asked for by ?version=n; by default the current one (applicants: the final)."""
    number = parse_id(raw)
    if raw and number is None:
        raise MinutesError(404, "没有这个版本 / no such version")
    if reader.drafts and not raw:
        return reader.state.current if reader.state else readable_version(reader)
    return readable_version(reader, number)


async def _post(request: web.Request, action: Callable[[Principal, int, dict[str, str]], Awaitable[Any]]) -> NoReturn:
    """A form post: signed in, the meeting visible (404 otherwise), the action, back to the page."""
    me = require_page_user(request)
    meeting_id = _meeting_id(request)
    await _call(reader_for(db(request), me, meeting_id))
    await _call(action(me, meeting_id, await _form(request)))
    raise _back(meeting_id)


@routes.post(MEETING + "/generate")
async def generate_submit(request: web.Request) -> web.Response:
    settings = context(request).settings
    await _post(request, lambda me, meeting_id, _form: generate_draft(db(request), me, meeting_id, settings))


def _edits(form: dict[str, str]) -> list[TextEdit]:
    """Every text the editor posted; the unchanged ones are left out by the service."""
    return [TextEdit(key.removeprefix(EDIT_FIELD), value) for key, value in form.items()
            if key.startswith(EDIT_FIELD)]


@routes.post(MEETING + "/edits")
async def edit_submit(request: web.Request) -> web.Response:
    """One save of the editor: the changed texts as one batch under the one reason; back to the
    page at the history, where the batch now stands first."""
    me = require_page_user(request)
    meeting_id = _meeting_id(request)
    await _call(reader_for(db(request), me, meeting_id))
    form = await _form(request)
    await _call(edit_draft(db(request), me, meeting_id, _edits(form), form.get("reason", "")))
    raise web.HTTPFound(f"/meetings/{meeting_id}/minutes?saved=1#minutes-history")


def _amendment(form: dict[str, str]) -> OpinionAmendment:
    try:
        kind = OpinionKind(form.get("kind", ""))
    except ValueError:
        raise ApiError(422, "未知的意见类型 / unknown opinion kind") from None
    return OpinionAmendment(
        kind=kind, text=form.get("text", ""),
        conditions=tuple(line for line in form.get("conditions", "").splitlines() if line.strip()),
        reasons=form.get("reasons", ""), legal_basis=form.get("legal_basis", ""),
        refer_to=form.get("refer_to", "").strip() or None, reason=form.get("reason", ""))


@routes.post(MEETING + "/amendments")
async def amend_submit(request: web.Request) -> web.Response:
    settings = context(request).settings
    await _post(request, lambda me, meeting_id, form: amend_opinion(
        db(request), me, meeting_id, form.get("opinion_id", ""), _amendment(form), settings))


@routes.post(MEETING + "/send")
async def send_submit(request: web.Request) -> web.Response:
    await _post(request, lambda me, meeting_id, _form: send_for_confirmation(db(request), me, meeting_id))


def _answer(request: web.Request, me: Principal, meeting_id: int, form: dict[str, str]) -> Awaitable[Any]:
    verdict, version = form.get("verdict", ""), form.get("version", "")
    number = parse_id(version)
    if verdict not in ("confirm", "object") or number is None:
        raise ApiError(422, "请选择确认或提出异议 / choose confirm or object")
    return answer(db(request), me, meeting_id, verdict=verdict,  # type: ignore[arg-type]
                  comment=form.get("comment", ""), version=number)


@routes.post(MEETING + "/answers")
async def answer_submit(request: web.Request) -> web.Response:
    await _post(request, lambda me, meeting_id, form: _answer(request, me, meeting_id, form))


@routes.post(MEETING + "/finalise")
async def finalise_submit(request: web.Request) -> web.Response:
    settings = context(request).settings
    await _post(request, lambda me, meeting_id, form: finalise(db(request), me, meeting_id, form.get("note", ""),
                                                               settings))


@routes.post(MEETING + "/versions")
async def new_version_submit(request: web.Request) -> web.Response:
    settings = context(request).settings
    await _post(request, lambda me, meeting_id, form: new_version(db(request), me, meeting_id,
                                                                  form.get("reason", ""), settings))
