"""The manifest of one recording: whose tracks, where on the meeting timeline, and their checksums.

``manifest.json`` is what everything after the meeting reads (composition, minutes, the archive),
so it is written only whole: to a temporary file in the same directory, then renamed over. Times
are integer milliseconds on the recording timeline (0 = the recording started) plus UTC wall-clock
times, so a moment in the meeting's event log can be found in every file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from recorder.errors import RecorderError

MANIFEST_NAME = "manifest.json"

TrackKind = Literal["video", "audio", "screen"]
TrackState = Literal["complete", "recovered", "damaged"]
ManifestStatus = Literal["complete", "recovered"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Gap(_Model):
    """A stretch of a track with no media (camera off, muted, connection trouble)."""

    start_ms: int
    end_ms: int


class TimelineEvent(_Model):
    """A meeting event during the recording, placed on the recording timeline."""

    at_ms: int
    type: str
    payload: dict[str, Any]


class TrackEntry(_Model):
    """One file: one published track (or one segment of it, when its publisher came back)."""

    track_id: str
    participant_id: str
    user_id: int | None
    display_name: str
    department: str | None
    unit: str | None
    kind: TrackKind
    codec: str
    file: str
    start_ms: int
    end_ms: int
    wall_start: datetime
    wall_end: datetime
    duration_ms: int
    size_bytes: int
    sha256: str
    gaps: list[Gap]
    state: TrackState


class Manifest(_Model):
    """A whole recording of one meeting."""

    recording_key: str
    meeting_id: int
    meeting_title: str
    case_codes: list[str]
    started_at: datetime
    stopped_at: datetime
    duration_ms: int
    tracks: list[TrackEntry]
    events: list[TimelineEvent]
    status: ManifestStatus

    def wall(self, at_ms: int) -> datetime:
        """The wall-clock time of a point on the recording timeline."""
        return self.started_at + timedelta(milliseconds=at_ms)

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        """The manifest of a recording directory; RecorderError naming the problem otherwise."""
        path = Path(directory) / MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RecorderError(f"{path}: no manifest (not a recording, or one still running or "
                                "interrupted: the server recovers those when it starts)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecorderError(f"{path}: cannot read the manifest: {exc}") from None
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise RecorderError(f"{path}: not a valid manifest ({exc.error_count()} problems; "
                                f"first at {where}: {first['msg']})") from None

    def write(self, directory: Path) -> Path:
        """Write ``manifest.json`` atomically: readers see the old file or the new one, never half."""
        return write_atomic(Path(directory) / MANIFEST_NAME, self.model_dump_json(indent=2))


def write_atomic(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` so that a crash leaves either the old or the new content."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
