"""A meeting's recordings as the archive sees them: directories with a manifest, track files and
(once composed) one MP4 for playback.

Layout (agreed with the recorder): data_dir/recordings/<meeting_id>/<recording_key>/manifest.json,
one file per track, composed/meeting.mp4 (+ status.json, chapters.json). A manifest is data from
disk, so nothing in it is trusted as a path: a track's `file` must be a plain name inside its
recording directory, or the track is reported, never opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from recorder.compose import CHAPTERS_NAME, OUTPUT_NAME, ComposeError, composed_dir, track_path as plain_track_path
from recorder.errors import RecorderError
from recorder.manifest import MANIFEST_NAME, Manifest, TrackEntry

RECORDINGS_DIR = "recordings"
COMPOSED_FILES = (OUTPUT_NAME, CHAPTERS_NAME)


@dataclass
class Recording:
    """One recording directory: its manifest (None when unreadable, with `error` saying why)."""

    key: str
    directory: Path
    manifest: Manifest | None
    error: str = ""
    composed: list[Path] = field(default_factory=list)

    def at_ms(self, moment: datetime) -> int | None:
        """Where `moment` falls on this recording's timeline, None when outside it."""
        if self.manifest is None:
            return None
        offset = int((moment - self.manifest.started_at).total_seconds() * 1000)
        return offset if 0 <= offset <= self.manifest.duration_ms else None


def meeting_dir(data_dir: Path, meeting_id: int) -> Path:
    return data_dir / RECORDINGS_DIR / str(meeting_id)


def track_path(recording: Recording, track: TrackEntry) -> Path | None:
    """The track's file, or None when the manifest's name for it would leave the recording
    directory (the recorder's own rule for a plain name) or is a symbolic link (the recorder
    writes plain files only, and a link could lead anywhere on disk)."""
    try:
        path = plain_track_path(recording.directory, track)
    except ComposeError:
        return None
    return None if path.is_symlink() else path


def meeting_recordings(data_dir: Path, meeting_id: int) -> list[Recording]:
    """Every recording directory of a meeting (sorted by key), readable or not."""
    base = meeting_dir(data_dir, meeting_id)
    if not base.is_dir():
        return []
    found = []
    for directory in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (directory / MANIFEST_NAME).exists():
            continue  # still recording, or interrupted: the recorder's recovery owns it
        try:
            manifest: Manifest | None = Manifest.load(directory)
            error = ""
        except RecorderError as exc:
            manifest, error = None, str(exc)
        composed = [composed_dir(directory) / name for name in COMPOSED_FILES
                    if (composed_dir(directory) / name).is_file()]
        found.append(Recording(directory.name, directory, manifest, error, composed))
    return found
