"""`lianshen restore DIR` and `lianshen backup verify DIR`.

A restore writes only into an empty data directory and an empty database (it never mixes two
installations), and only after every hash in the backup has been checked: a damaged backup is
refused naming each bad file, before anything is written. Unfinished recordings in the backup are
restored as they were copied; the server recovers them when it starts, as after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.backup.database import Database, check_dump, emptiness, restore
from server.backup.errors import DAMAGED, BackupError
from server.backup.files import restore_files
from server.backup.manifest import Backup, open_backup
from server.backup.progress import Progress, Silent
from server.settings import Settings


def verify_backup(path: Path, progress: Progress | None = None) -> Backup:
    """The backup if every file is present and unaltered and its database dump readable; else
    BackupError (DAMAGED) with one problem per bad file."""
    progress = progress or Silent()
    backup = open_backup(path)
    progress.phase("verifying", backup.payload_bytes)
    problems = backup.problems(progress)
    if not problems and (found := check_dump(backup.database, backup.dump)):
        problems.append(f"{backup.dump.relative_to(path)}: 数据库副本无法读取 / the database copy is unreadable: "
                        f"{found}")
    if problems:
        raise BackupError(f"{path}: 备份已损坏，未做任何恢复 / the backup is damaged; nothing was restored",
                          DAMAGED, problems)
    return backup


def _data_dir_content(data_dir: Path, database: Database) -> list[str]:
    """What is in the data directory besides the (separately checked) database's own files."""
    if not data_dir.is_dir():
        return []
    own = database.files()
    return sorted(entry.name for entry in data_dir.iterdir() if entry.resolve() not in own)


@dataclass(frozen=True)
class RestoreResult:
    database: str
    files: int
    unfinished: list[str]


def restore_backup(settings: Settings, path: Path, progress: Progress | None = None) -> RestoreResult:
    """Restore the backup at `path` into the configured (empty) data directory and database."""
    progress = progress or Silent()
    backup = open_backup(path)
    database = Database.of(settings.database_url)
    if backup.database != database.kind:
        raise BackupError(f"备份中的数据库是 {backup.database}，目标是 {database.kind} / the backup holds a "
                          f"{backup.database} database, the target is {database.kind} ({database.shown()})")
    data_dir = settings.data_dir.resolve()
    if content := _data_dir_content(data_dir, database):
        raise BackupError(f"数据目录不是空的 / the data directory is not empty: {data_dir} holds "
                          f"{', '.join(content[:5])}{', ...' if len(content) > 5 else ''} (restore only into an "
                          "empty one: it never mixes two installations' files)")
    if held := emptiness(database):
        raise BackupError(f"目标数据库不是空的 / the target database is not empty: {database.shown()} holds {held} "
                          "(restore only into an empty database)")
    verify_backup(path, progress)
    dump_size = backup.dump.stat().st_size
    progress.phase("database", dump_size)
    restore(database, backup.dump)
    progress.advance(dump_size)
    progress.phase("files", backup.payload_bytes - dump_size)
    data_dir.mkdir(parents=True, exist_ok=True)
    count = restore_files(backup.files, data_dir, progress)
    return RestoreResult(database.kind, count, backup.unfinished)
