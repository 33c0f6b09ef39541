"""Finishing recordings that a crash interrupted: repaired files, a rebuilt manifest.

A recording directory with a journal and no manifest was running when its process died. Each track
file then ends with its last complete cluster (WebM) or packet (MPEG-TS) and has no index. Repair
copies its packets into a new file next to it (stream copy, nothing decoded or re-encoded), checks
that the copy decodes, and only then puts it in the original's place; a file that cannot be read
at all is left exactly as it was and marked ``damaged``. The manifest is rebuilt from the journal
and the files, with status ``recovered``. Running recovery twice is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av

from recorder.errors import RecorderError
from recorder.events import LoggedEvent, place_events
from recorder.journal import JOURNAL_NAME, JournalTrack, read_journal
from recorder.manifest import MANIFEST_NAME, Manifest, TrackEntry, TrackState
from recorder.session import make_entry
from recorder.timeline import MAX_STEP_MS
from recorder.verify import decode_file

logger = logging.getLogger(__name__)

REPAIR_SUFFIX = ".repair"
FORMATS = {".webm": "webm", ".ts": "mpegts"}


def interrupted(root: Path) -> list[Path]:
    """Recording directories under ``root`` (``<meeting>/<key>/``) with a journal but no manifest."""
    if not root.is_dir():
        return []
    return sorted(journal.parent for journal in root.glob(f"*/*/{JOURNAL_NAME}")
                  if not (journal.parent / MANIFEST_NAME).exists())


def repair(directory: Path) -> Manifest:
    """Repair an interrupted recording's files and return its rebuilt manifest (not yet written).

    RecorderError when the directory is not an interrupted recording (it then stays untouched).
    """
    directory = Path(directory)
    if (directory / MANIFEST_NAME).exists():
        raise RecorderError(f"{directory}: has a manifest: the recording is not interrupted")
    journal = read_journal(directory)
    started = journal.started
    try:
        key, meeting_id = str(started["recording_key"]), int(started["meeting_id"])
        started_at = journal.started_at
    except (KeyError, TypeError, ValueError, RecorderError) as exc:
        raise RecorderError(f"{directory / JOURNAL_NAME}: the start entry is incomplete: {exc}") from None
    entries = [_repair_track(directory, track, started_at) for track in journal.tracks.values()]
    end_ms = max((entry.end_ms for entry in entries), default=0)
    if journal.stopped is not None:
        stopped_at = datetime.fromisoformat(journal.stopped["stopped_at"])
    else:
        stopped_at = started_at + timedelta(milliseconds=end_ms)
    return Manifest(
        recording_key=key, meeting_id=meeting_id, meeting_title=str(started.get("meeting_title", "")),
        case_codes=list(started.get("case_codes", [])), started_at=started_at, stopped_at=stopped_at,
        duration_ms=int((stopped_at - started_at) / timedelta(milliseconds=1)),
        tracks=sorted(entries, key=lambda e: (e.start_ms, e.track_id)), events=[],
        status="recovered")


def recover(directory: Path, events: Iterable[LoggedEvent] = ()) -> Manifest:
    """Repair, then write the manifest with those of the meeting's ``events`` inside its span."""
    manifest = repair(directory)
    placed = place_events(events, manifest.started_at, manifest.stopped_at, manifest.tracks)
    manifest = manifest.model_copy(update={"events": placed})
    manifest.write(directory)
    logger.info("recovered recording %s: %d tracks", directory, len(manifest.tracks))
    return manifest


def _repair_track(directory: Path, track: JournalTrack, started_at: datetime) -> TrackEntry:
    fields = track.fields
    path = directory / fields["file"]
    start_ms = int(fields["start_ms"])
    state: TrackState = "recovered"
    try:
        last_ms, step_ms = _remux(path)
    except RecorderError as exc:
        logger.warning("%s", exc)
        state, last_ms, step_ms = "damaged", start_ms, 0
    end_ms = track.end_ms if track.end_ms is not None else last_ms + step_ms
    return make_entry(fields, path, start_ms, max(end_ms, start_ms), track.gaps, started_at, state)


def _remux(path: Path) -> tuple[int, int]:
    """Copy ``path``'s packets into a fresh file and swap it in once it decodes.

    Returns the last packet's time and the spacing before it (ms, recording timeline).
    """
    repaired = path.with_name(path.name + REPAIR_SUFFIX)
    if path.suffix not in FORMATS:
        raise RecorderError(f"{path}: not a track file of this recorder ({', '.join(FORMATS)})")
    times: list[int] = []
    try:
        with av.open(str(path)) as source:
            if len(source.streams) != 1:
                raise RecorderError(f"{path}: {len(source.streams)} streams, a track file has one")
            stream = source.streams[0]
            with av.open(str(repaired), "w", format=FORMATS[path.suffix]) as out:
                copy = out.add_stream_from_template(stream)
                for packet in source.demux(stream):
                    if packet.pts is None or packet.size == 0 or packet.is_corrupt:
                        continue  # the end-of-stream marker, or the frame cut off by the crash
                    times.append(int(packet.pts * Fraction(packet.time_base) * 1000))
                    packet.stream = copy
                    out.mux(packet)
    except (OSError, av.FFmpegError, ValueError) as exc:
        repaired.unlink(missing_ok=True)
        raise RecorderError(f"{path}: cannot be read ({exc}); left as it is, marked damaged") from None
    if not times:
        repaired.unlink(missing_ok=True)
        raise RecorderError(f"{path}: holds no complete frame; left as it is, marked damaged")
    problems = decode_file(repaired).problems
    if problems:
        repaired.unlink(missing_ok=True)
        raise RecorderError(f"{path}: the repaired copy does not decode ({problems[0]}); "
                            "original kept, marked damaged")
    repaired.replace(path)
    step = min(times[-1] - times[-2], MAX_STEP_MS) if len(times) > 1 else 0
    return times[-1], step
