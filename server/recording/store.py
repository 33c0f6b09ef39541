"""Where recordings live and the event log they take (shared by server, startup and CLI).

Layout: ``data_dir/recordings/<meeting id>/<recording key>/`` holding ``journal.jsonl`` while it
runs, then ``manifest.json``, one file per track, and later ``composed/`` (recorder.compose).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recorder.events import LoggedEvent
from server.db.models import MeetingEvent
from server.services.clock import CENTRE_TZ

RECORDINGS = "recordings"
KEY_PATTERN = re.compile(r"M\d+-\d{8}-R\d+")
CONSENT_NOTICE = "本次会议全程录音录像，录像及会议记录作为项目审批档案保存。"
"""What the room announces when recording starts (unless the chair words it otherwise)."""


def recordings_root(data_dir: Path) -> Path:
    return Path(data_dir) / RECORDINGS


def new_key(root: Path, meeting_id: int, now: datetime, taken: Iterable[str] = ()) -> str:
    """The next key of the meeting's recordings that day, in the demo data's style (M7-20261129-R2).

    The day is the centre's (Beijing) date, the one people read on the meeting and the minutes:
    a recording made at 00:30 on 12-07 in Beijing is still 12-06 in UTC but is keyed 20261207.
    `now` must be timezone-aware. ``taken``: keys in use elsewhere (on another node)."""
    prefix = f"M{meeting_id}-{now.astimezone(CENTRE_TZ):%Y%m%d}-R"
    folder = root / str(meeting_id)
    taken = set(taken) | ({p.name for p in folder.iterdir()} if folder.is_dir() else set())
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def find_recording(root: Path, key: str) -> Path | None:
    """The directory of the recording named ``key`` (a key is never a path)."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    meeting = key[1:].split("-", 1)[0]
    directory = root / meeting / key
    return directory if directory.is_dir() else None


def free_mb(path: Path) -> int:
    """Free space for an unprivileged writer on the file system holding ``path`` (MiB)."""
    path.mkdir(parents=True, exist_ok=True)
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize // (1 << 20)


async def logged_recording_keys(db: AsyncSession, meeting_id: int) -> list[str]:
    """The keys of the recordings the meeting's event log says were started, in order: with the
    directories in storage, the one answer to "what was recorded" that the recordings page and
    the dossier both give (a key logged but not stored is shown as missing, not as nothing)."""
    payloads = await db.scalars(select(MeetingEvent.payload).where(
        MeetingEvent.meeting_id == meeting_id, MeetingEvent.type == "recording_started").order_by(MeetingEvent.seq))
    return list(dict.fromkeys(str(p["recording_key"]) for p in payloads if p.get("recording_key")))


async def logged_events(db: AsyncSession, meeting_id: int) -> list[LoggedEvent]:
    """The meeting's event log as the recorder takes it (it keeps those inside a recording)."""
    rows = await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                            .order_by(MeetingEvent.seq))
    return [LoggedEvent(row.ts, row.type, row.actor_id, dict(row.payload)) for row in rows]
