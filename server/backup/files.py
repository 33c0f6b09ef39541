"""The data-directory half of a backup: every file as it stood, copied so the copy never lies.

What is left out: the database's own files (taken through the database instead) and the work in
progress of some writer that is never the record itself: hidden names (`.compose.lock`, the
temporary `.*.tmp` / `.tmp-*` / `.*.part` files written before an atomic rename) and `*.part`
(an upload being received) and `*.repair` (a recovery under way) files.

Every other file is copied and its size and modification time compared before and after; one that
changed meanwhile is copied again (a file that keeps changing stops the backup, naming it). The
exception is a recording still being written (a journal, no manifest): its tracks only grow, so
the copy is what a crash at that instant would leave, which is exactly what the recorder is built
to recover. Its journal is copied first (so it names no track the copy lacks), its manifest never,
and it is listed as unfinished: a restored server recovers it at start. If the recording finishes
while it is copied, it is copied again whole, as finished. The bag's hashes are computed from the
copies, so they state what the backup holds, whatever happened to the originals meanwhile.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from recorder.journal import JOURNAL_NAME
from recorder.manifest import MANIFEST_NAME
from recorder.recovery import REPAIR_SUFFIX
from server.backup.errors import BackupError
from server.backup.progress import Progress
from server.recording.store import RECORDINGS

CHUNK = 1 << 20
ATTEMPTS = 3
TRANSIENT_SUFFIXES = (".part", REPAIR_SUFFIX)


def walk(root: Path) -> Iterator[Path]:
    """Every name under `root` that is not a folder, in name order, following symbolic links to
    folders (an operator may keep recordings on another disk) but never into a folder twice (a link
    loop ends there). Listed, not checked: the copy checks each when its turn comes."""
    seen: set[str] = set()
    for folder, folders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        folders.sort()
        for name in sorted(files):
            yield Path(folder) / name


def transient(path: Path) -> bool:
    """A writer's temporary file, or a lock: never part of the record."""
    return path.name.startswith(".") or path.name.endswith(TRANSIENT_SUFFIXES)


def copy_file(source: Path, target: Path, progress: Progress, limit: int | None = None) -> int:
    """Copy bytes (at most `limit`: a file growing faster than it is read would never end), mode
    and times; return how many bytes were copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK if limit is None else min(CHUNK, limit - copied)):
            writer.write(chunk)
            copied += len(chunk)
            progress.advance(len(chunk))
    shutil.copystat(source, target)
    return copied


def _recording_of(relative: PurePosixPath) -> PurePosixPath | None:
    """The recording directory (recordings/<meeting>/<key>) holding this file, if any."""
    parts = relative.parts
    return PurePosixPath(*parts[:3]) if len(parts) > 3 and parts[0] == RECORDINGS else None


@dataclass
class CopyReport:
    unfinished: list[str] = field(default_factory=list)
    """Recording directories copied while still being written (recovered when restored)."""
    vanished: list[str] = field(default_factory=list)
    """Names listed that were gone when their turn came (removed by their writer meanwhile)."""


@dataclass
class _Copier:
    source: Path
    target: Path
    skip: set[Path]
    progress: Progress
    report: CopyReport = field(default_factory=CopyReport)

    def kept(self, path: Path) -> bool:
        return not transient(path) and path.resolve() not in self.skip

    def run(self) -> CopyReport:
        recordings: set[PurePosixPath] = set()
        for path in walk(self.source):
            relative = PurePosixPath(path.relative_to(self.source).as_posix())
            recording = _recording_of(relative)
            if recording is not None:
                if recording not in recordings:
                    recordings.add(recording)
                    self.recording(recording)
            elif self.kept(path):
                self.file(relative, stable=True)
        return self.report

    def file(self, relative: PurePosixPath, stable: bool) -> None:
        source, target = self.source / relative, self.target / relative
        for _ in range(ATTEMPTS):
            try:
                before = source.stat()
                if not stat.S_ISREG(before.st_mode):
                    return  # a socket or a pipe is no data (and opening a pipe would wait forever)
                copied = copy_file(source, target, self.progress, before.st_size)
                after = source.stat()
            except FileNotFoundError:
                target.unlink(missing_ok=True)
                self.report.vanished.append(relative.as_posix())
                return
            if not stable or ((before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
                              and copied == after.st_size):
                return
        raise BackupError(f"{relative}: 复制期间文件一直在变 / the file kept changing while it was copied "
                          f"({ATTEMPTS} attempts)")

    def tree(self, relative: PurePosixPath, stable: bool, leave: frozenset[str] = frozenset()) -> None:
        for path in walk(self.source / relative):
            if self.kept(path) and not (path.parent == self.source / relative and path.name in leave):
                self.file(PurePosixPath(path.relative_to(self.source).as_posix()), stable)

    def recording(self, relative: PurePosixPath) -> None:
        folder = self.source / relative
        if (folder / MANIFEST_NAME).exists():
            self.tree(relative, stable=True)  # finished: nothing in it changes any more
            return
        if (folder / JOURNAL_NAME).exists():
            self.file(relative / JOURNAL_NAME, stable=False)
        self.tree(relative, stable=False, leave=frozenset({JOURNAL_NAME, MANIFEST_NAME}))
        if (folder / MANIFEST_NAME).exists():  # it finished while being copied: take it whole
            if (self.target / relative).exists():
                shutil.rmtree(self.target / relative)
            self.tree(relative, stable=True)
        else:
            self.report.unfinished.append(relative.as_posix())


def planned_bytes(data_dir: Path, skip: set[Path]) -> int:
    """About how much `copy_data_dir` will copy (the progress bar's length)."""
    total = 0
    for path in walk(data_dir):
        if not transient(path) and path.resolve() not in skip:
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                pass  # removed since listed: the copy will say so
    return total


def copy_data_dir(data_dir: Path, target: Path, skip: set[Path], progress: Progress) -> CopyReport:
    """Copy the data directory into `target` (see the module doc for what and how)."""
    target.mkdir(parents=True, exist_ok=True)
    if not data_dir.is_dir():
        return CopyReport()
    return _Copier(data_dir, target, {path.resolve() for path in skip}, progress).run()


def restore_files(source: Path, data_dir: Path, progress: Progress) -> int:
    """Copy a verified backup's files into the (checked empty) data directory; return the count."""
    count = 0
    for path in walk(source):
        copy_file(path, data_dir / path.relative_to(source), progress)
        count += 1
    return count
