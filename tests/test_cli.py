"""The `lianshen` command through its real entry point: help, db upgrade, user add, demo."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.cli import build_parser
from server.db.engine import create_engine, session_factory
from server.db.models import (
    ApprovalItem,
    CalendarYear,
    InvestmentCase,
    Meeting,
    MeetingEvent,
    MinutesDocument,
    MinutesVersion,
    User,
)
from server.services.eventlog import verify_meeting_log

COMMANDS = [["serve"], ["demo"], ["db"], ["db", "upgrade"], ["user"], ["user", "add"], ["bot"], ["cert"],
            ["minutes"], ["minutes", "render"], ["minutes", "notice"],
            ["archive"], ["archive", "verify"], ["archive", "export"], ["archive", "verify-bag"],
            ["archive", "reindex"],
            ["recording"], ["recording", "list"], ["recording", "compose"], ["recording", "verify"],
            ["backup"], ["backup", "verify"], ["restore"], ["node"], ["node", "status"]]


def run(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIANSHEN_DATA_DIR": str(data_dir)}
    env.pop("LIANSHEN_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "server", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_has_help(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*words, "--help"])
    assert exit_info.value.code == 0
    assert "usage: lianshen" in capsys.readouterr().out


def _registered(parser: argparse.ArgumentParser, words: list[str]) -> list[list[str]]:
    """Every command and sub-command the parser knows, as the words that name it."""
    found = []
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [[*words, name], *_registered(sub, [*words, name])]
    return found


def test_commands_lists_every_registered_command() -> None:
    """A command added to the parser without being added to COMMANDS would escape the help test."""
    assert sorted(_registered(build_parser(), [])) == sorted(COMMANDS)


def test_user_add_reads_password_from_stdin(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    created = run(["user", "add", "dang_an", "--role", "archivist", "--name", "档案员",
                   "--password-stdin"], tmp_path, stdin="Archive-2026-pass\n")
    assert created.returncode == 0, created.stderr
    duplicate = run(["user", "add", "dang_an", "--role", "archivist", "--password-stdin"], tmp_path,
                    stdin="Archive-2026-pass\n")
    assert duplicate.returncode == 1 and "username" in duplicate.stderr
    no_dept = run(["user", "add", "rep", "--role", "chief_rep", "--password-stdin"], tmp_path,
                  stdin="Archive-2026-pass\n")
    assert no_dept.returncode == 1 and "department" in no_dept.stderr
    short = run(["user", "add", "x1", "--role", "admin", "--password-stdin"], tmp_path, stdin="short\n")
    assert short.returncode == 1 and "password" in short.stderr


def test_bad_setting_stops_with_message(tmp_path: Path) -> None:
    env_run = subprocess.run([sys.executable, "-m", "server", "db", "upgrade"], capture_output=True, text=True,
                             env={**os.environ, "LIANSHEN_DATA_DIR": str(tmp_path),
                                  "LIANSHEN_SERVER_PORT": "not-a-port"}, timeout=60)
    assert env_run.returncode == 2
    assert "server.port" in env_run.stderr


def test_serve_refuses_unmigrated_database(tmp_path: Path) -> None:
    result = run(["serve", "--port", "0"], tmp_path)
    assert result.returncode == 2 and "lianshen db upgrade" in result.stderr


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            counts = {model.__tablename__: await db.scalar(select(func.count()).select_from(model))
                      for model in (User, InvestmentCase, ApprovalItem, Meeting, MeetingEvent, CalendarYear,
                                    MinutesDocument, MinutesVersion)}
            ended = await db.scalar(select(Meeting.id).where(Meeting.status == "minutes_draft"))
            counts["problems"] = len(await verify_meeting_log(db, ended))
            return counts
    finally:
        await engine.dispose()


async def test_demo_is_idempotent_and_writes_demo_json(tmp_path: Path) -> None:
    first = run(["demo", "--no-serve"], tmp_path)
    assert first.returncode == 0, first.stderr
    url = f"sqlite+aiosqlite:///{tmp_path / 'lianshen.db'}"
    before = await _counts(url)
    second = run(["demo", "--no-serve"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert await _counts(url) == before
    assert before["problems"] == 0
    assert before["cases"] >= 4 and before["meetings"] >= 2 and before["meeting_events"] > 50
    assert before["minutes_documents"] == before["minutes_versions"] == 1  # the ended meeting's draft

    demo = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    roles = {account["role"] for account in demo["accounts"]}
    assert roles == {"admin", "chair", "chief_rep", "applicant", "agent", "archivist"}
    assert all({"username", "password", "role", "department"} <= set(a) for a in demo["accounts"])
    statuses = {meeting["status"] for meeting in demo["meetings"]}
    assert {"scheduled", "minutes_draft"} <= statuses  # the ended meeting's minutes await the chair
    drafted = [m for m in demo["meetings"] if m["status"] == "minutes_draft"]
    # numbered in the year the meeting is held, which moves with the day the demo is loaded
    assert [m["minutes_number"] for m in drafted] == [f"凤联审纪〔{drafted[0]['scheduled_start'][:4]}〕1号"]
    assert all(meeting["cases"] and meeting["id"] and meeting["title"] for meeting in demo["meetings"])
    assert "URL: http://127.0.0.1:8080/" in first.stdout


def test_node_status_on_a_single_node_says_there_is_no_cluster(tmp_path: Path) -> None:
    env = {**os.environ, "LIANSHEN_DATA_DIR": str(tmp_path)}
    env.pop("LIANSHEN_NODE_REDIS_URL", None)
    single = subprocess.run([sys.executable, "-m", "server", "node", "status"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert single.returncode == 2
    assert "no Redis is configured" in single.stderr and "单节点" in single.stderr
