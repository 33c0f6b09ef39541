"""`lianshen archive verify | export | verify-bag | reindex`: the archive's operator commands.

Exit status: 0 all good, 1 something is wrong (problems printed, one a line, naming where), 2 a
usage error. Long work shows a tqdm progress bar on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from server.cli_settings import settings_from, with_db


def _quiet_bagit() -> None:
    """bagit logs every file it hashes at INFO: the progress bar says enough."""
    logging.getLogger("bagit").setLevel(logging.WARNING)


def cmd_verify(args: argparse.Namespace) -> int:
    from server.archive.integrity import verify_archive

    settings = settings_from(args)
    report = asyncio.run(with_db(settings, lambda db: verify_archive(db, settings.data_dir)))
    for problem in report.problems:
        print(problem.line())
    print(f"checked {report.meetings} event logs ({report.events} events), {report.minutes_versions} final "
          f"minutes versions, {report.recordings} recordings ({report.files} files; fixity newly recorded "
          f"for {report.fixity_recorded}): "
          + ("intact" if report.ok else f"{len(report.problems)} PROBLEMS"), file=sys.stderr)
    return 0 if report.ok else 1


async def _export(args: argparse.Namespace, settings: Any, db: Any) -> int:
    from server.archive.access import record_access
    from server.archive.bag import export_bag
    from server.archive.dossier import build_dossier, select_cases

    cases = await select_cases(db, project_code=args.case, meeting_id=args.meeting, year=args.year)
    if not cases:
        print("no case matches: nothing to export", file=sys.stderr)
        return 1
    out = Path(args.out)
    written = skipped = files = size = 0
    with tqdm(cases, desc="export", unit="case", file=sys.stderr) as bar:
        for case in bar:
            bar.set_postfix_str(case.project_code)
            dossier = await build_dossier(db, case, settings.data_dir, None, settings.centre.promised_limits)
            result = await export_bag(dossier, out, settings.centre.name)
            if result.set_aside is not None:
                tqdm.write(f"{result.name}: an invalid bag was in the way, kept as {result.set_aside}",
                           file=sys.stderr)
            if result.status == "written":
                written, files, size = written + 1, files + result.files, size + result.bytes
                await record_access(db, None, "export", f"case:{case.id}", {"bag": str(result.path)})
            else:
                skipped += 1
            await db.commit()  # each finished case is final: an interrupted export resumes after it
    print(f"{written} bags written ({files} files, {size} bytes), {skipped} already complete and valid; "
          f"in {out}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:

    _quiet_bagit()
    settings = settings_from(args)
    return asyncio.run(with_db(settings, lambda db: _export(args, settings, db)))


def _bags_in(path: Path) -> list[Path]:
    if (path / "bagit.txt").exists() or not path.is_dir():
        return [path]
    return sorted(p for p in path.iterdir() if (p / "bagit.txt").exists())


def cmd_verify_bag(args: argparse.Namespace) -> int:
    from server.archive.bag import verify_bag

    _quiet_bagit()
    bags = _bags_in(Path(args.dir))
    if not bags:
        print(f"{args.dir}: no bag here (no bagit.txt, and no sub-directory holding one)", file=sys.stderr)
        return 1
    invalid = 0
    for bag in tqdm(bags, desc="verify-bag", unit="bag", file=sys.stderr, disable=len(bags) < 2):
        check = verify_bag(bag)
        for problem in check.problems:
            print(f"{bag}: {problem}")
        invalid += not check.valid
        tqdm.write(f"{bag}: {'valid' if check.valid else 'INVALID'}", file=sys.stderr)
    return 1 if invalid else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from server.archive.indexer import rebuild_index, refresh_index

    settings = settings_from(args)
    work = rebuild_index if args.full else refresh_index
    report = asyncio.run(with_db(settings, work))
    print(f"indexed {report.events} events of {report.meetings} meetings and {report.minutes_versions} minutes "
          f"versions: {report.entries} entries", file=sys.stderr)
    return 0


def add_parser(commands: Any) -> None:
    """Register `lianshen archive ...` on the main parser's sub-commands."""
    archive = commands.add_parser("archive", help="archive: verify, export bags, validate bags, reindex",
                                  description="The archive: integrity checks and BagIt packages.")
    sub = archive.add_subparsers(dest="archive_command", required=True, metavar="COMMAND")
    p = sub.add_parser("verify", help="check minutes hashes, recording files and event-log chains",
                       description="Re-hash every final minutes version, every recording file and every "
                                   "meeting's event log; print each problem (where, row, expected, found).")
    p.add_argument("--data-dir", help="data directory")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("export", help="write one BagIt bag per case",
                       description="Write a BagIt bag (SHA-256 manifests) per case; cases whose bag is already "
                                   "complete and valid are skipped, so an interrupted export resumes.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", metavar="CODE", help="one case by project code")
    which.add_argument("--meeting", metavar="ID", type=int, help="the cases of one meeting")
    which.add_argument("--year", metavar="YYYY", type=int, help="the cases of every meeting of a year")
    p.add_argument("--out", metavar="DIR", required=True, help="directory to write the bags into")
    p.add_argument("--data-dir", help="data directory")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("verify-bag", help="validate a bag (or a directory of bags) offline",
                       description="Validate with nothing but the bag: BagIt checksums and completeness, "
                                   "event-log hash chains, minutes hashes.")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=cmd_verify_bag)
    p = sub.add_parser("reindex", help="bring the search index up to date",
                       description="Index new events and final minutes (--full: rebuild from scratch).")
    p.add_argument("--full", action="store_true", help="drop the index and rebuild it")
    p.add_argument("--data-dir", help="data directory")
    p.set_defaults(func=cmd_reindex)
