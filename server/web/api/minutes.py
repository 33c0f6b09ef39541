"""The minutes of a meeting over the API: read, download, edit, amend, confirm, finalise, correct.

Reading follows server.services.minutes_reading (applicants: final minutes of their own cases and
the 一次性告知书); every write goes through server.services.minutes_workflow, which refuses
before writing anything, so a refused request leaves no trace. The chair's acts are for the
meeting's own chair (another chair: 403 "not_the_chair", the one check of services.meetings).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from aiohttp import web
from pydantic import Field

from minutes.edit import TextEdit, editable_paths
from server.db.models import MinutesEdit, MinutesVersion
from server.domain.opinions import OpinionKind
from server.domain.roles import Role
from server.schemas import fields
from server.schemas.base import Body, Out
from server.schemas.fields import PG_INT_MAX, DbId
from server.schemas.refs import DepartmentRef, department_ref
from server.services.meetings import MeetingError
from server.services.minutes_reading import (
    DocumentFormat,
    NoticeFormat,
    Reader,
    media_type,
    notice_document,
    readable_version,
    reader_for,
    require_state,
    version_document,
)
from server.services.minutes_state import OPEN_STATUSES, MinutesError, content_sha256, minutes_of
from server.services.minutes_workflow import (
    OpinionAmendment,
    amend_opinion,
    answer,
    edit_draft,
    finalise,
    generate_draft,
    new_version,
    send_for_confirmation,
)
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError

TAG = "minutes"
BASE = "/meetings/{id}/minutes"
CHAIR_ONLY = {Role.CHAIR}
REPRESENTATIVES = {Role.CHIEF_REP}
R = TypeVar("R")


# ---------------------------------------------------------------- input


class EditIn(Body):
    path: Annotated[str, fields.one_line(256, 1)]
    text: Annotated[str, fields.paragraphs(4000)]


class EditsIn(Body):
    edits: list[EditIn] = Field(min_length=1, max_length=50)
    reason: Annotated[str, fields.paragraphs(1000, 1)]


class AmendmentIn(Body):
    kind: Literal["agree", "agree_in_principle", "conditional", "disagree", "refer_upward"]
    text: Annotated[str, fields.paragraphs(4000)] = ""
    conditions: list[Annotated[str, fields.paragraphs(1000)]] = Field(default_factory=list, max_length=30)
    reasons: Annotated[str, fields.paragraphs(4000)] = ""
    legal_basis: Annotated[str, fields.paragraphs(2000)] = ""
    refer_to: Annotated[str, fields.one_line(100)] | None = None
    """For refer_upward, and required there: the higher authority (a department's code or name)."""
    reason: Annotated[str, fields.paragraphs(1000, 1)]


class AnswerIn(Body):
    verdict: Literal["confirm", "object"]
    version: int = Field(strict=True, ge=1, le=PG_INT_MAX)
    comment: Annotated[str, fields.paragraphs(2000)] = ""
    department_id: DbId | None = None
    person_id: DbId | None = None


class FinaliseIn(Body):
    note: Annotated[str, fields.paragraphs(2000)] = ""


class NewVersionIn(Body):
    reason: Annotated[str, fields.paragraphs(1000, 1)]


class DocumentQuery(Body):
    format: Literal["pdf", "docx", "html", "json"] = "pdf"


class NoticeQuery(Body):
    format: Literal["pdf", "html"] = "pdf"


# ---------------------------------------------------------------- output


class VersionSummaryOut(Out):
    version: int
    status: str
    sha256: str | None
    reason: str
    created_at: datetime
    finalised_at: datetime | None
    finalise_note: str


class VersionOut(VersionSummaryOut):
    content: dict[str, Any]
    content_sha256: str


class AnswerOut(Out):
    department: DepartmentRef
    verdict: str | None
    comment: str
    person: str | None
    post: str | None
    at: datetime | None


class EditOut(Out):
    kind: str
    path: str
    old_text: str
    new_text: str
    editor: str
    reason: str
    at: datetime


class MinutesOut(Out):
    meeting_id: int
    number: str
    year: int
    seq: int
    current: VersionOut
    versions: list[VersionSummaryOut]
    answers: list[AnswerOut]
    edits: list[EditOut]
    editable_paths: list[str]


def _version_out(version: MinutesVersion) -> VersionOut:
    return VersionOut.model_validate({**VersionSummaryOut.model_validate(version).model_dump(),
                                      "content": version.content,
                                      "content_sha256": content_sha256(version.content)})


def _edit_out(edit: MinutesEdit) -> EditOut:
    return EditOut(kind=edit.kind, path=edit.path, old_text=edit.old_text, new_text=edit.new_text,
                   editor=edit.editor.display_name, reason=edit.reason, at=edit.at)


def _minutes_out(reader: Reader) -> MinutesOut:
    state = require_state(reader)
    shown = readable_version(reader)
    internal = reader.drafts and shown is state.current  # applicants see the final text only
    return MinutesOut(
        meeting_id=reader.meeting.id, number=state.document.number, year=state.document.year,
        seq=state.document.seq, current=_version_out(shown),
        versions=[VersionSummaryOut.model_validate(v) for v in reader.versions()],
        answers=[AnswerOut(department=department_ref(a.department),
                           verdict=a.answer.verdict if a.answer else None,
                           comment=a.answer.comment if a.answer else "",
                           person=a.answer.person.display_name if a.answer else None,
                           post=a.answer.post if a.answer else None,
                           at=a.answer.at if a.answer else None) for a in state.answers] if internal else [],
        edits=[_edit_out(e) for e in state.edits] if internal else [],
        editable_paths=(editable_paths(minutes_of(shown))
                        if internal and shown.status in OPEN_STATUSES else []),
    )


def _refusal(error: MinutesError | MeetingError) -> ApiError:
    return ApiError(error.status, error.message, code=error.code or None,
                    details=[{"field": error.field, "message": error.message}] if error.field else None)


def _refusals(handler: Callable[[Call], Awaitable[R]]) -> Callable[[Call], Awaitable[R]]:
    """Every handler here: a refusal of the minutes services (or of the meeting rules they apply,
    e.g. the chair's ownership) becomes the API error with the same status, message, code and
    field (the services check first and write nothing when they refuse)."""
    @functools.wraps(handler)
    async def handle(call: Call) -> R:
        try:
            return await handler(call)
        except (MinutesError, MeetingError) as error:
            raise _refusal(error) from None
    return handle


async def _reader(call: Call) -> Reader:
    return await reader_for(call.db, call.principal, call.path_int("id"))


async def _after_write(call: Call) -> MinutesOut:
    return _minutes_out(await _reader(call))


async def _visible_meeting_id(call: Call) -> int:
    """The meeting id once the caller may see the meeting (404 otherwise, as everywhere)."""
    return (await _reader(call)).meeting.id


def _file(data: bytes, fmt: str, name: str, version: MinutesVersion | None = None) -> web.Response:
    ascii_name = f"minutes.{fmt}"
    headers = {"Content-Type": media_type(fmt),
               "Content-Disposition": f'{"inline" if fmt in ("pdf", "html") else "attachment"}; '
                                      f'filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}',
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}
    if version is not None and version.sha256:
        headers["X-Minutes-SHA256"] = version.sha256
    if fmt == "html":  # a rendered document, not an application page: no scripts at all
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return web.Response(body=data, headers=headers)


# ---------------------------------------------------------------- reading


@API.route("GET", BASE, summary="A meeting's minutes: the current version, the list of versions, "
           "confirmations and recorded edits (applicants: the final version only)",
           response=MinutesOut, tag=TAG)
@_refusals
async def api_get_minutes(call: Call) -> MinutesOut:
    return _minutes_out(await _reader(call))


@API.route("GET", BASE + "/versions/{n}", summary="One version of the minutes with its content",
           response=VersionOut, tag=TAG)
@_refusals
async def api_get_version(call: Call) -> VersionOut:
    reader = await _reader(call)
    return _version_out(readable_version(reader, call.path_int("n")))


@API.route("GET", BASE + "/versions/{n}/document", summary="One version as a file: "
           "?format=pdf|docx|html|json (json: the canonical JSON a final version's SHA-256 covers)",
           query=DocumentQuery, response=bytes, tag=TAG)
@_refusals
async def api_version_document(call: Call) -> web.Response:
    reader = await _reader(call)
    fmt: DocumentFormat = call.query.format
    version = readable_version(reader, call.path_int("n"))
    data = await version_document(version, fmt, context(call.request).settings.data_dir)
    number = require_state(reader).document.number
    return _file(data, fmt, f"{number}（第{version.version}版）.{fmt}", version)


@API.route("GET", BASE + "/notice", summary="The 一次性告知书 issued with the final minutes: "
           "?format=pdf|html (applicants: their own cases)", query=NoticeQuery, response=bytes, tag=TAG)
@_refusals
async def api_notice(call: Call) -> web.Response:
    reader = await _reader(call)
    fmt: NoticeFormat = call.query.format
    data = await notice_document(reader, fmt)
    return _file(data, fmt, f"{require_state(reader).document.number}一次性告知书.{fmt}")


# ---------------------------------------------------------------- writing


@API.route("POST", BASE, summary="Generate the draft of an ended meeting's minutes (its chair; "
           "normally automatic when the meeting ends)", roles=CHAIR_ONLY, response=MinutesOut, status=201,
           tag=TAG)
@_refusals
async def api_generate(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    await generate_draft(call.db, call.principal, meeting_id, context(call.request).settings)
    return await _after_write(call)


@API.route("POST", BASE + "/edits", summary="Reword free text of the open version (its chair; each "
           "edit recorded with the reason)", roles=CHAIR_ONLY, body=EditsIn, response=MinutesOut, tag=TAG)
@_refusals
async def api_edit(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    edits = [TextEdit(e.path, e.text) for e in call.body.edits]
    await edit_draft(call.db, call.principal, meeting_id, edits, call.body.reason)
    return await _after_write(call)


@API.route("POST", BASE + "/opinions/{opinion_id}/amendments", summary="Amend the department's own "
           "opinion in the open version (its A or B post; recorded in the meeting's log)",
           roles=REPRESENTATIVES, body=AmendmentIn, response=MinutesOut, tag=TAG)
@_refusals
async def api_amend(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    body: AmendmentIn = call.body
    amendment = OpinionAmendment(kind=OpinionKind(body.kind), text=body.text, conditions=tuple(body.conditions),
                                 reasons=body.reasons, legal_basis=body.legal_basis,
                                 refer_to=body.refer_to, reason=body.reason)
    opinion_id = call.request.match_info["opinion_id"]
    if len(opinion_id) > 64:
        raise ApiError(404)
    await amend_opinion(call.db, call.principal, meeting_id, opinion_id, amendment,
                        context(call.request).settings)
    return await _after_write(call)


@API.route("POST", BASE + "/send", summary="Send the draft to the attending departments for "
           "confirmation (its chair)", roles=CHAIR_ONLY, response=MinutesOut, tag=TAG)
@_refusals
async def api_send(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    await send_for_confirmation(call.db, call.principal, meeting_id)
    return await _after_write(call)


@API.route("POST", BASE + "/answers", summary="Confirm or object to the version awaiting confirmation "
           "(an attending department's A or B post, for itself only)", roles=REPRESENTATIVES, body=AnswerIn,
           response=MinutesOut, tag=TAG)
@_refusals
async def api_answer(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    body: AnswerIn = call.body
    await answer(call.db, call.principal, meeting_id, verdict=body.verdict, comment=body.comment,
                 version=body.version, department_id=body.department_id, person_id=body.person_id)
    return await _after_write(call)


@API.route("POST", BASE + "/finalise", summary="Finalise the version awaiting confirmation (its chair; "
           "a note is required unless every attending department confirmed)", roles=CHAIR_ONLY,
           body=FinaliseIn, response=MinutesOut, tag=TAG)
@_refusals
async def api_finalise(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    await finalise(call.db, call.principal, meeting_id, call.body.note, context(call.request).settings)
    return await _after_write(call)


@API.route("POST", BASE + "/versions", summary="Start a new version of final minutes, with the reason "
           "(its chair); the final version stays until the new one is final", roles=CHAIR_ONLY,
           body=NewVersionIn, response=MinutesOut, status=201, tag=TAG)
@_refusals
async def api_new_version(call: Call) -> MinutesOut:
    meeting_id = await _visible_meeting_id(call)
    await new_version(call.db, call.principal, meeting_id, call.body.reason, context(call.request).settings)
    return await _after_write(call)
