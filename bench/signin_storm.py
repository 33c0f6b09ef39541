"""Sign-in storm benchmark: does a burst of password checks stall the rest of the server?

Run by hand (about 1 minute):

    .venv/bin/python bench/signin_storm.py                 # N = 12 and 40, results appended to RESULTS.md
    .venv/bin/python bench/signin_storm.py --storms 12,40,80 --no-media

What it does, and why:
- The real server (``python -m server serve``) on a temporary SQLite database holding tests/world.py's
  world, with the PRODUCTION argon2 cost (config/default.toml; the test suite's cheap cost is removed
  from the environment), because the question is what ~0.5 s of argon2 per sign-in does to everything
  else in the process.
- Unless --no-media: a meeting with one publishing bot and one receiving bot (bench/sfu_clients.py,
  the code of ``lianshen bot``), inside ``unshare -n`` with ICE on 127.0.0.1 only, so the received
  video frame rate during the storm shows whether forwarding stalls.
- Each storm: N concurrent wrong sign-ins (distinct usernames that do not exist, each from its own
  loopback address: each still costs a full argon2 verification of the dummy hash, and no
  per-account or per-address limit cuts the storm short), while
  /healthz is polled every 50 ms (a poll starts 50 ms after the previous one answered). Reported: the
  storm's duration, answers by status, /healthz latency (max, p95, how many polls answered before the
  last sign-in did), and the subscriber's video frame rate over the storm.
- ``--server-tree DIR`` runs the server (and the world's migrations) from another checkout, e.g. an
  export of the commit before a change (``git archive HEAD | tar -x -C DIR``), for a before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH_DIR))

import sfu  # noqa: E402  (bench/ is the script's directory)
from sfu_clients import BotSpec  # noqa: E402

NETNS_ENV = "LIANSHEN_BENCH_IN_NETNS"
COMMAND_ENV = "LIANSHEN_BENCH_COMMAND"
POLL_S = 0.05


@dataclass
class Storm:
    size: int
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    health_ms: list[float] = field(default_factory=list)
    health_during: int = 0
    health_failed: int = 0
    video_fps: float | None = None
    bot_connected: bool | None = None


async def _storm(url: str, size: int, run: int) -> Storm:
    import aiohttp

    result = Storm(size)
    done = asyncio.Event()

    async def poll(http: aiohttp.ClientSession) -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                async with http.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=30)) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            result.health_ms.append((time.perf_counter() - t0) * 1000)
            result.health_failed += not ok
            result.health_during += not done.is_set()
            try:
                await asyncio.wait_for(done.wait(), POLL_S)
            except TimeoutError:
                pass

    async def attempt(i: int) -> int:
        # Each sign-in from its own loopback address, so no per-address limit shortens the storm.
        source = (f"127.{run + 1}.{i // 250}.{i % 250 + 1}", 0)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=source)) as http, \
                http.post(f"{url}/api/v1/auth/login",
                          json={"username": f"storm-{run}-{i}", "password": "not-the-password"},
                          timeout=aiohttp.ClientTimeout(total=120)) as response:
            await response.read()
            return response.status

    async with aiohttp.ClientSession() as health:
        poller = asyncio.create_task(poll(health))
        t0 = time.perf_counter()
        statuses = await asyncio.gather(*(attempt(i) for i in range(size)), return_exceptions=True)
        result.seconds = time.perf_counter() - t0
        done.set()
        await poller
    for status in statuses:
        key = status if isinstance(status, int) else -1
        result.statuses[key] = result.statuses.get(key, 0) + 1
    return result


def _fps(start: dict[str, Any], end: dict[str, Any]) -> float | None:
    """Frames per second the receiving bot got of the publisher's video between two marks."""
    a, b = start.get("b1"), end.get("b1")
    if not a or not b:
        return None
    frames = [b["sources"][s][0] - a["sources"].get(s, [0, 0])[0] for s in b["sources"] if s.endswith(":video")]
    return sum(frames) / (b["at"] - a["at"]) if frames else 0.0


def _server_env(world: sfu.World) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANSHEN_AUTH_ARGON2_")}
    env.update({
        "LIANSHEN_DATA_DIR": str(world.workdir / "data"),
        "LIANSHEN_DATABASE_URL": world.database_url,
        "LIANSHEN_SFU_ICE_GATHER_ADDRESSES": '["127.0.0.1"]',
        "LIANSHEN_SFU_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "LIANSHEN_SFU_DENIED_NETWORKS": '["169.254.0.0/16", "224.0.0.0/4", "0.0.0.0/8"]',
    })
    return env


def _build_world(tree: Path, workdir: Path) -> sfu.World:
    """tests/world.py's world, migrated and seeded by the server tree under test (its own schema)."""
    script = ("import sys, json; sys.path.insert(0, 'bench'); import sfu; from pathlib import Path; "
              f"w = sfu.build_world(Path({str(workdir)!r})); "
              "print(json.dumps([w.database_url, w.meeting_id, w.chair_id]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANSHEN_AUTH_ARGON2_")}
    out = subprocess.run([sys.executable, "-c", script], cwd=tree, env=env, check=True, capture_output=True,
                         text=True).stdout
    import json

    url, meeting_id, chair_id = json.loads(out.strip().splitlines()[-1])
    return sfu.World(workdir, url, meeting_id, chair_id)


def run(args: argparse.Namespace) -> tuple[list[Storm], str]:
    tree = args.server_tree.resolve()
    workdir = Path(tempfile.mkdtemp(prefix="lianshen-storm-"))
    server = workers = None
    try:
        world = _build_world(tree, workdir)
        port = sfu.free_port()
        url = f"http://127.0.0.1:{port}"
        log = (workdir / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port",
                                   str(port), "--data-dir", str(workdir / "data")],
                                  cwd=tree, env=_server_env(world), stdout=log, stderr=subprocess.STDOUT)
        sfu.wait_listening(server, port, 60)
        if args.media:
            tokens = sfu.issue_tokens(world, 2, "storm")
            specs = [BotSpec("b0", tokens[0], True, 0), BotSpec("b1", tokens[1], False, 2)]
            workers = sfu.Workers(url, world.meeting_id, specs, 1)
            workers.recv(0, "ready", 120)
            workers.ask([0], ("join", ["b0", "b1"]), "joined", 90)
            missing = workers.ask([0], ("await_media", 30), "media", 60)
            if missing:
                raise RuntimeError(f"bots never received media: {missing}")
            time.sleep(2)  # let the join's keyframes and negotiation settle before measuring
        storms = []
        for index, size in enumerate(args.storms):
            start = workers.ask([0], ("mark",), "marked", 30) if workers else {}
            storm = asyncio.run(_storm(url, size, index))
            if workers:
                storm.video_fps = _fps(start, workers.ask([0], ("mark",), "marked", 30))
            storms.append(storm)
            print(_row(storm), flush=True)
        if workers:
            workers.ask([0], ("finish",), "finished", 60)
        return storms, (workdir / "server.log").read_text(errors="replace")[-2000:]
    finally:
        if workers is not None:
            workers.close()
        if server is not None:
            sfu.stop_process(server)
        shutil.rmtree(workdir, ignore_errors=True)


def _row(storm: Storm) -> str:
    ms = sorted(storm.health_ms)
    p95 = ms[max(0, int(len(ms) * 0.95 + 0.5) - 1)] if ms else float("nan")
    statuses = ", ".join(f"{k}×{v}" for k, v in sorted(storm.statuses.items()))
    fps = "—" if storm.video_fps is None else f"{storm.video_fps:.1f}"
    return (f"| {storm.size} | {storm.seconds:.2f} | {statuses} | {max(ms, default=float('nan')):.0f} | {p95:.0f} "
            f"| {storm.health_during} | {storm.health_failed} | {fps} |")


HEADER = ["| N sign-ins | storm s | answers | /healthz max ms | /healthz p95 ms | polls answered during storm "
          "| polls failed | receiver video fps during storm |",
          "|---:|---:|---|---:|---:|---:|---:|---:|"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/signin_storm.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--storms", default="12,40", help="comma-separated storm sizes (default 12,40)")
    parser.add_argument("--no-media", dest="media", action="store_false",
                        help="no meeting bots (then no namespace is needed)")
    parser.add_argument("--server-tree", type=Path, default=REPO,
                        help="checkout to run the server from (default: this one)")
    parser.add_argument("--label", default="", help="a note for the results, e.g. 'before' or 'after'")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to --results")
    args = parser.parse_args(argv)
    args.storms = [int(part) for part in args.storms.split(",") if part.strip()]
    return args


def reexec_in_netns(argv: list[str]) -> None:
    """Re-run in a network namespace with only loopback (media bots gather ICE on 127.0.0.1)."""
    if os.environ.get(NETNS_ENV) or shutil.which("unshare") is None:
        return
    env = dict(os.environ, **{NETNS_ENV: "1",
                              COMMAND_ENV: shlex.join(["python", "bench/signin_storm.py", *argv])})
    script = 'ip link set lo up && exec "$@"'
    os.execvpe("unshare", ["unshare", "-n", "sh", "-c", script, "sh", sys.executable, __file__, *argv], env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.media:
        reexec_in_netns(argv)
    started = datetime.datetime.now().astimezone()
    info = sfu.machine()
    print("\n".join(HEADER), flush=True)
    storms, _log = run(args)
    command = os.environ.get(COMMAND_ENV, shlex.join(["python", "bench/signin_storm.py", *argv]))
    text = "\n".join([
        f"### {started:%Y-%m-%d %H:%M %Z} — sign-in storm{' (' + args.label + ')' if args.label else ''} — `{command}`",
        "",
        f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
        f"Python {info['python']}; load average at the end {Path('/proc/loadavg').read_text().split()[0]}.",
        f"- Server tree: `{args.server_tree}`; production argon2 cost (config/default.toml); "
        f"media bots: {'1 publisher + 1 receiver in meeting_x, netns' if args.media else 'none'}.",
        "", *HEADER, *(_row(s) for s in storms), ""])
    if not args.no_record:
        existing = args.results.read_text() if args.results.exists() else "# Benchmark results\n\n"
        args.results.write_text(existing.rstrip("\n") + "\n\n" + text)
    print()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
