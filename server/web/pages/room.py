"""The meeting room in the browser: the room page (with its device check before joining), and the browser-side
libraries they load from node_modules (installed by `npm install`, never copied into the repo).

Only people who may see the meeting (the same visibility rule as the API) get either page; anyone
else gets 404. Who may actually *join*, and as what, is still decided by the signaling server when
the page connects; the page only renders the room and hands its script what it needs to label
tiles (departments and their levels) and to speak the user's language without another request.
A room that is not open to the person (the meeting is over, or the chair removed them, as the
record says) is answered by a page saying so, before any device check (room/closed.html).
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from record.events import ParticipantRemoved
from record.reducer import fold
from server.auth.principal import Principal
from server.db.models import AgendaEntry, ApprovalItem, Department, Meeting
from server.domain.divisions import Level
from server.domain.meetings import MeetingStatus
from server.domain.opinions import OpinionKind
from server.domain.roles import Post
from server.services.eventlog import read_record
from server.services.meetings import find_visible
from server.signaling.review_messages import TEXT_LIMITS
from server.web import i18n
from server.web.context import db
from server.web.errors import ApiError
from server.web.ids import path_id
from server.web.pages.display import label, when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()

NODE_MODULES = Path(__file__).resolve().parent.parent.parent.parent / "node_modules"
VENDOR = {
    # URL prefix -> the package folder served as it is
    "/vendor/socket.io": NODE_MODULES / "socket.io-client" / "dist",
    "/vendor/pdfjs": NODE_MODULES / "pdfjs-dist" / "build",
    # the same with polyfills, for browsers without the newest JavaScript (client_web/static/js/review.js)
    "/vendor/pdfjs-legacy": NODE_MODULES / "pdfjs-dist" / "legacy" / "build",
}
for _prefix, _folder in VENDOR.items():
    if _folder.is_dir():  # absent before `npm install`: the room page then says what is missing
        routes.static(_prefix, _folder)

BROWSER_KEYS = ("room.", "app.name", "punct.")
"""Catalog keys the room's scripts use; only these are inlined into the page."""


def browser_catalog(lang: str) -> dict[str, str]:
    """The room's part of the shared catalog, inlined so the scripts need no second request."""
    return {key: text for key, text in i18n.catalog(lang).items() if key.startswith(BROWSER_KEYS)}


async def _meeting_or_404(request: web.Request) -> tuple[Principal, Meeting]:
    me = require_page_user(request)
    meeting = await find_visible(db(request), me, path_id(request, "id"))
    if meeting is None:
        raise ApiError(404, "会议不存在或无权查看 / no such meeting visible to you")
    return me, meeting


async def _departments(request: web.Request, lang: str) -> dict[int, dict[str, str]]:
    """Every department with its level label, to label tiles 省/市/县 (a county has few dozen)."""
    rows = await db(request).scalars(select(Department))
    return {d.id: {"code": d.code, "name": d.name, "short_name": d.short_name,
                   "level": d.division.level, "level_label": label(lang, Level(d.division.level))}
            for d in rows}


async def _case_ids(request: web.Request, meeting: Meeting) -> list[int]:
    """The meeting's cases, whose materials the presenter may show."""
    rows = await db(request).scalars(
        select(ApprovalItem.case_id).join(AgendaEntry, AgendaEntry.item_id == ApprovalItem.id)
        .where(AgendaEntry.meeting_id == meeting.id).distinct())
    return sorted(rows)


def _config(me: Principal, meeting: Meeting, lang: str, departments: dict[int, dict[str, str]],
            case_ids: list[int]) -> str:
    """The JSON the room's script starts from (embedded in a non-executed script element)."""
    config = {
        "meeting_id": meeting.id,
        "case_ids": case_ids,
        "title": meeting.title,
        "lang": lang,
        "me": {"user_id": me.user_id, "role": me.role.value, "department_id": me.department_id,
               "post": me.post},
        "departments": departments,
        "labels": {
            "post": {p.value: label(lang, p) for p in Post},
            "opinion": {k.value: label(lang, k) for k in OpinionKind},
        },
        "catalog": browser_catalog(lang),
    }
    # "</" must not end the <script> element early, whatever a title contains
    return json.dumps(config, ensure_ascii=False).replace("</", "<\\/")


@routes.get(r"/meetings/{id:\d+}/check")
async def device_check_page(request: web.Request) -> web.Response:
    """The device check is the room page's pre-join panel now (joining then needs no page change);
    old links still work."""
    _me, meeting = await _meeting_or_404(request)
    raise web.HTTPFound(request.rel_url.with_path(f"/meetings/{meeting.id}/room")
                        .with_query(request.rel_url.query))


async def _closed_to(me: Principal, meeting: Meeting, request: web.Request) -> web.Response | None:
    """The page that takes the place of the room when it is not open to this person: the meeting
    ended or was cancelled, or the chair removed them (the record has it; the signaling server
    would refuse them, but only after the device check). None: the room may be entered."""
    record = await read_record(db(request), meeting.id)
    status = MeetingStatus(meeting.status)
    if status not in (MeetingStatus.SCHEDULED, MeetingStatus.LIVE):
        ended = fold(record).ended
        return render(request, "room/closed.html", status=410, meeting=meeting, reason=status.value,
                      ended=when(ended) if ended is not None else "",
                      has_minutes=status is not MeetingStatus.CANCELLED)
    removed = any(isinstance(entry.event, ParticipantRemoved) and entry.event.user_id == me.user_id
                  for entry in record)
    if removed:
        return render(request, "room/closed.html", status=403, meeting=meeting, reason="removed", ended="",
                      has_minutes=False)
    return None


@routes.get(r"/meetings/{id:\d+}/room")
async def room_page(request: web.Request) -> web.Response:
    me, meeting = await _meeting_or_404(request)
    closed = await _closed_to(me, meeting, request)
    if closed is not None:
        return closed
    lang = i18n.language(request)
    return render(request, "room/room.html", meeting=meeting,
                  opinion_kinds=[(kind.value, label(lang, kind)) for kind in OpinionKind],
                  text_limits=TEXT_LIMITS,
                  vendor_ready=all(folder.is_dir() for folder in VENDOR.values()),
                  config=_config(me, meeting, lang, await _departments(request, lang),
                                 await _case_ids(request, meeting)))
