"""The running record of a recording, line by line, from which a crashed one is rebuilt.

``journal.jsonl`` gets one JSON object per line as things happen: the recording started (who and
what), a track file was opened (whose, which codec, where it starts), a track had a gap, a track
ended, the recording stopped. Each line is handed to the operating system as it is written, so
after a ``kill -9`` the journal holds everything up to the last line (a torn last line is ignored).
The manifest is then rebuilt from the journal plus what the track files themselves hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from recorder.errors import RecorderError

JOURNAL_NAME = "journal.jsonl"


class Journal:
    """Appends lines to a recording's journal (from the recording's writer thread only)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / JOURNAL_NAME
        self._file: IO[str] | None = self.path.open("x", encoding="utf-8")

    def append(self, entry: str, **fields: Any) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps({"entry": entry, **fields}, ensure_ascii=False,
                                    separators=(",", ":"), default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class JournalTrack:
    """A track as the journal knows it (end and gaps as far as they were written)."""

    fields: dict[str, Any]
    gaps: list[tuple[int, int]] = field(default_factory=list)
    end_ms: int | None = None


@dataclass
class JournalContents:
    started: dict[str, Any]
    tracks: dict[str, JournalTrack]
    stopped: dict[str, Any] | None

    @property
    def started_at(self) -> datetime:
        """When the recording started; RecorderError if the journal does not say."""
        try:
            return datetime.fromisoformat(self.started["started_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecorderError(f"the journal's start entry has no valid started_at ({exc})") from None


def read_journal(directory: Path) -> JournalContents:
    """What a journal says; RecorderError if it is missing or does not begin a recording."""
    path = directory / JOURNAL_NAME
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        raise RecorderError(f"{directory}: neither a manifest nor a journal: not a recording "
                            "(nothing was changed)") from None
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the line being written when the process died
            raise RecorderError(f"{path}: line {number} is not JSON: the journal is damaged") from None
        if not isinstance(entry, dict) or "entry" not in entry:
            raise RecorderError(f"{path}: line {number} is not a journal entry")
        entries.append(entry)
    if not entries or entries[0]["entry"] != "started":
        raise RecorderError(f"{path}: does not begin with the start of a recording")
    contents = JournalContents(started=entries[0], tracks={}, stopped=None)
    try:
        for entry in entries[1:]:
            kind = entry["entry"]
            if kind == "track":
                contents.tracks[entry["track_id"]] = JournalTrack(entry)
            elif kind == "gap":
                contents.tracks[entry["track_id"]].gaps.append((entry["start_ms"], entry["end_ms"]))
            elif kind == "track_end":
                contents.tracks[entry["track_id"]].end_ms = entry["end_ms"]
            elif kind == "stopped":
                contents.stopped = entry
    except KeyError as exc:
        raise RecorderError(f"{path}: an entry lacks {exc} or names an unknown track") from None
    return contents
