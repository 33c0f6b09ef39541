"""`lianshen backup --out DIR`, `lianshen backup verify DIR`, `lianshen restore DIR`.

Exit status: 0 done; 1 the backup is damaged or not a backup (each bad file printed, one a line);
2 refused as asked (output not empty, target not empty, a tool missing) or a usage error.
Progress: a tqdm bar per stage on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from server.backup.errors import REFUSED, BackupError
from server.cli_settings import settings_from


class _Bars:
    """One tqdm bar (bytes) per stage; a context manager, so the last bar closes however a stage ends
    (before any message is printed below it)."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def phase(self, name: str, total_bytes: int | None) -> None:
        self.close()
        self.bar = tqdm(total=total_bytes, desc=name, unit="B", unit_scale=True, unit_divisor=1024,
                        file=sys.stderr)

    def advance(self, nbytes: int) -> None:
        if self.bar is not None:
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _refused(exc: BackupError) -> int:
    for problem in exc.problems:
        print(problem)
    print(exc, file=sys.stderr)
    return exc.status


def cmd_backup(args: argparse.Namespace) -> int:
    from server.backup.create import create_backup

    if not args.out:
        print("lianshen backup: --out DIR is required (or: lianshen backup verify DIR)", file=sys.stderr)
        return REFUSED
    settings = settings_from(args)
    try:
        with _Bars() as bars:
            result = create_backup(settings, Path(args.out), bars)
    except BackupError as exc:
        return _refused(exc)
    print(f"备份完成 / backup written: {result.path} ({result.files} files, {result.bytes} bytes, the "
          f"{result.database} database copy included; SHA-256 manifest)", file=sys.stderr)
    for recording in result.unfinished:
        print(f"  {recording}: 录制未结束，按当时状态复制，恢复后服务器启动时修复 / still recording: copied as it "
              "stood, recovered when a restored server starts", file=sys.stderr)
    if result.vanished:
        print(f"  {len(result.vanished)} 个文件在复制前被删除 / files removed by the server before they were "
              f"copied: {', '.join(result.vanished)}", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from server.backup.restore import verify_backup

    try:
        with _Bars() as bars:
            backup = verify_backup(Path(args.dir), bars)
    except BackupError as exc:
        return _refused(exc)
    print(f"{args.dir}: 备份完好 / the backup is intact ({backup.database}, taken "
          f"{backup.bag.info.get('Lianshen-Database-Taken-At')}, {len(backup.bag.payload_entries())} files)",
          file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server.backup.database import Database
    from server.backup.restore import restore_backup

    settings = settings_from(args)
    try:
        with _Bars() as bars:
            result = restore_backup(settings, Path(args.dir), bars)
    except BackupError as exc:
        return _refused(exc)
    print(f"恢复完成 / restored: {result.database} database into {Database.of(settings.database_url).shown()}, "
          f"{result.files} files into {settings.data_dir.resolve()}", file=sys.stderr)
    if result.unfinished:
        print(f"  {len(result.unfinished)} 个未结束的录制将在服务器启动时修复 / unfinished recordings, recovered "
              f"when the server starts: {', '.join(result.unfinished)}", file=sys.stderr)
    from server.db.migrate import is_at_head

    if not is_at_head(settings.database_url):
        print("  数据库结构早于本版本，请先运行 lianshen db upgrade / the schema is older than this version: run "
              "`lianshen db upgrade` before `lianshen serve`", file=sys.stderr)
    return 0


def add_commands(commands: Any) -> None:
    """Register `lianshen backup [verify]` and `lianshen restore` on the main parser's sub-commands."""
    p = commands.add_parser("backup", help="back up the database and the data directory (or verify a backup)",
                            description="Copy the database (SQLite online backup or pg_dump) and the data "
                                        "directory into a new BagIt bag with SHA-256 manifests, while the "
                                        "server runs. `backup verify DIR` checks a backup without restoring.")
    p.add_argument("--out", metavar="DIR", help="the backup folder to create (absent or empty)")
    p.add_argument("--data-dir", help="data directory")
    p.set_defaults(func=cmd_backup)
    sub = p.add_subparsers(dest="backup_command", metavar="COMMAND")
    verify = sub.add_parser("verify", help="check every hash of a backup without restoring it",
                            description="Check that every file of a backup is present and unaltered and its "
                                        "database copy readable; each bad file is named.")
    verify.add_argument("dir", metavar="DIR")
    verify.set_defaults(func=cmd_verify)
    p = commands.add_parser("restore", help="restore a backup into an empty data directory and database",
                            description="Verify every hash of the backup, then restore its database into the "
                                        "configured (empty) database and its files into the (empty) data "
                                        "directory. PostgreSQL: create the empty database first.")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--data-dir", help="data directory (must be empty or absent)")
    p.set_defaults(func=cmd_restore)
