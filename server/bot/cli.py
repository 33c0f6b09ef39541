"""`lianshen bot`: a synthetic participant for tests, load and operations.

Signs in (or uses a join token), joins, publishes a moving test pattern (with ``--simulcast`` as
three layers, as a browser's camera) and a tone from clips encoded once at start, receives everyone,
and after ``--duration`` seconds (or, with ``--frames N``, once every source present at the join has
given N decoded frames) prints one JSON object with what it
received per remote source. Exit status 0 when it joined, 1 when it could not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any

KINDS = ("video", "audio", "screen")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="server URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--meeting", required=True, type=int, help="meeting id")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="account to sign in as (password read from stdin)")
    who.add_argument("--token", help="a join token issued by the meeting's chair")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to stay (default 10)")
    parser.add_argument("--frames", type=int, default=0,
                        help="leave as soon as every source present at the join has given this many decoded "
                             "frames; --duration is then the most it stays (default 0: stay --duration)")
    parser.add_argument("--publish", default="video,audio",
                        help="what to publish: comma-separated video,audio,screen; empty for nothing")
    parser.add_argument("--simulcast", action="store_true",
                        help="publish the camera as three simulcast layers (180p, 360p, 540p), as a browser does")
    parser.add_argument("--name", default="bot", help="a label for logs")
    parser.add_argument("--json", action="store_true", help="print only the JSON summary")


def _kinds(text: str, simulcast: bool = False) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"--publish: unknown kinds {sorted(unknown)} (use {', '.join(KINDS)})")
    if simulcast and "video" not in kinds:
        raise ValueError("--simulcast sends the camera in layers: --publish must include video")
    return kinds


async def _run(args: argparse.Namespace, password: str | None) -> dict[str, Any]:
    from server.bot.media import audio_clip, video_clip
    from server.bot.signaling import BotClient, sign_in
    from server.bot.simulcast import simulcast_clips

    video_clip(), audio_clip()  # encode the clips now, before joining, never per frame
    if args.simulcast:
        simulcast_clips()
    cookie = await sign_in(args.url, args.user, password or "") if args.user else None
    bot = BotClient(args.url, args.meeting, cookie=cookie, token=args.token, name=args.name)
    try:
        await bot.connect()
        await bot.join()
        if bot.joined.get("status") != "joined":
            return {"joined": False, "error": {"code": "lobby", "message": "waiting in the lobby"}}
        kinds = _kinds(args.publish, args.simulcast)
        if kinds:
            await bot.publish(kinds, simulcast=args.simulcast)
        if args.frames > 0:  # as soon as it has seen enough (on a busy machine that takes longer)
            sources = [(p["participant_id"], p["kind"]) for p in bot.joined.get("producers", [])]
            with contextlib.suppress(TimeoutError):  # the report says how many came
                await bot.wait_frames(lambda b: all(b.frames(*source) >= args.frames for source in sources),
                                      args.duration)
        else:
            await asyncio.sleep(args.duration)  # the bot's job is to stay this long
        return bot.report()
    finally:
        await bot.close()


def run(args: argparse.Namespace) -> int:
    from server.bot.signaling import BotError

    if args.user and not args.password_stdin:
        print("--user needs --password-stdin (passwords are never taken from the command line)",
              file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n") if args.user else None
    try:
        _kinds(args.publish, args.simulcast)
        result = asyncio.run(_run(args, password))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (BotError, OSError, TimeoutError) as exc:
        code = exc.code if isinstance(exc, BotError) else type(exc).__name__
        message = exc.message if isinstance(exc, BotError) else str(exc)
        result = {"joined": False, "error": {"code": code, "message": message}}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("joined") else 1
