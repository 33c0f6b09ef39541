"""The database half of a backup: a consistent copy taken while the server runs and writes.

SQLite: the online backup API (`sqlite3.Connection.backup`) in a single step, i.e. one read
transaction: in WAL mode writers go on meanwhile and the copy is the database as of that instant
(a copy made page by page in several steps would restart whenever the server writes). The copy is
switched to a rollback journal so it is one self-contained file, and integrity-checked.
PostgreSQL: `pg_dump --format=custom` (its own consistent snapshot), restored by `pg_restore` into
an empty database in a single transaction, so a failed restore leaves the database empty. The
password, if the URL has one, goes to the child through PGPASSWORD, never on its command line.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from server.backup.errors import DAMAGED, REFUSED, BackupError

DUMP_NAMES = {"sqlite": "lianshen.sqlite3", "postgresql": "lianshen.pgdump"}
"""The database's file in the backup, by kind of database."""


@dataclass(frozen=True)
class Database:
    """The configured database, as backup and restore need it."""

    url: URL

    @classmethod
    def of(cls, url: str) -> Database:
        return cls(make_url(url))

    @property
    def kind(self) -> str:
        return "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"

    @property
    def dump_name(self) -> str:
        return DUMP_NAMES[self.kind]

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.database or "").resolve()

    def files(self) -> set[Path]:
        """The files the database itself lives in (the file copy must not take them raw)."""
        if self.kind != "sqlite":
            return set()
        path = self.sqlite_path
        return {path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}

    def shown(self) -> str:
        """The URL without its password, for messages."""
        return self.url.render_as_string(hide_password=True)


def dump(database: Database, folder: Path) -> Path:
    """Write a consistent copy of the database into `folder`; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / database.dump_name
    if database.kind == "sqlite":
        _sqlite_copy(database.sqlite_path, target)
        problem = _sqlite_problem(target)
        if problem:
            raise BackupError(f"数据库副本未通过完整性检查 / the database copy failed its integrity check: {problem}")
    else:
        _pg_tool("pg_dump", database, "--format=custom", "--no-password", f"--file={target}")
    return target


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that can never write (nor create) the file."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"没有数据库文件 / no database file at {source}")
    reader = _read_only(source)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)  # pages=-1: the whole database in one step, one snapshot
        writer.execute("PRAGMA journal_mode=DELETE")
    finally:
        writer.close()
        reader.close()


def _sqlite_problem(path: Path) -> str | None:
    """None when SQLite finds the file sound, else what it says."""
    try:
        connection = _read_only(path)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == "ok" else str(result)


def check_dump(database_kind: str, path: Path) -> str | None:
    """None when the dump is readable as what it claims to be, else why not (offline check)."""
    if database_kind == "sqlite":
        return _sqlite_problem(path)
    try:
        _run(["pg_restore", "--list", str(path)], {}, DAMAGED)
    except BackupError as exc:
        return str(exc)
    return None


def emptiness(database: Database) -> str | None:
    """None when the database holds no tables (restore may fill it), else what it holds."""
    if database.kind == "sqlite":
        path = database.sqlite_path
        if not path.exists():
            return None
        try:
            connection = _read_only(path)
            try:
                tables = [row[0] for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            return f"{path}: {exc}"
    else:
        tables = _pg_tables(database)
    if not tables:
        return None
    return f"{len(tables)} 张表 / {len(tables)} tables ({', '.join(tables[:5])}{', ...' if len(tables) > 5 else ''})"


def _pg_tables(database: Database) -> list[str]:
    from server.db.engine import create_engine

    async def tables() -> list[str]:
        engine = create_engine(database.url.render_as_string(hide_password=False))
        try:
            async with engine.connect() as connection:
                return sorted(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(tables())
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc  # the driver's own words, without SQLAlchemy's wrapping
        raise BackupError(f"无法连接目标数据库 / cannot connect to the target database {database.shown()}: "
                          f"{reason} (create it first, empty: createdb)") from None


def restore(database: Database, dump_path: Path) -> None:
    """Load the dump into the (checked empty) target database."""
    if database.kind == "sqlite":
        target = database.sqlite_path
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in database.files():  # an empty file's journal must not be replayed onto the copy
            stale.unlink(missing_ok=True)
        temporary = target.with_name(f".restore-{target.name}")
        temporary.unlink(missing_ok=True)
        _sqlite_copy(dump_path, temporary)
        os.replace(temporary, target)
        return
    _pg_tool("pg_restore", database, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             "--no-password", str(dump_path))


def _pg_tool(tool: str, database: Database, *args: str) -> None:
    url = database.url
    command = [tool, f"--dbname={url.database}"]
    if url.host:
        command.append(f"--host={url.host}")
    if url.port:
        command.append(f"--port={url.port}")
    if url.username:
        command.append(f"--username={url.username}")
    env = {"PGPASSWORD": url.password} if url.password else {}
    _run([*command, *args], env, REFUSED)


def _run(command: list[str], env: dict[str, str], status: int) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"找不到 {command[0]}，请安装 postgresql-client / {command[0]} not found: install the "
                          "postgresql-client package (its major version at least the server's)")
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} 失败 / {command[0]} failed (exit {done.returncode}): "
                          f"{done.stderr.strip() or done.stdout.strip()}", status)
