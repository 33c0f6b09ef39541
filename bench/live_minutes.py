"""Minutes that are ready when the meeting ends: "end of meeting -> minutes finalised", with and
without confirmation in the room, and what one live rebuild of the draft costs.

Run by hand (about a minute):

    .venv/bin/python bench/live_minutes.py [--runs 3] [--departments 4] [--rebuilds 20] [--append]

What it does:
- Seeds the demo (server/demo, `lianshen demo`) into a temporary SQLite database, once; each run
  works on a fresh copy. The real app (server.app.build_app) listens on 127.0.0.1 in this process;
  the participants are real socket.io clients (server.bot.signaling.BotClient, no media) and the
  steps after the meeting go through the HTTP API, as the room and the minutes page do.
- The journey, on the demo's scheduled meeting (凤庆县雪山风电场项目…): the chair (chair_a) and the
  A posts of ``--departments`` member departments join; the chair starts the meeting and opens the
  first item; each department gives its opinion; in "in-room" mode each then reads the live draft
  (``minutes_preview``) and confirms its opinion (``opinion_confirm``); the chair closes the item.
  The clock starts when the chair ends the meeting (``meeting_end``, which drafts the minutes) and
  stops when the minutes are final: the chair sends them (``POST …/minutes/send``); in "after"
  mode every department then confirms through the API (``POST …/minutes/answers``); the chair
  finalises (``POST …/minutes/finalise``). Every API client signed in before the clock started
  (a sign-in is the person's, not the minutes' cost).
- What this measures is the system's part. The people's part is what the in-room confirmation
  removes: in "after" mode each department must come back to the minutes page after the meeting;
  the count of those answers is reported beside the times.
- Rebuild cost: build_minutes + the HTML renderer (server.signaling.live_minutes.build_preview) on
  the demo's ended meeting (~100 events), repeated ``--rebuilds`` times in a warm process; and the
  live draft's own figures from the journey (first draft, with the facts read from the database,
  and a rebuild after a new opinion).

The password hashing cost of the test suite is used (tests/conftest.py), so seeding takes seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.update({"LIANSHEN_AUTH_ARGON2_TIME_COST": "1", "LIANSHEN_AUTH_ARGON2_MEMORY_KIB": "64",
                   "LIANSHEN_AUTH_ARGON2_PARALLELISM": "1"})

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from server.app import build_app  # noqa: E402
from server.bot.signaling import BotClient, sign_in  # noqa: E402
from server.db.engine import create_engine, session_factory  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.demo import data  # noqa: E402
from server.demo.seed import seed_demo  # noqa: E402
from server.services.calendar import seed_calendar  # noqa: E402
from server.services.minutes_source import load_minutes_source  # noqa: E402
from server.settings import Settings, load_settings  # noqa: E402
from server.signaling.live_minutes import build_preview  # noqa: E402

ENDED = next(m for m in data.MEETINGS if m.status == "ended")
JOURNEY = next(m for m in data.MEETINGS if m.status == "scheduled")
CHAIR = JOURNEY.chair_username
PREFIX = {"FQ-FGJ": "fgj", "FQ-ZRJ": "zrj", "FQ-LCJ": "lcj", "FQ-SWJ": "swj", "FQ-JTJ": "jtj", "FQ-YJJ": "yjj"}
OPINIONS = ({"kind": "agree", "text": "同意项目核准"},
            {"kind": "conditional", "text": "原则同意", "conditions": ["开工前取得使用林地审核同意书"]},
            {"kind": "agree_in_principle", "text": "原则同意，按规定办理后续手续"},
            {"kind": "conditional", "text": "同意", "conditions": ["施工期落实水土保持措施"]},
            {"kind": "agree", "text": "无意见"}, {"kind": "agree", "text": "同意"})


def password(username: str) -> str:
    return f"Demo-2026!{username}"


@dataclass
class Run:
    mode: str
    end_s: float = 0.0
    """meeting_end answered (the draft made)."""
    send_s: float = 0.0
    answers_s: float = 0.0
    finalise_s: float = 0.0
    total_s: float = 0.0
    preconfirmed: int = 0
    answered_after: int = 0
    first_draft_ms: float = 0.0
    first_draft_build_ms: float = 0.0
    rebuild_ms: float = 0.0
    rebuild_build_ms: float = 0.0
    events: int = 0


@dataclass
class Http:
    base: str
    session: aiohttp.ClientSession
    csrf: str
    calls: list[float] = field(default_factory=list)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}) as response:
            if response.status not in (200, 201):
                raise RuntimeError(f"{path}: {response.status} {await response.text()}")
            return await response.json()


async def http_client(url: str, username: str) -> Http:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.post(f"{url}/api/v1/auth/login",
                            json={"username": username, "password": password(username)}) as login:
        if login.status != 200:
            raise RuntimeError(f"sign-in of {username}: {login.status}")
        csrf = (await login.json())["csrf_token"]
    return Http(f"{url}/api/v1", session, csrf)


async def ask(bot: BotClient, event: str, **payload: Any) -> dict[str, Any]:
    ack = await bot.sio.call(event, {"meeting_id": bot.meeting_id, **payload}, timeout=30)
    if not ack.get("ok"):
        raise RuntimeError(f"{event}: {ack}")
    return ack


def settings_for(work: Path, database: Path) -> Settings:
    return load_settings(data_dir=work / "data", database={"url": f"sqlite+aiosqlite:///{database}"})


async def seed(work: Path) -> tuple[Path, dict[str, int]]:
    """The demo in a template database; the ids of its two meetings by key."""
    template = work / "template.db"
    settings = settings_for(work, template)
    await asyncio.to_thread(upgrade, settings.database_url)  # alembic runs its own event loop
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as db:
            await seed_calendar(db)
            summary = await seed_demo(db, settings)
            await db.commit()
    finally:
        await engine.dispose()
    ids = {meeting.key: next(m["id"] for m in summary["meetings"] if m["title"] == meeting.title)
           for meeting in (ENDED, JOURNEY)}
    return template, ids


async def rebuild_cost(work: Path, template: Path, meeting_id: int, rebuilds: int) -> dict[str, Any]:
    """build_minutes + HTML of the demo's ended meeting, warm (the first call is reported apart)."""
    settings = settings_for(work, template)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as db:
            source = await load_minutes_source(db, meeting_id, settings)
    finally:
        await engine.dispose()
    cold = build_preview(source)[2]
    walls, cpus = [], []
    for _ in range(rebuilds):
        cpu = time.process_time()
        walls.append(build_preview(source)[2])
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return {"events": len(source.events), "cold_ms": cold, "median_ms": statistics.median(walls),
            "p95_ms": walls[max(0, round(0.95 * len(walls)) - 1)], "cpu_median_ms": statistics.median(cpus)}


async def journey(work: Path, template: Path, meeting_id: int, departments: list[str], mode: str,
                  n: int) -> Run:
    database = work / f"run-{n}-{mode}.db"
    shutil.copy(template, database)
    settings = settings_for(work, database)
    app = build_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = f"http://127.0.0.1:{server.port}"
    run = Run(mode)
    bots: list[BotClient] = []
    clients: list[Http] = []
    try:
        chair = BotClient(url, meeting_id, cookie=await sign_in(url, CHAIR, password(CHAIR)), name=CHAIR)
        bots.append(chair)
        await chair.connect()
        await chair.join()
        reps = []
        for code in departments:
            username = f"{PREFIX[code]}_a"
            bot = BotClient(url, meeting_id, cookie=await sign_in(url, username, password(username)), name=username)
            bots.append(bot)
            await bot.connect()
            await bot.join()
            reps.append((username, bot))
        await ask(chair, "meeting_start")
        item = chair.joined["review"]["items"][0]["id"]
        await ask(chair, "agenda_open", item_id=item)
        began = time.perf_counter()
        first = await ask(reps[0][1], "minutes_preview", format="html")
        run.first_draft_ms = (time.perf_counter() - began) * 1000
        run.first_draft_build_ms = first["build_ms"]
        opinions = []
        for (_username, bot), opinion in zip(reps, OPINIONS, strict=False):
            opinions.append(await ask(bot, "opinion_submit", item_id=item, **opinion))
        if mode == "in-room":
            await asyncio.sleep(2.1)  # past the rebuild interval: the next ask is a rebuild, not the last draft
            began = time.perf_counter()
            draft = await ask(reps[0][1], "minutes_preview", format="html")
            run.rebuild_ms = (time.perf_counter() - began) * 1000
            run.rebuild_build_ms = draft["build_ms"]
            run.events = draft["events"]
            for (_username, bot), given in zip(reps, opinions, strict=True):
                await ask(bot, "minutes_preview", format="html")  # each reads it (the shared draft)
                await ask(bot, "opinion_confirm", opinion_id=given["opinion_id"], revision=given["revision"])
        await ask(chair, "agenda_close", item_id=item, outcome="通过")
        chair_http = await http_client(url, CHAIR)
        clients.append(chair_http)
        rep_http = []
        if mode == "after":
            for username, _bot in reps:
                rep_http.append(await http_client(url, username))
            clients.extend(rep_http)

        start = time.perf_counter()
        await ask(chair, "meeting_end", note="会议审查1个事项：通过。")
        run.end_s = time.perf_counter() - start
        mark = time.perf_counter()
        sent = await chair_http.post(f"/meetings/{meeting_id}/minutes/send", {})
        run.send_s = time.perf_counter() - mark
        run.preconfirmed = sum(1 for a in sent["answers"] if a.get("verdict") == "confirm")
        mark = time.perf_counter()
        version = sent["current"]["version"]
        for client in rep_http:
            await client.post(f"/meetings/{meeting_id}/minutes/answers", {"verdict": "confirm", "version": version})
            run.answered_after += 1
        run.answers_s = time.perf_counter() - mark
        mark = time.perf_counter()
        final = await chair_http.post(f"/meetings/{meeting_id}/minutes/finalise", {"note": ""})
        run.finalise_s = time.perf_counter() - mark
        run.total_s = time.perf_counter() - start
        if final["current"]["status"] != "final":
            raise RuntimeError(f"not final: {final['current']['status']}")
    finally:
        for bot in bots:
            await bot.close()
        for client in clients:
            await client.session.close()
        await server.close()
    return run


def machine() -> str:
    load = os.getloadavg()
    import importlib.metadata as md

    return (f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Linux {platform.release()}, "
            f"Python {platform.python_version()}, python-socketio {md.version('python-socketio')}, "
            f"SQLite; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end")


def report(args: argparse.Namespace, cost: dict[str, Any], runs: list[Run], wall: float) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {now} — live draft and in-room confirmation: `python bench/live_minutes.py "
             f"--runs {args.runs} --departments {args.departments} --rebuilds {args.rebuilds}`", "",
             f"- Machine: {machine()}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB; "
             f"total wall time {wall:.0f} s.",
             "- In one process: the real app on 127.0.0.1 (SQLite, the demo seeded), socket.io bots without media "
             "for the room, the HTTP API for the minutes (as the minutes page). Times are wall clock.", "",
             f"One rebuild of the live draft (build_minutes + HTML renderer) on the demo's ended meeting "
             f"({cost['events']} events): median **{cost['median_ms']:.1f} ms** (p95 {cost['p95_ms']:.1f} ms, "
             f"CPU {cost['cpu_median_ms']:.1f} ms; first call of the process {cost['cold_ms']:.1f} ms), "
             f"{args.rebuilds} rebuilds.", ""]
    lines += ["| run | mode | meeting_end (draft made) s | send s | answers after the meeting | answers s | "
              "finalise s | **end → final s** | pre-confirmed at send | live draft: first ask ms (build ms) | "
              "rebuild ask ms (build ms) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for n, run in enumerate(runs, 1):
        rebuild = f"{run.rebuild_ms:.0f} ({run.rebuild_build_ms:.0f}), {run.events} events" if run.rebuild_ms else "–"
        lines.append(f"| {n} | {run.mode} | {run.end_s:.3f} | {run.send_s:.3f} | {run.answered_after} | "
                     f"{run.answers_s:.3f} | {run.finalise_s:.3f} | **{run.total_s:.3f}** | {run.preconfirmed} | "
                     f"{run.first_draft_ms:.0f} ({run.first_draft_build_ms:.0f}) | {rebuild} |")
    for mode in ("in-room", "after"):
        totals = [r.total_s for r in runs if r.mode == mode]
        if totals:
            lines.append(f"\n{mode}: end → final median {statistics.median(totals):.3f} s over {len(totals)} runs; "
                         f"departments still to answer after the meeting: "
                         f"{statistics.median([r.answered_after for r in runs if r.mode == mode]):.0f}.")
    return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="lianshen-live-minutes-"))
    try:
        template, ids = await seed(work)
        cost = await rebuild_cost(work, template, ids[ENDED.key], args.rebuilds)
        members = [i.department_code for i in JOURNEY.invitations
                   if i.capacity == "member" and i.department_code in PREFIX][:args.departments]
        runs = []
        for n in range(args.runs):
            for mode in ("in-room", "after"):
                run = await journey(work, template, ids[JOURNEY.key], members, mode, n)
                print(f"[{n + 1}/{args.runs}] {mode:<7} end → final {run.total_s:.3f} s "
                      f"(answers after the meeting: {run.answered_after}, pre-confirmed {run.preconfirmed})",
                      flush=True)
                runs.append(run)
        text = report(args, cost, runs, time.perf_counter() - began)
        print(text)
        if args.append:
            with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
                results.write("\n" + text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--departments", type=int, default=4, choices=range(1, 7))
    parser.add_argument("--rebuilds", type=int, default=20)
    parser.add_argument("--append", action="store_true", help="append the report to bench/RESULTS.md")
    asyncio.run(main(parser.parse_args()))
