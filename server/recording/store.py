"""Where recordings live and the event log they take (shared by server, startup and CLI).

Layout: ``data_dir/recordings/<meeting id>/<recording key>/`` holding ``journal.jsonl`` while it
runs, then ``manifest.json``, one file per track, and later ``composed/`` (recorder.compose).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recorder.events import LoggedEvent
from server.db.models import MeetingEvent

RECORDINGS = "recordings"
KEY_PATTERN = re.compile(r"M\d+-\d{8}-R\d+")
CONSENT_NOTICE = "本次会议全程录音录像，录像及会议记录作为项目审批档案保存。"
"""What the room announces when recording starts (unless the chair words it otherwise)."""


def recordings_root(data_dir: Path) -> Path:
    return Path(data_dir) / RECORDINGS


def new_key(root: Path, meeting_id: int, now: datetime) -> str:
    """The next key of the meeting's recordings that day, in the demo data's style (M7-20261129-R2)."""
    prefix = f"M{meeting_id}-{now:%Y%m%d}-R"
    folder = root / str(meeting_id)
    taken = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
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


async def logged_events(db: AsyncSession, meeting_id: int) -> list[LoggedEvent]:
    """The meeting's event log as the recorder takes it (it keeps those inside a recording)."""
    rows = await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                            .order_by(MeetingEvent.seq))
    return [LoggedEvent(row.ts, row.type, row.actor_id, dict(row.payload)) for row in rows]
