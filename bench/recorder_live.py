"""Recording benchmark (live path): the server's CPU with and without recording N published tracks.

Run by hand (about 2 minutes):

    .venv/bin/python bench/recorder_live.py                  # 4 publishers (8 tracks), 3 rounds of 15 s
    .venv/bin/python bench/recorder_live.py --publishers 6 --window 20 --rounds 2

The real server (``python -m server serve``, as bench/sfu.py starts it: temporary SQLite database
with tests/world.py's world, ICE on 127.0.0.1, inside ``unshare -n``) hosts one meeting: the chair
(signed in, publishing nothing) and N guest bots joined with join tokens, each publishing the bot's
640x360 30 fps VP8 camera and its Opus microphone; everyone receives everyone. After every source
has reached the chair, rounds alternate a window without recording and one while the chair records
(the recording is started before its window and stopped after it, so only steady recording is
measured). Server CPU is utime+stime of the server process (all threads) from /proc over each
window. The cost per recorded track is (median recording CPU - median idle CPU) / (2 N). Every
recording is then verified (hashes, complete decoding, timeline) with recorder.verify.

Results are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH_DIR))

import sfu  # noqa: E402  (bench/sfu.py: world, tokens, server process, /proc readings)

NETNS_ENV = "LIANSHEN_BENCH_IN_NETNS"
TARGET_PCT_PER_TRACK = 2.0


def reexec_in_netns(argv: list[str]) -> None:
    if os.environ.get(NETNS_ENV) or shutil.which("unshare") is None:
        return
    env = dict(os.environ, **{NETNS_ENV: "1"})
    script = 'ip link set lo up && exec "$@"'
    os.execvpe("unshare", ["unshare", "-n", "sh", "-c", script, "sh", sys.executable, __file__, *argv], env)


def cpu_pct(pid: int, seconds: float) -> float:
    """The process's CPU over the next ``seconds``, in % of one core."""
    before, start = sfu.process_ticks(pid), time.monotonic()
    time.sleep(seconds)
    return (sfu.process_ticks(pid) - before) / sfu.CLK_TCK / (time.monotonic() - start) * 100


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    from recorder.verify import verify
    from server.bot.media import audio_clip, video_clip
    from server.bot.signaling import BotClient, sign_in
    from tests.world import PASSWORD

    await asyncio.to_thread(lambda: (video_clip(), audio_clip()))
    world = await asyncio.to_thread(sfu.build_world, workdir)
    tokens = await asyncio.to_thread(sfu.issue_tokens, world, args.publishers, "rec")
    port = sfu.free_port()
    server = sfu.start_server("passthrough", world, port, workdir / "server.log")
    url = f"http://127.0.0.1:{port}"
    bots: list[BotClient] = []
    try:
        await asyncio.to_thread(sfu.wait_listening, server, port, 60)
        chair = BotClient(url, world.meeting_id, cookie=await sign_in(url, "chair", PASSWORD), name="chair")
        bots.append(chair)
        await chair.connect()
        await chair.join()
        for token in tokens:
            bot = BotClient(url, world.meeting_id, token=token, name="guest")
            bots.append(bot)
            await bot.connect()
            await bot.join()
            await bot.publish()
        ids = [bot.participant_id for bot in bots[1:]]
        await chair.wait_frames(lambda b: all(b.frames(i, "video") >= 30 for i in ids), 120)
        await asyncio.sleep(args.warmup)  # settle after the joins (not a synchronisation)
        idle, recording, keys = [], [], []
        for _ in range(args.rounds):
            idle.append(await asyncio.to_thread(cpu_pct, server.pid, args.window))
            ack = await chair.call("recording_start", {"meeting_id": world.meeting_id})
            keys.append(ack["recording_key"])
            await asyncio.sleep(2)  # first key frames and file headers are not the steady state
            recording.append(await asyncio.to_thread(cpu_pct, server.pid, args.window))
            await chair.call("recording_stop", {"meeting_id": world.meeting_id})
        reports = [verify(workdir / "data" / "recordings" / str(world.meeting_id) / key) for key in keys]
        load = os.getloadavg()[0]
    finally:
        for bot in bots:
            await bot.close()
        sfu.stop_process(server)
    tracks = 2 * args.publishers
    return {"idle": idle, "recording": recording, "tracks": tracks, "load": load,
            "per_track": (statistics.median(recording) - statistics.median(idle)) / tracks,
            "verified": all(r.ok for r in reports), "files": sum(len(r.tracks) for r in reports),
            "bytes": sum(t.entry.size_bytes for r in reports for t in r.tracks)}


def write_results(path: Path, argv: list[str], args: argparse.Namespace, result: dict[str, object]) -> str:
    idle, recording = result["idle"], result["recording"]
    assert isinstance(idle, list) and isinstance(recording, list)
    per_track = float(result["per_track"])  # type: ignore[arg-type]
    verdict = "PASS" if per_track < TARGET_PCT_PER_TRACK else "FAIL"
    machine = sfu.machine()
    lines = [
        "", f"## Recording (live path) — 2026-11-29 — `{shlex.join(['python', 'bench/recorder_live.py', *argv])}`",
        "",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), Linux {machine['kernel']}, "
        f"Python {machine['python']}; "
        "**shared machine**: other helpers ran test suites and benchmarks at the same time (noisy: "
        f"compare the two columns of the same run; load average 1 min at the end: {result['load']:.1f}).",
        f"- Meeting: chair + {args.publishers} publishers (640x360 30 fps VP8 + Opus each, everyone receives "
        f"everyone), {result['tracks']} recorded tracks; {args.rounds} rounds of {args.window:.0f} s "
        "without / with recording; server CPU = utime+stime of the server process.",
        "",
        "| round | server CPU idle (% of a core) | server CPU recording | difference |",
        "|---|---:|---:|---:|",
        *[f"| {i + 1} | {a:.1f} | {b:.1f} | {b - a:+.1f} |" for i, (a, b) in enumerate(zip(idle, recording))],
        f"| median | {statistics.median(idle):.1f} | {statistics.median(recording):.1f} | "
        f"{statistics.median(recording) - statistics.median(idle):+.1f} |",
        "",
        f"Per recorded track: **{per_track:.2f} % of a core** (target < {TARGET_PCT_PER_TRACK:.0f} %): "
        f"**{verdict}**. Files: {result['files']} ({int(result['bytes']) / 2**20:.1f} MiB), all verified "  # type: ignore[call-overload]
        f"(SHA-256, complete decoding, timeline): {'yes' if result['verified'] else 'NO'}.",
    ]
    with path.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return "\n".join(lines)


def main() -> int:
    argv = sys.argv[1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--window", type=float, default=15.0, help="seconds per measurement window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args(argv)
    reexec_in_netns(argv)
    with tempfile.TemporaryDirectory(prefix="lianshen-rec-bench-") as workdir:
        result = asyncio.run(run(args, Path(workdir)))
    print(write_results(args.results, argv, args, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
