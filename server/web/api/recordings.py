"""Recordings over HTTP: list a meeting's recordings, read one (tracks, chapters, composition
status), start the composition, and download the composed MP4 and the per-track originals.

Everyone who may see the meeting (policy.visible_meetings) may watch and download its recordings;
others get 404 as for the meeting itself. Starting a composition is for the meeting's own chair,
the archive and administrators (another chair: 403). Files are served by aiohttp's FileResponse,
which answers HTTP Range requests, so the browser's <video> can seek without downloading the
whole file; a file is named by its track id, looked up in the manifest, never by a path from the URL.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import web

from server.schemas.base import Body, Out
from server.services import recordings as service
from server.services.recordings import COMPOSERS, Recording, RecordingError
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError

TAG = "recordings"
BASE = "/meetings/{id}/recordings"


class ComposeStatus(Out):
    state: Literal["none", "queued", "running", "done", "failed"]
    progress: float
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TrackOut(Out):
    track_id: str
    participant_id: str
    display_name: str
    department: str | None
    unit: str | None
    kind: str
    codec: str
    start_ms: int
    end_ms: int
    size_bytes: int
    sha256: str
    state: str
    url: str


class ChapterOut(Out):
    at_ms: int
    kind: str
    title: str


class RecordingOut(Out):
    key: str
    meeting_id: int
    usable: bool
    problem: str
    started_at: datetime | None
    stopped_at: datetime | None
    duration_ms: int | None
    track_count: int
    compose: ComposeStatus
    video_url: str | None
    page_url: str


class RecordingDetailOut(RecordingOut):
    title: str
    case_codes: list[str]
    tracks: list[TrackOut]
    chapters: list[ChapterOut]


class ComposeIn(Body):
    force: bool = False


def _base_url(recording: Recording) -> str:
    return f"/api/v1/meetings/{recording.meeting.id}/recordings/{recording.key}"


def summary(recording: Recording) -> dict[str, Any]:
    m = recording.manifest
    video = recording.video_path() is not None
    return {"key": recording.key, "meeting_id": recording.meeting.id, "usable": m is not None,
            "problem": recording.problem, "started_at": m.started_at if m else None,
            "stopped_at": m.stopped_at if m else None, "duration_ms": m.duration_ms if m else None,
            "track_count": len(m.tracks) if m else 0, "compose": recording.status(),
            "video_url": f"{_base_url(recording)}/video" if video else None,
            "page_url": f"/meetings/{recording.meeting.id}/recordings/{recording.key}"}


def detail(recording: Recording) -> dict[str, Any]:
    m = recording.manifest
    tracks = [{**t.model_dump(include=set(TrackOut.model_fields) - {"url"}),
               "url": f"{_base_url(recording)}/tracks/{quote(t.track_id, safe='')}"}
              for t in (m.tracks if m else [])]
    return {**summary(recording), "title": m.meeting_title if m else recording.meeting.title,
            "case_codes": m.case_codes if m else [], "tracks": tracks, "chapters": recording.chapters()}


def _refusal(exc: RecordingError) -> ApiError:
    return ApiError(exc.status, exc.message, code=exc.code)


def _data_dir(call: Call) -> Path:
    return context(call.request).settings.data_dir


async def _find(call: Call) -> Recording:
    try:
        return await service.find(call.db, call.principal, _data_dir(call), call.path_int("id"),
                                  call.request.match_info["key"])
    except RecordingError as exc:
        raise _refusal(exc) from None


@API.route("GET", BASE, summary="A meeting's recordings (scoped like the meeting)",
           response=list[RecordingOut], tag=TAG)
async def api_list_recordings(call: Call) -> list[RecordingOut]:
    try:
        found = await service.list_recordings(call.db, call.principal, _data_dir(call), call.path_int("id"))
    except RecordingError as exc:
        raise _refusal(exc) from None
    return [RecordingOut.model_validate(summary(r)) for r in found]


@API.route("GET", BASE + "/{key}", summary="One recording: tracks, chapters, composition status",
           response=RecordingDetailOut, tag=TAG)
async def api_recording(call: Call) -> RecordingDetailOut:
    return RecordingDetailOut.model_validate(detail(await _find(call)))


@API.route("POST", BASE + "/{key}/compose", summary="Start composing the recording into one MP4 "
           "(a background job; 409 if running, unusable, or already composed without force)",
           roles=COMPOSERS, body=ComposeIn, response=ComposeStatus, status=202, tag=TAG)
async def api_start_compose(call: Call) -> ComposeStatus:
    recording = await _find(call)
    try:
        status = await service.start_compose(call.principal, recording, force=call.body.force)
        return ComposeStatus.model_validate(status)
    except RecordingError as exc:
        raise _refusal(exc) from None


@API.route("GET", BASE + "/{key}/compose", summary="The composition job's status (poll this)",
           response=ComposeStatus, tag=TAG)
async def api_compose_status(call: Call) -> ComposeStatus:
    return ComposeStatus.model_validate((await _find(call)).status())


def _file(path: Path, content_type: str, name: str, disposition: str) -> web.FileResponse:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return web.FileResponse(path, headers={
        "Content-Type": content_type,
        "Content-Disposition": f'{disposition}; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    })


@API.route("GET", BASE + "/{key}/video", summary="The composed MP4 (HTTP Range supported)",
           response=bytes, tag=TAG)
async def api_recording_video(call: Call) -> web.StreamResponse:
    recording = await _find(call)
    path = recording.video_path()
    if path is None:
        raise ApiError(404, "尚未合成视频 / the recording has not been composed yet", code="not_composed")
    return _file(path, "video/mp4", f"{recording.key}.mp4", "inline")


@API.route("GET", BASE + "/{key}/tracks/{track_id}", summary="One track's original file (WebM)",
           response=bytes, tag=TAG)
async def api_recording_track(call: Call) -> web.StreamResponse:
    recording = await _find(call)
    try:
        entry, path = recording.track(call.request.match_info["track_id"])
    except RecordingError as exc:
        raise _refusal(exc) from None
    media = "audio/webm" if entry.kind == "audio" else "video/webm"
    return _file(path, media, f"{recording.key}-{entry.file}", "attachment")
