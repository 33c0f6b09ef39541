"""Archive exports started from the browser: one background job per request, BagIt bags zipped.

An archivist picks a case, a meeting or a year; the page answers at once and polls the job. The
job runs as an asyncio task of this process (the slow parts, copying, hashing and zipping, in
threads) through the same code as `lianshen archive export`: `select_cases`, `build_dossier`,
`export_bag`; then every bag is validated with `verify_bag` (as `lianshen archive verify-bag`
would, offline) before the zip is offered, so the page can say 校验通过 and show each bag's
Payload-Oxum.

Job state lives in memory only (`ExportJobs`, one per application): a restart forgets the jobs
(the files stay under data_dir/exports/<job>/ for an operator to remove) and a second process
would not see them. That is enough for one centre's archivist; a table would be the next step if
exports had to survive restarts.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import bagit
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.archive.access import record_access
from server.archive.bag import export_bag, verify_bag
from server.archive.dossier import build_dossier, select_cases
from server.auth.principal import Principal
from server.db.models import InvestmentCase
from server.domain.roles import Role
from server.settings import Settings

log = logging.getLogger(__name__)

EXPORTS_DIR = "exports"
EXPORTERS = frozenset({Role.ARCHIVIST, Role.ADMIN})
ScopeKind = Literal["case", "meeting", "year"]
State = Literal["running", "done", "failed"]
Step = Literal["selecting", "dossier", "bag", "verify", "zip", "done", "failed"]
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
    id: str
    kind: ScopeKind
    value: str
    requested_by: str
    started_at: datetime
    directory: Path
    state: State = "running"
    step: Step = "selecting"
    current: str = ""  # the project code being worked on
    steps_done: int = 0
    steps_total: int = 1
    bags: list[BagReport] = field(default_factory=list)
    zip_path: Path | None = None
    error: str = ""

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else min(99, self.steps_done * 100 // max(self.steps_total, 1))

    @property
    def verified(self) -> bool:
        return self.state == "done" and bool(self.bags) and all(b.valid for b in self.bags)

    def advance(self, step: Step, current: str = "") -> None:
        self.step, self.current = step, current
        self.steps_done += 1


class ExportError(Exception):
    """The request cannot start an export (nothing matches); the message is for people."""


class ExportJobs:
    """The application's export jobs (in memory, see the module's note) and their tasks."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.jobs: dict[str, ExportJob] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> ExportJob | None:
        return self.jobs.get(job_id)

    def start(self, principal: Principal, kind: ScopeKind, value: str, remote: str | None) -> ExportJob:
        job_id = secrets.token_hex(8)
        job = ExportJob(id=job_id, kind=kind, value=value, requested_by=principal.display_name,
                        started_at=datetime.now(UTC),
                        directory=Path(self.settings.data_dir) / EXPORTS_DIR / job_id)
        self.jobs[job_id] = job
        task = asyncio.create_task(self._run(job, principal, remote), name=f"export-{job_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    async def close(self) -> None:
        """Cancel what is still running (the app is shutting down)."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, job: ExportJob, principal: Principal, remote: str | None) -> None:
        try:
            await self._export(job, principal, remote)
        except asyncio.CancelledError:
            job.state, job.step, job.error = "failed", "failed", "导出被中断 / the export was interrupted"
            raise
        except Exception as exc:  # a job must end in a state the page can show, whatever broke
            log.exception("archive export %s failed", job.id)
            job.state, job.step, job.error = "failed", "failed", f"导出失败 / the export failed: {exc}"

    async def _export(self, job: ExportJob, principal: Principal, remote: str | None) -> None:
        bags_dir = job.directory / "bags"
        async with self.sessions() as db:
            cases = await cases_in_scope(db, job.kind, job.value)
            if not cases:
                raise ExportError("没有符合条件的项目 / no case matches")
            job.steps_total = len(cases) * STEPS_PER_CASE + 1
            for case in cases:
                job.advance("dossier", case.project_code)
                dossier = await build_dossier(db, case, self.settings.data_dir, principal,
                                              self.settings.centre.promised_limits)
                job.advance("bag", case.project_code)
                result = await export_bag(dossier, bags_dir, self.settings.centre.name)
                job.advance("verify", case.project_code)
                job.bags.append(await asyncio.to_thread(_report, result.path))
                await record_access(db, principal, "export", f"case:{case.id}",
                                    {"job": job.id, "bag": result.name}, remote)
                await db.commit()
        job.advance("zip")
        job.zip_path = await asyncio.to_thread(_zip, bags_dir, job.directory / zip_name(job))
        job.step, job.state = "done", "done"


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

