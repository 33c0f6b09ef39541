"""`lianshen archive verify`: is the record exactly what was recorded?

Three kinds of evidence, each reported with where (table or file), which row or entry, what was
expected and what was found:
- every meeting's event log re-hashed as a chain (server.domain.eventlog), and the log head that
  each final minutes version recorded still present in it (a chain alone cannot show a cut-off end);
- every final or superseded minutes version re-hashed from its stored JSON;
- every recording: the manifest readable, each track file present with the size and SHA-256 its
  manifest gives, and the manifest and composed files unchanged since first seen (archive_fixity:
  a manifest rewritten to match altered tracks still differs from what was recorded then).
Files seen for the first time are recorded in archive_fixity (the caller commits), so the first
verify or export after a recording is made is when its fixity is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recorder.session import sha256_of
from server.archive.recordings import RECORDINGS_DIR, Recording, meeting_recordings, track_path
from server.db.models import ArchiveFixity, MeetingEvent, MinutesDocument, MinutesVersion
from server.services.eventlog import check_meeting_log, check_migrated_chains, hash_now
from server.services.minutes_state import content_sha256


@dataclass(frozen=True)
class Problem:
    where: str  # table or file
    row: str  # the row, entry or track at fault
    expected: str | None
    found: str | None
    message: str

    def line(self) -> str:
        return (f"{self.where} [{self.row}]: {self.message}"
                + (f" (expected {self.expected}, found {self.found})" if self.expected or self.found else ""))


@dataclass
class VerifyReport:
    meetings: int = 0
    events: int = 0
    minutes_versions: int = 0
    recordings: int = 0
    files: int = 0
    fixity_recorded: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _event_logs(db: AsyncSession, report: VerifyReport, problems: list[Problem]) -> None:
    for meeting_id in await db.scalars(select(MeetingEvent.meeting_id).distinct().order_by(MeetingEvent.meeting_id)):
        check = await check_meeting_log(db, meeting_id)
        report.meetings += 1
        report.events += check.count
        problems.extend(Problem("meeting_events", f"meeting {meeting_id} seq {p.seq}", p.expected, p.found,
                                f"{p.kind}: {p.message}") for p in check.problems)
        problems.extend(Problem("record_migration_rows", f"meeting {meeting_id} seq {p.seq}", p.expected, p.found,
                                f"{p.kind}: {p.message}") for p in await check_migrated_chains(db, meeting_id))


async def _minutes(db: AsyncSession, report: VerifyReport, problems: list[Problem]) -> None:
    rows = await db.execute(
        select(MinutesVersion, MinutesDocument).join(MinutesDocument, MinutesDocument.id == MinutesVersion.document_id)
        .where(MinutesVersion.status.in_(("final", "superseded"))).order_by(MinutesVersion.id))
    for version, document in rows:
        report.minutes_versions += 1
        row = f"id {version.id}: {document.number} v{version.version} (meeting {document.meeting_id})"
        found = content_sha256(version.content)
        if found != version.sha256:
            problems.append(Problem("minutes_versions", row, version.sha256, found,
                                    "定稿纪要内容与其哈希不符 / final minutes content does not match its SHA-256"))
        head = (version.content.get("source_log") or {}).get("head_hash")
        if head and await hash_now(db, document.meeting_id, head) is None:
            problems.append(Problem("meeting_events", f"meeting {document.meeting_id}", head, None,
                                    f"纪要 {document.number} 记录的事件日志末条哈希已不在日志中（日志被截断或重写）/ "
                                    "the event-log head recorded in these minutes is no longer in the log "
                                    "(cut off or rewritten)"))


class _Fixity:
    """archive_fixity rows, checked against files and filled for files seen the first time."""

    def __init__(self, db: AsyncSession, data_dir: Path, report: VerifyReport, problems: list[Problem]) -> None:
        self.db, self.data_dir, self.report, self.problems = db, data_dir, report, problems

    async def check(self, path: Path) -> None:
        relative = path.relative_to(self.data_dir).as_posix()
        digest, size = sha256_of(path), path.stat().st_size  # noqa: ASYNC240  # a CLI command, alone on its loop
        self.report.files += 1
        known = await self.db.get(ArchiveFixity, relative)
        if known is None:
            self.db.add(ArchiveFixity(path=relative, sha256=digest, size=size, recorded_at=datetime.now(UTC)))
            self.report.fixity_recorded += 1
        elif known.sha256 != digest:
            self.problems.append(Problem(relative, "file", known.sha256, digest,
                                         f"文件自 {known.recorded_at:%Y-%m-%d} 登记后被改动 / changed since its "
                                         f"fixity was recorded on {known.recorded_at:%Y-%m-%d}"))


def _track_problems(recording: Recording, data_dir: Path, report: VerifyReport) -> list[Problem]:
    assert recording.manifest is not None
    problems = []
    for track in recording.manifest.tracks:
        path = track_path(recording, track)
        where = (recording.directory / track.file).relative_to(data_dir).as_posix() if path else \
            recording.directory.relative_to(data_dir).as_posix()
        row = f"track {track.track_id} ({track.display_name} {track.kind})"
        if path is None:
            problems.append(Problem(where, row, None, track.file, "清单中的文件名非法 / the manifest names a "
                                                                   "file outside its recording directory"))
            continue
        if not path.is_file():
            problems.append(Problem(where, row, track.sha256, None, "轨道文件缺失 / track file is missing"))
            continue
        report.files += 1
        size, digest = path.stat().st_size, sha256_of(path)
        if digest != track.sha256 or size != track.size_bytes:
            problems.append(Problem(where, row, f"sha256 {track.sha256}, {track.size_bytes} bytes",
                                    f"sha256 {digest}, {size} bytes",
                                    "轨道文件与录像清单不符 / track file does not match its manifest"))
    return problems


async def _recordings(db: AsyncSession, data_dir: Path, report: VerifyReport, problems: list[Problem]) -> None:
    base = data_dir / RECORDINGS_DIR
    if not base.is_dir():
        return
    fixity = _Fixity(db, data_dir, report, problems)
    for meeting_dir in sorted(p for p in base.iterdir() if p.is_dir() and p.name.isdigit()):
        for recording in meeting_recordings(data_dir, int(meeting_dir.name)):
            report.recordings += 1
            manifest_path = recording.directory / "manifest.json"
            await fixity.check(manifest_path)
            if recording.manifest is None:
                problems.append(Problem(manifest_path.relative_to(data_dir).as_posix(), "manifest", None, None,
                                        f"录像清单无法读取 / unreadable manifest: {recording.error}"))
                continue
            problems.extend(_track_problems(recording, data_dir, report))
            for path in recording.composed:
                await fixity.check(path)


async def verify_archive(db: AsyncSession, data_dir: Path) -> VerifyReport:
    """Check everything; the report lists every problem (empty: intact)."""
    report = VerifyReport()
    await _event_logs(db, report, report.problems)
    await _minutes(db, report, report.problems)
    await _recordings(db, data_dir, report, report.problems)
    await db.flush()
    return report
