"""`lianshen bot` as a separate process against a real server."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest

from tests.world import PASSWORD

from .signaling_harness import LiveServer, issue_join_token, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(120)


async def run_bot(live: LiveServer, *args: str, stdin: str = "") -> tuple[int, dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "bot", "--url", live.url, "--meeting", str(live.world.meeting_x),
        "--json", *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 90)
    lines = out.decode().strip().splitlines()
    assert len(lines) == 1, (out.decode(), err.decode()[-2000:])
    return process.returncode or 0, json.loads(lines[0])


async def test_bot_command_joins_receives_and_reports(live: LiveServer) -> None:
    chair = await live.bot("chair")
    status, report = await run_bot(live, "--user", "rep_a", "--password-stdin", "--duration", "3",
                                   stdin=PASSWORD + "\n")
    assert status == 0 and report["joined"] is True
    sources = {(s["participant"], s["kind"]): s for s in report["sources"]}
    for kind in ("video", "audio"):
        source = sources[(chair.participant_id, kind)]
        assert source["frames"] > 30 and source["fps"] > 10 and source["decode_errors"] == 0
        assert source["name"] == "李主任"
    print(f"lianshen bot: join -> first decoded video {sources[(chair.participant_id, 'video')]['first_frame_s']} s")
    assert sources[(chair.participant_id, "video")]["first_frame_s"] < 1.0
    bot_id = report["participant_id"]
    assert chair.frames(bot_id, "video") > 30  # and the chair saw the bot's test pattern
    await chair.wait_event(lambda n, d: n == "participant_left" and d["participant_id"] == bot_id)


async def test_bot_command_with_a_join_token(live: LiveServer) -> None:
    token = await issue_join_token(live, {"guest_name": "凤庆县会商点", "guest_unit": "县政府"})
    status, report = await run_bot(live, "--token", token, "--duration", "1", "--publish", "audio")
    assert status == 0 and report["joined"] is True and report["sources"] == []


async def test_bot_command_exits_non_zero_when_it_cannot_join(live: LiveServer) -> None:
    status, report = await run_bot(live, "--user", "rep_a", "--password-stdin", "--duration", "1",
                                   stdin="wrong-password\n")
    assert status == 1
    assert report == {"joined": False, "error": {"code": "bad_credentials",
                                                 "message": "用户名或密码错误 / wrong username or password"}}
    status, report = await run_bot(live, "--user", "rep_other", "--password-stdin", stdin=PASSWORD + "\n")
    assert status == 1 and report["error"]["code"] == "lobby"
