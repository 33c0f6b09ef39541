"""`lianshen bot` as a separate process against a real server."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest

from tests.world import PASSWORD

from .signaling_harness import FRAMES, LiveServer, issue_join_token, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(300)
WAIT_S = 90.0  # generous: the bot's own limit and the test's waits, on a loaded two-core machine


async def run_bot(live: LiveServer, *args: str, stdin: str = "") -> tuple[int, dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "bot", "--url", live.url, "--meeting", str(live.world.meeting_x),
        "--json", *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), WAIT_S + 60)
    lines = out.decode().strip().splitlines()
    assert len(lines) == 1, (out.decode(), err.decode()[-2000:])
    return process.returncode or 0, json.loads(lines[0])


async def test_bot_command_joins_receives_and_reports(live: LiveServer) -> None:
    """The bot stays until it has decoded FRAMES frames of each of the chair's sources (generous
    limits: how soon that is depends on the machine's load, not on the bot's correctness)."""
    chair = await live.bot("chair")
    rep_a = live.world.user_ids["rep_a"]
    run = asyncio.create_task(run_bot(live, "--user", "rep_a", "--password-stdin", "--duration", str(WAIT_S),
                                      "--frames", str(FRAMES), stdin=PASSWORD + "\n"))
    _, joined = await chair.wait_event(
        lambda n, d: n == "participant_joined" and d["participant"]["user_id"] == rep_a, WAIT_S)
    bot_id = joined["participant"]["id"]
    await chair.wait_frames(lambda b: b.frames(bot_id, "video") > 0, WAIT_S)  # the chair sees the bot's pattern
    status, report = await run
    assert status == 0 and report["joined"] is True and report["participant_id"] == bot_id
    sources = {(s["participant"], s["kind"]): s for s in report["sources"]}
    for kind in ("video", "audio"):
        source = sources[(chair.participant_id, kind)]
        assert source["frames"] >= FRAMES and source["fps"] > 0 and source["decode_errors"] == 0, source
        assert source["name"] == "李主任"
    first_frame = sources[(chair.participant_id, "video")]["first_frame_s"]
    print(f"lianshen bot: join -> first decoded video {first_frame} s")  # measured by bench/, not asserted
    assert first_frame is not None and 0 < first_frame < WAIT_S
    await chair.wait_event(lambda n, d: n == "participant_left" and d["participant_id"] == bot_id, WAIT_S)


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


async def test_bot_command_publishes_its_camera_as_simulcast_layers(live: LiveServer) -> None:
    chair = await live.bot("chair", publish=("audio",))
    rep_a = live.world.user_ids["rep_a"]
    # it stays 20 s after publishing (the chair sends no video for --frames to wait on)
    run = asyncio.create_task(run_bot(live, "--user", "rep_a", "--password-stdin", "--duration", "20",
                                      "--publish", "video", "--simulcast", stdin=PASSWORD + "\n"))
    _, joined = await chair.wait_event(
        lambda n, d: n == "participant_joined" and d["participant"]["user_id"] == rep_a, WAIT_S)
    bot_id = joined["participant"]["id"]
    await chair.wait_frames(lambda b: b.frames(bot_id, "video") >= FRAMES, WAIT_S)
    room = live.signaling.meetings[live.world.meeting_x].room
    (camera,) = [room.producer(p.id) for p in room.producers() if p.peer_id == bot_id and p.kind == "video"]
    assert camera is not None and [layer.rid for layer in camera.layers] == ["q", "h", "f"]
    assert camera.live_layers() == 3
    assert chair.participant is not None and chair.participant.receiver.stats[f"{bot_id}:video"].decode_errors == 0
    status, report = await run
    assert status == 0 and report["joined"] is True


async def test_bot_command_refuses_simulcast_without_a_camera(live: LiveServer) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "bot", "--url", live.url, "--meeting", str(live.world.meeting_x),
        "--token", "unused", "--publish", "audio", "--simulcast",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), WAIT_S)
    assert process.returncode == 2 and out == b""
    assert "--simulcast" in err.decode() and "video" in err.decode()
