"""`lianshen minutes render|notice MEETING_ID --format F --out FILE`: minutes from the command line.

If the meeting's minutes are in the workflow (server.services.minutes_workflow), the current
version is rendered as stored (its number, its edits, its confirmations). Otherwise a draft is
built straight from the meeting's record under a draft number, which no one can take for an
issued one: an office can look at the minutes of any ended meeting without starting the workflow.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from minutes.model import Minutes
from server.cli_settings import settings_from, with_db

FORMATS = ("pdf", "docx", "html", "json")
NOTICE_FORMATS = ("pdf", "html")


async def current_minutes(db: Any, meeting_id: int, settings: Any) -> Minutes:
    """The stored current version, or a draft built from the record (MeetingNotFound if none)."""
    from minutes.build import build_minutes
    from minutes.numbering import draft_number
    from server.services.minutes_source import load_minutes_source
    from server.services.minutes_state import as_issued, load_state

    state = await load_state(db, meeting_id)
    if state is not None:
        return as_issued(state.current)
    source = await load_minutes_source(db, meeting_id, settings)
    year = source.meeting.scheduled_start.year
    return build_minutes(source, number=draft_number(settings.centre.minutes_prefix, year))


def _run(args: argparse.Namespace, produce: Any) -> int:
    from server.services.eventlog import MeetingNotFound

    settings = settings_from(args)
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its INFO is one line per layout step
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    try:
        minutes = asyncio.run(with_db(settings, lambda db: current_minutes(db, args.meeting_id, settings)))
    except MeetingNotFound:
        print(f"error: no meeting {args.meeting_id}", file=sys.stderr)
        return 1
    data = produce(minutes)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"{minutes.number} {minutes.title}: {args.format} written to {out} ({len(data)} bytes)")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from minutes.render import render

    return _run(args, lambda minutes: render(minutes, args.format))


def cmd_notice(args: argparse.Namespace) -> int:
    from minutes.notice import build_notice
    from minutes.render import render_notice

    return _run(args, lambda minutes: render_notice(build_notice(minutes), args.format))


def add_parser(commands: Any) -> None:
    """Register `lianshen minutes ...` on the main command's subparsers."""
    group = commands.add_parser("minutes", help="render meeting minutes and the 一次性告知书",
                                description="Render the minutes of a meeting, or the applicant's notice.")
    sub = group.add_subparsers(dest="minutes_command", required=True, metavar="COMMAND")
    for name, func, formats, what in (
            ("render", cmd_render, FORMATS, "the minutes (纪要)"),
            ("notice", cmd_notice, NOTICE_FORMATS, "the 一次性告知书 of materials to supplement")):
        p = sub.add_parser(name, help=f"write {what} to a file", description=f"Write {what} to a file.")
        p.add_argument("meeting_id", type=int, metavar="MEETING_ID")
        p.add_argument("--format", required=True, choices=formats)
        p.add_argument("--out", required=True, metavar="FILE")
        p.add_argument("--data-dir", help="data directory")
        p.set_defaults(func=func)
