"""Recordings of a meeting as the API and the pages see them: found through the meeting's
visibility, read from their manifests, composed in a separate process.

A recording is addressed by its key and only inside its own meeting (the key names the meeting,
and both must agree), and a file is served only if the manifest lists it, so no URL can reach a
file of another meeting or outside the recording directory. Composition runs as
``python -m recorder.compose`` in a child process: encoding for minutes must not take the
interpreter lock from the live meetings this server is forwarding; the child's progress is read
back from composed/status.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import recorder
from recorder.compose import (
    CHAPTERS_NAME,
    OUTPUT_NAME,
    ComposeError,
    composed_dir,
    load_manifest,
    lock_holder,
    read_status,
    track_path,
    write_status,
)
from recorder.manifest import MANIFEST_NAME, Manifest, TrackEntry
from server.auth.policy import may_compose
from server.auth.principal import Principal
from server.db.models import Meeting
from server.domain.roles import Role
from server.recording.store import KEY_PATTERN, find_recording, recordings_root
from server.services.meetings import NOT_THE_CHAIR, find_visible

log = logging.getLogger(__name__)

# Composing writes into the archive copy of a meeting: the office running meetings and the archive
# (the roles an endpoint admits; of the chairs only the meeting's own, see policy.may_compose).
COMPOSERS = frozenset({Role.CHAIR, Role.ARCHIVIST, Role.ADMIN})
BUSY_EXIT = 3  # recorder.compose.__main__: already running
_REPOSITORY = Path(recorder.__file__).resolve().parent.parent
_CHILDREN: dict[Path, asyncio.subprocess.Process] = {}
"""Compositions this server started and has not yet reaped (a second start is refused)."""


class RecordingError(Exception):
    """A request about a recording that cannot be met; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass(frozen=True)
class Recording:
    """One recording directory of a visible meeting; `manifest` is None when it is unusable
    (still recording, interrupted, or not a recording at all), `problem` then says why."""

    meeting: Meeting
    key: str
    directory: Path
    manifest: Manifest | None
    problem: str = ""

    def status(self) -> dict[str, Any]:
        return compose_status(self.directory)

    def chapters(self) -> list[dict[str, Any]]:
        try:
            data = json.loads((composed_dir(self.directory) / CHAPTERS_NAME).read_text(encoding="utf-8"))
            return list(data["chapters"])
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def video_path(self) -> Path | None:
        path = composed_dir(self.directory) / OUTPUT_NAME
        return path if path.is_file() else None

    def track(self, track_id: str) -> tuple[TrackEntry, Path]:
        """A track of the manifest and its file; RecordingError 404 for anything else."""
        entry = next((t for t in (self.manifest.tracks if self.manifest else []) if t.track_id == track_id), None)
        if entry is None:
            raise RecordingError(404, "录像中没有该轨道 / no such track in this recording", "not_found")
        try:
            path = track_path(self.directory, entry)
        except ComposeError as exc:
            raise RecordingError(409, str(exc), "recording_unusable") from None
        if not path.is_file():
            raise RecordingError(404, "轨道文件已不在存储中 / the track file is missing from storage", "file_missing")
        return entry, path


def _read(meeting: Meeting, key: str, directory: Path) -> Recording:
    if not (directory / MANIFEST_NAME).is_file():
        return Recording(meeting, key, directory, None,
                         "录像进行中或被中断，尚无清单 / recording in progress or interrupted: no manifest yet")
    try:
        return Recording(meeting, key, directory, load_manifest(directory))
    except ComposeError as exc:
        return Recording(meeting, key, directory, None, str(exc))


async def visible_meeting(db: AsyncSession, principal: Principal, meeting_id: int) -> Meeting:
    meeting = await find_visible(db, principal, meeting_id)
    if meeting is None:
        raise RecordingError(404, "会议不存在或无权查看 / no such meeting visible to you", "not_found")
    return meeting


async def list_recordings(db: AsyncSession, principal: Principal, data_dir: Path,
                          meeting_id: int) -> list[Recording]:
    """The meeting's recordings, oldest first; directories not named like a recording of this
    meeting are not recordings and are left out."""
    meeting = await visible_meeting(db, principal, meeting_id)
    folder = recordings_root(data_dir) / str(meeting_id)
    if not folder.is_dir():
        return []
    keys = sorted((p.name for p in folder.iterdir() if p.is_dir() and _belongs(p.name, meeting_id)),
                  key=_key_order)
    return [_read(meeting, key, folder / key) for key in keys]


def _belongs(key: str, meeting_id: int) -> bool:
    return bool(KEY_PATTERN.fullmatch(key)) and key[1:].split("-", 1)[0] == str(meeting_id)


def _key_order(key: str) -> tuple[str, int]:
    day, number = key.rsplit("-R", 1)
    return day, int(number)


async def find(db: AsyncSession, principal: Principal, data_dir: Path, meeting_id: int,
               key: str) -> Recording:
    """The recording `key` of a visible meeting; RecordingError 404 otherwise."""
    meeting = await visible_meeting(db, principal, meeting_id)
    directory = find_recording(recordings_root(data_dir), key) if _belongs(key, meeting_id) else None
    if directory is None:
        raise RecordingError(404, "录像不存在 / no such recording", "not_found")
    return _read(meeting, key, directory)


def compose_status(directory: Path) -> dict[str, Any]:
    """The composition's status; "queued" with no child and no composer is one that never ran (read
    twice, as read_status does, so a child that finished between the reads is not taken for one)."""
    status = read_status(directory)
    if status.get("state") == "queued" and _CHILDREN.get(directory) is None and lock_holder(directory) is None:
        status = read_status(directory)
        if status.get("state") == "queued":
            status.update(state="failed", message="合成被中断 / the composition was interrupted")
    return status


def running(directory: Path) -> bool:
    """Whether a composition is queued or under way, by its status (a child that has written "done"
    and let go of the lock but not yet exited is finished: composing again may start)."""
    return compose_status(directory)["state"] in ("queued", "running")


async def start_compose(actor: Principal, recording: Recording, *, force: bool) -> dict[str, Any]:
    """Queue a composition in a child process; RecordingError 403 for the chair of another meeting,
    409 if it cannot start."""
    if not may_compose(actor, recording.meeting.chair_id):
        raise RecordingError(403, NOT_THE_CHAIR, "not_the_chair")
    if recording.manifest is None:
        raise RecordingError(409, f"无法合成 / cannot compose: {recording.problem}", "recording_unusable")
    directory = recording.directory
    if running(directory):
        raise RecordingError(409, "该录像正在合成中 / this recording is already being composed", "compose_running")
    if recording.video_path() is not None and not force:
        raise RecordingError(409, "合成视频已存在；如需重新合成请选择强制 / the composed video already exists; "
                                  "ask with force to compose it again", "already_composed")
    write_status(directory, state="queued", progress=0.0, message="", started_at=None, finished_at=None)
    command = [sys.executable, "-m", "recorder.compose", str(directory)] + (["--force"] if force else [])
    child = await asyncio.create_subprocess_exec(*command, cwd=_REPOSITORY, stdin=asyncio.subprocess.DEVNULL,
                                                 stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.PIPE)
    _CHILDREN[directory] = child
    asyncio.get_running_loop().create_task(_reap(directory, child), name=f"compose {recording.key}")
    return compose_status(directory)


async def _reap(directory: Path, child: asyncio.subprocess.Process) -> None:
    """Wait for the child (no zombie keeps a stale pid alive) and log why it failed, if it did."""
    assert child.stderr is not None
    errors = (await child.stderr.read()).decode("utf-8", "replace").strip()
    code = await child.wait()
    if _CHILDREN.get(directory) is child:
        del _CHILDREN[directory]
    if code == BUSY_EXIT:
        return  # another process (the CLI) is composing it: its status stands
    if code != 0:
        log.warning("composition of %s ended with %s: %s", directory, code, errors[-2000:])
        if read_status(directory).get("state") in ("queued", "running"):
            write_status(directory, state="failed", progress=0.0, message=errors[-500:] or f"exit {code}",
                         started_at=None, finished_at=None)

