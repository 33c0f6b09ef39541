"""Recording pages: a meeting's recordings, and the playback page of one.

The playback page plays the composed MP4 from the API (range requests let the browser seek), lists
the chapters (agenda items, opinions, speakers) as buttons that seek, honours ``?t=<seconds>`` so
the minutes can link to a moment, offers each track's original for download, and lets the
meeting's own chair or the archive start the composition and watch its progress. Visibility is the API's: the same
service, the same 404 for a meeting or a recording out of scope.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from server.auth.policy import may_compose
from server.recording.store import logged_recording_keys
from server.services import recordings as service
from server.services.recordings import RecordingError
from server.web import i18n
from server.web.api.recordings import detail, summary
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.ids import path_id
from server.web.pages.display import when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()

BROWSER_KEYS = ("recordings.", "punct.")
KIND_ICONS = {"agenda": "§", "opinion": "✎", "speaker": "🗣", "start": "▶"}


def _refusal(exc: RecordingError) -> ApiError:
    return ApiError(exc.status, exc.message, code=exc.code)


def _clock(ms: int | None) -> str:
    """h:mm:ss (or m:ss) of a place in the recording."""
    seconds = (ms or 0) // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _start_seconds(raw: str | None) -> float:
    """The ?t= the minutes link with: seconds (decimals allowed); anything else starts at 0."""
    try:
        value = float(raw or 0)
    except ValueError:
        return 0.0
    return value if 0 <= value < 10**7 else 0.0


@routes.get(r"/meetings/{id:\d{1,18}}/recordings")
async def recordings_page(request: web.Request) -> web.Response:
    me = require_page_user(request)
    meeting_id = path_id(request, "id")
    try:
        meeting = await service.visible_meeting(db(request), me, meeting_id)
        found = await service.list_recordings(db(request), me, context(request).settings.data_dir, meeting_id)
    except RecordingError as exc:
        raise _refusal(exc) from None
    rows = [{**summary(r), "started": when(r.manifest.started_at) if r.manifest else "",
             "length": _clock(r.manifest.duration_ms) if r.manifest else ""} for r in found]
    stored = {r.key for r in found}
    # The dossier reads the same log: a recording it lists as missing is listed here too.
    missing = [key for key in await logged_recording_keys(db(request), meeting_id) if key not in stored]
    return render(request, "recordings/list.html", meeting=meeting, recordings=rows, missing=missing)


@routes.get(r"/meetings/{id:\d{1,18}}/recordings/{key}")
async def playback_page(request: web.Request) -> web.Response:
    me = require_page_user(request)
    try:
        recording = await service.find(db(request), me, context(request).settings.data_dir,
                                       path_id(request, "id"), request.match_info["key"])
    except RecordingError as exc:
        raise _refusal(exc) from None
    view: dict[str, Any] = detail(recording)
    for chapter in view["chapters"]:
        chapter.update(clock=_clock(chapter["at_ms"]), icon=KIND_ICONS.get(chapter["kind"], "•"))
    for track in view["tracks"]:
        track.update(span=f"{_clock(track['start_ms'])}–{_clock(track['end_ms'])}",
                     size_mb=f"{track['size_bytes'] / 1e6:.1f}")
    lang = i18n.language(request)
    script_data = {
        "statusUrl": f"/api/v1/meetings/{recording.meeting.id}/recordings/{recording.key}/compose",
        "start": _start_seconds(request.query.get("t")),
        "compose": view["compose"],
        "messages": {k: v for k, v in i18n.catalog(lang).items() if k.startswith(BROWSER_KEYS)},
    }
    return render(request, "recordings/playback.html", meeting=recording.meeting, recording=view,
                  started=when(recording.manifest.started_at) if recording.manifest else "",
                  length=_clock(view["duration_ms"]), may_compose=may_compose(me, recording.meeting.chair_id),
                  script_data=json.dumps(script_data, ensure_ascii=False).replace("</", "<\\/"))
