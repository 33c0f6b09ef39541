"""Archive exports started from the browser: one background job per request, BagIt bags zipped.

An archivist picks a case, a meeting or a year; the page answers at once and polls the job. The
job runs as an asyncio task of this process (the slow parts, copying, hashing and zipping, in
threads) through the same code as `lianshen archive export`: `select_cases`, `build_dossier`,
`export_bag`; then every bag is validated with `verify_bag` (as `lianshen archive verify-bag`
would, offline) before the zip is offered, so the page can say 校验通过 and show each bag's
Payload-Oxum.

Each job is a row of `export_jobs`, written at every step, so the page reads the same state
whatever happened to the process: a restart still shows finished jobs and serves their zips, and
a job that was running when the process stopped is marked interrupted (`recover`, before this
process first reads or starts a job; one process runs exports, as one centre's archivist needs).
Finished jobs are pruned `archive.export_keep_days` after they ended, their files under
data_dir/exports/<job>/ with them (`prune`: when the application starts, so a restart frees the
disk without waiting for someone to open an export page, and a database not reachable yet does
not stop the start; again on that first use and whenever a job starts).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import bagit
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.archive.access import record_access
from server.archive.bag import export_bag, verify_bag
from server.archive.dossier import build_dossier, select_cases
from server.auth.principal import Principal
from server.db.models import ExportJobRow, InvestmentCase
from server.domain.roles import Role
from server.settings import Settings

log = logging.getLogger(__name__)

EXPORTS_DIR = "exports"
EXPORTERS = frozenset({Role.ARCHIVIST, Role.ADMIN})
ScopeKind = Literal["case", "meeting", "year"]
State = Literal["running", "done", "failed"]
Step = Literal["selecting", "dossier", "bag", "verify", "zip", "done", "failed"]
# Why a job failed, a catalog code (archive.export.error.*): nothing matched, something broke
# (the exception's text is kept in error_detail and the log), the process stopped under it.
ErrorCode = Literal["", "nothing", "failed", "interrupted"]
STEPS_PER_CASE = 3  # dossier, bag, verify; one more for the zip at the end


@dataclass
class BagReport:
    """One bag as validated after writing."""

    name: str
    files: int
    payload_oxum: str
    valid: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class ExportJob:
    """One job as its row holds it (`directory` is where its files live)."""

    id: str
    kind: ScopeKind
    value: str
    requested_by: str
    started_at: datetime
    directory: Path
    requested_by_id: int | None = None
    state: State = "running"
    step: Step = "selecting"
    current: str = ""  # the project code being worked on
    steps_done: int = 0
    steps_total: int = 1
    bags: list[BagReport] = field(default_factory=list)
    zip_name: str | None = None
    finished_at: datetime | None = None
    error: ErrorCode = ""
    error_detail: str = ""

    @property
    def zip_path(self) -> Path | None:
        return self.directory / self.zip_name if self.zip_name else None

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else min(99, self.steps_done * 100 // max(self.steps_total, 1))

    @property
    def verified(self) -> bool:
        return self.state == "done" and bool(self.bags) and all(b.valid for b in self.bags)

    def advance(self, step: Step, current: str = "") -> None:
        self.step, self.current = step, current
        self.steps_done += 1

    def fail(self, error: ErrorCode, detail: str = "") -> None:
        self.state, self.step, self.error, self.error_detail = "failed", "failed", error, detail
        self.finished_at = datetime.now(UTC)


class ExportError(Exception):
    """The request cannot start an export (nothing matches)."""


class ExportJobs:
    """The application's export jobs: their rows, and the tasks this process runs them in."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.root = Path(settings.data_dir) / EXPORTS_DIR
        self.tasks: set[asyncio.Task[None]] = set()
        self._recovery = asyncio.Lock()
        self._recovered = False

    async def get(self, job_id: str) -> ExportJob | None:
        await self._recover_once()
        async with self.sessions() as db:
            row = await db.get(ExportJobRow, job_id)
            return self._job(row) if row is not None else None

    async def start(self, principal: Principal, kind: ScopeKind, value: str, remote: str | None) -> ExportJob:
        await self._recover_once()
        await self.prune()
        job_id = secrets.token_hex(8)
        job = ExportJob(id=job_id, kind=kind, value=value, requested_by=principal.display_name,
                        requested_by_id=principal.user_id, started_at=datetime.now(UTC),
                        directory=self.root / job_id)
        await self._save(job, new=True)
        task = asyncio.create_task(self._run(job, principal, remote), name=f"export-{job_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    async def _recover_once(self) -> None:
        async with self._recovery:
            if not self._recovered:
                await self.recover()
                self._recovered = True

    async def recover(self) -> list[str]:
        """Before this process runs a job: jobs still marked running were cut off by a stop (nothing
        runs them any more): mark them interrupted and remove their partial files; then prune.
        Returns their ids."""
        now = datetime.now(UTC)
        async with self.sessions() as db:
            ids = list(await db.scalars(select(ExportJobRow.id).where(ExportJobRow.state == "running")))
            if ids:
                await db.execute(update(ExportJobRow).where(ExportJobRow.id.in_(ids)).values(
                    state="failed", step="failed", error="interrupted", finished_at=now,
                    error_detail="the server stopped while the export ran"))
                await db.commit()
        for job_id in ids:
            await asyncio.to_thread(shutil.rmtree, self.root / job_id, True)
        await self.prune(now)
        return ids

    async def prune(self, now: datetime | None = None) -> list[str]:
        """Remove jobs finished more than `archive.export_keep_days` ago with their files, and
        directories under exports/ that no job owns any more and that are as old (left by a crash
        or by the in-memory jobs of earlier versions). Returns the removed job ids."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.settings.archive.export_keep_days)
        async with self.sessions() as db:
            old = list(await db.scalars(select(ExportJobRow.id).where(ExportJobRow.finished_at < cutoff)))
            if old:
                await db.execute(delete(ExportJobRow).where(ExportJobRow.id.in_(old)))
                await db.commit()
            owned = set(await db.scalars(select(ExportJobRow.id)))
        await asyncio.to_thread(_remove_directories, self.root, set(old), owned, cutoff)
        return old

    async def prune_at_start(self) -> None:
        """`prune` as the application starts; a failure is logged, not raised: serving must not
        wait on housekeeping, and the first export prunes again."""
        try:
            removed = await self.prune()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("old archive export jobs not pruned at start-up (again at the first export): %s", exc)
            return
        if removed:
            log.info("pruned %d archive export jobs older than %d days", len(removed),
                        self.settings.archive.export_keep_days)

    async def close(self) -> None:
        """Cancel what is still running (the app is shutting down); each job records that."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, job: ExportJob, principal: Principal, remote: str | None) -> None:
        try:
            await self._export(job, principal, remote)
        except asyncio.CancelledError:
            job.fail("interrupted", "the server stopped while the export ran")
            await self._save_quietly(job)
            raise
        except ExportError:
            job.fail("nothing")
            await self._save_quietly(job)
        except Exception as exc:  # a job must end in a state the page can show, whatever broke
            log.exception("archive export %s failed", job.id)
            job.fail("failed", f"{type(exc).__name__}: {exc}")
            await self._save_quietly(job)

    async def _export(self, job: ExportJob, principal: Principal, remote: str | None) -> None:
        bags_dir = job.directory / "bags"
        async with self.sessions() as db:
            cases = await cases_in_scope(db, job.kind, job.value)
            if not cases:
                raise ExportError(job.id)
            job.steps_total = len(cases) * STEPS_PER_CASE + 1
            for case in cases:
                await self._step(job, "dossier", case.project_code)
                dossier = await build_dossier(db, case, self.settings.data_dir, principal,
                                              self.settings.centre.promised_limits)
                await self._step(job, "bag", case.project_code)
                result = await export_bag(dossier, bags_dir, self.settings.centre.name)
                await self._step(job, "verify", case.project_code)
                job.bags.append(await asyncio.to_thread(_report, result.path))
                await record_access(db, principal, "export", f"case:{case.id}",
                                    {"job": job.id, "bag": result.name}, remote)
                await db.commit()
        await self._step(job, "zip")
        await asyncio.to_thread(_zip, bags_dir, job.directory / zip_name(job))
        job.zip_name = zip_name(job)
        job.step, job.state, job.finished_at = "done", "done", datetime.now(UTC)
        await self._save(job)

    async def _step(self, job: ExportJob, step: Step, current: str = "") -> None:
        job.advance(step, current)
        await self._save(job)

    async def _save(self, job: ExportJob, new: bool = False) -> None:
        values = _row_values(job)
        async with self.sessions() as db:
            if new:
                db.add(ExportJobRow(id=job.id, **values))
            else:
                await db.execute(update(ExportJobRow).where(ExportJobRow.id == job.id).values(**values))
            await db.commit()

    async def _save_quietly(self, job: ExportJob) -> None:
        """Record a failure; if even that cannot be written (the database is going away with the
        process), the next start's `recover` marks the job interrupted."""
        try:
            await self._save(job)
        except Exception:  # recover() at the next start covers whatever this could not write
            log.exception("could not record the end of archive export %s", job.id)

    def _job(self, row: ExportJobRow) -> ExportJob:
        """The job a row holds (its codes are this module's own: only it writes the table)."""
        return ExportJob(
            id=row.id, kind=cast(ScopeKind, row.kind), value=row.value, requested_by=row.requested_by,
            requested_by_id=row.requested_by_id, started_at=row.started_at, directory=self.root / row.id,
            state=cast(State, row.state), step=cast(Step, row.step), current=row.current,
            steps_done=row.steps_done, steps_total=row.steps_total, bags=[BagReport(**bag) for bag in row.bags],
            zip_name=row.zip_name, finished_at=row.finished_at, error=cast(ErrorCode, row.error),
            error_detail=row.error_detail)


def _row_values(job: ExportJob) -> dict[str, Any]:
    return {"kind": job.kind, "value": job.value, "requested_by_id": job.requested_by_id,
            "requested_by": job.requested_by[:64], "started_at": job.started_at, "finished_at": job.finished_at,
            "state": job.state, "step": job.step, "current": job.current[:24], "steps_done": job.steps_done,
            "steps_total": job.steps_total, "zip_name": job.zip_name, "error": job.error,
            "error_detail": job.error_detail,
            "bags": [{"name": b.name, "files": b.files, "payload_oxum": b.payload_oxum, "valid": b.valid,
                      "problems": b.problems} for b in job.bags]}


def zip_name(job: ExportJob) -> str:
    return f"lianshen-archive-{job.kind}-{_safe(job.value)}-{job.id}.zip"


def _safe(value: str) -> str:
    return "".join(c if c.isalnum() or c == "-" else "_" for c in value)[:40] or "all"


async def cases_in_scope(db: AsyncSession, kind: ScopeKind, value: str) -> list[InvestmentCase]:
    """The cases an export of this scope covers (meeting and year values are digits, checked
    by the caller), as the CLI selects them."""
    if kind == "case":
        return await select_cases(db, project_code=value)
    if kind == "meeting":
        return await select_cases(db, meeting_id=int(value))
    return await select_cases(db, year=int(value))


def _report(path: Path) -> BagReport:
    """Validate the bag just written, as verify-bag would offline."""
    check = verify_bag(path)
    oxum = str(bagit.Bag(str(path)).info.get("Payload-Oxum", "")) if check.valid else ""
    files = int(oxum.split(".")[1]) if oxum else 0
    return BagReport(name=path.name, files=files, payload_oxum=oxum, valid=check.valid, problems=check.problems)


def _zip(source: Path, target: Path) -> Path:
    """Every bag under source/, by its own name, into one zip (stored as written: the payload is
    mostly PDF and video, which do not compress)."""
    partial = target.with_name(f".partial-{target.name}")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source).as_posix())
    partial.rename(target)
    shutil.rmtree(source)
    return target


def _remove_directories(root: Path, pruned: set[str], owned: set[str], cutoff: datetime) -> None:
    """The pruned jobs' directories, and those no job owns last changed before the cutoff."""
    if not root.is_dir():
        return
    for path in root.iterdir():
        if not path.is_dir() or path.name in owned:
            continue
        if path.name in pruned or datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
            shutil.rmtree(path, ignore_errors=True)
