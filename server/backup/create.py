"""`lianshen backup --out DIR`: the database, then the data directory, sealed as a bag.

Written into a hidden `.partial-<name>` folder beside DIR and renamed only when complete, so a
folder named DIR is always a whole backup; an interrupted run leaves nothing that looks like one.
The folder is created private (0700): it holds the token secret and the password hashes.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from server.backup.database import Database, dump
from server.backup.errors import BackupError
from server.backup.files import copy_data_dir, planned_bytes
from server.backup.manifest import DATABASE_DIR, FILES_DIR, seal
from server.backup.progress import Progress, Silent
from server.settings import Settings

PARTIAL_PREFIX = ".partial-"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database: str
    files: int
    bytes: int
    unfinished: list[str]
    vanished: list[str]


def _check_out(out: Path, data_dir: Path) -> None:
    if out == data_dir or data_dir in out.parents:
        raise BackupError(f"备份不能写进数据目录 / the backup cannot go inside the data directory it copies: {out}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out}: 已存在且不是空目录，备份从不覆盖 / exists and is not an empty folder "
                          "(a backup never overwrites anything)")


def create_backup(settings: Settings, out: Path, progress: Progress | None = None) -> BackupResult:
    """Back up the configured database and data directory into `out` (absent or empty)."""
    progress = progress or Silent()
    data_dir, out = settings.data_dir.resolve(), out.resolve()
    _check_out(out, data_dir)
    database = Database.of(settings.database_url)
    staging = out.parent / f"{PARTIAL_PREFIX}{out.name}"
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted run: start again
    out.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir(mode=0o700)
    try:
        progress.phase("database", database.sqlite_path.stat().st_size if database.kind == "sqlite" and
                       database.sqlite_path.is_file() else None)
        taken_at = datetime.now(UTC)
        progress.advance(dump(database, staging / DATABASE_DIR).stat().st_size)
        skip = database.files()
        progress.phase("files", planned_bytes(data_dir, skip))
        copied = copy_data_dir(data_dir, staging / FILES_DIR, skip, progress)
        progress.phase("hashing", sum(path.stat().st_size for path in staging.rglob("*") if path.is_file()))
        bag = seal(staging, {
            "Source-Organization": settings.centre.name,
            "External-Description": f"联审系统备份 / Lianshen backup of {data_dir}",
            "Lianshen-Database": database.kind,
            "Lianshen-Database-Taken-At": taken_at.isoformat(timespec="seconds"),
            "Lianshen-Unfinished-Recording": copied.unfinished or "none",
        }, progress)
        size, count = (int(part) for part in str(bag.info["Payload-Oxum"]).split("."))
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupResult(out, database.kind, count, size, copied.unfinished, copied.vanished)
