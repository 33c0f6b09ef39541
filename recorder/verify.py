"""Checking a finished recording: every file is there, unchanged, and decodes from end to end.

``verify`` compares each track file with its manifest entry (size, SHA-256), decodes every frame
with PyAV and checks that the decoded span is where the manifest puts it on the timeline. It only
reads; a problem is reported, never repaired here (the server's startup recovery does that for
interrupted recordings, and nothing ever overwrites a file that verifies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from recorder.errors import RecorderError
from recorder.journal import JOURNAL_NAME
from recorder.manifest import MANIFEST_NAME, Manifest, TrackEntry
from recorder.session import sha256_of

SPAN_TOLERANCE_MS = 500
"""How far the decoded first and last frame may lie from the manifest's start and end."""


@dataclass
class FileCheck:
    """What decoding a track file found."""

    frames: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class TrackCheck:
    entry: TrackEntry
    decoded: FileCheck
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    directory: Path
    manifest: Manifest
    tracks: list[TrackCheck]
    unlisted: list[str]
    """Files in the directory that the manifest does not name (reported, left alone)."""

    @property
    def ok(self) -> bool:
        return all(track.ok for track in self.tracks)


def decode_file(path: Path) -> FileCheck:
    """Decode every frame of a one-stream file; problems say what failed and where."""
    check = FileCheck()
    try:
        with av.open(str(path)) as container:
            if len(container.streams) != 1:
                check.problems.append(f"{len(container.streams)} streams, a track file has one")
                return check
            stream = container.streams[0]
            errors = 0
            for packet in container.demux(stream):
                if packet.pts is not None and packet.size:
                    at = int(packet.pts * Fraction(packet.time_base) * 1000)
                    check.first_ms = at if check.first_ms is None else min(check.first_ms, at)
                    check.last_ms = at if check.last_ms is None else max(check.last_ms, at)
                try:
                    check.frames += len(packet.decode())
                except av.FFmpegError as exc:
                    errors += 1
                    if errors == 1:
                        check.problems.append(f"frame at {check.last_ms} ms does not decode: {exc}")
            if errors > 1:
                check.problems.append(f"{errors} frames do not decode")
    except (OSError, av.FFmpegError) as exc:
        check.problems.append(f"cannot be read: {exc}")
    if not check.frames and not check.problems:
        check.problems.append("holds no frame")
    return check


def verify(directory: Path) -> VerifyReport:
    """Check a recording; RecorderError when it has no readable manifest."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RecorderError(f"{directory}: no such recording directory")
    manifest = Manifest.load(directory)
    tracks = [_check_track(directory, entry) for entry in manifest.tracks]
    listed = {entry.file for entry in manifest.tracks} | {MANIFEST_NAME, JOURNAL_NAME}
    unlisted = sorted(path.name for path in directory.iterdir()
                      if path.name not in listed and path.name != "composed")
    return VerifyReport(directory, manifest, tracks, unlisted)


def _check_track(directory: Path, entry: TrackEntry) -> TrackCheck:
    path = directory / entry.file
    if Path(entry.file).name != entry.file:
        return TrackCheck(entry, FileCheck(), [f"file name {entry.file!r} points outside the recording"])
    if not path.is_file():
        return TrackCheck(entry, FileCheck(), [f"{entry.file}: missing"])
    problems: list[str] = []
    size = path.stat().st_size
    if size != entry.size_bytes:
        problems.append(f"{entry.file}: {size} bytes, the manifest says {entry.size_bytes}")
    if sha256_of(path) != entry.sha256:
        problems.append(f"{entry.file}: SHA-256 differs from the manifest (the file was changed)")
    decoded = decode_file(path)
    problems += [f"{entry.file}: {problem}" for problem in decoded.problems]
    if decoded.first_ms is not None and abs(decoded.first_ms - entry.start_ms) > SPAN_TOLERANCE_MS:
        problems.append(f"{entry.file}: starts at {decoded.first_ms} ms, the manifest says {entry.start_ms}")
    if decoded.last_ms is not None and abs(decoded.last_ms - entry.end_ms) > SPAN_TOLERANCE_MS:
        problems.append(f"{entry.file}: ends at {decoded.last_ms} ms, the manifest says {entry.end_ms}")
    return TrackCheck(entry, decoded, problems)
