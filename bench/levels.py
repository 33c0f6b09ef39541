"""The three-level meeting benchmark (issue 16): one meeting across a province, a city and a county
node, each level's participants on their own node, the nodes joined by rate-capped lines.

Run as real root (network namespaces, veth, tc):

    .venv/bin/python bench/levels.py                      # 3, 10 and 30 participants per level
    .venv/bin/python bench/levels.py --sizes 3,10 --window 20 --nice -10

What runs (bench/netns.py ``Levels``, bench/levels_services.py): three network namespaces joined
by veth pairs through the province's (each end ``tbf rate 20mbit``); Redis and PostgreSQL in the
county's; one `lianshen serve` node per level, configured as config/cluster/ describes. For each
size N, a fresh meeting chaired from the province: the chair joins first (the province becomes
the meeting's home), then the city's and the county's first participants, then everyone else, each
served by their own level's node (join tokens made out to their accounts: their department's level
routes them, bench/levels_world.py). The media cascade carries each stream across each line once.

Who publishes: the first participant of each level sends camera and microphone (640x360 VP8 ~600
kbit/s at 30 fps, Opus), the others only receive. That is the meeting as held (the chair, the city's
and the county's site speak; the departments listen), and it is what a 2-core machine can carry for
90 participants next to three nodes: 90 publishers would be 90×89 streams. Every participant
receives all three publishers (the publishers the two others).

Receivers are bench/sfu_clients.py's bots in worker processes, one level's bots per process and
that process in the level's namespace (bench/levels_clients.py). Each decodes its first 90 frames
of each source (first picture, decode check), then counts packets and frames straight off the
socket without decoding (bench/sfu_light.py) and stamps them (bench/levels_clients.py).

Measured over a window after every receiver has decoded every source and a warm-up:
- bytes on each inter-level veth (counters of its lower end), against one copy of each stream
  that must cross it (its payload rate as a receiver on the far side got it): the ratio;
- end-to-end latency, publisher send → remote subscriber's socket, from the publisher's own
  sender reports passed through the cascade (bench/levels_clients.py explains why it is exact),
  grouped by lines crossed (0: same node, 1: province↔city/county, 2: city↔county);
- CPU per node: utime+stime of its process over the window, % of one core; the bots' too;
- join: join request (socket opened) → first decoded frame of each remote publisher's video
  (from the later of the request and that publisher's publish), p50/p95;
- video frames/s received per stream, and loss: frames received against frames the publisher
  sent in its own window, video and audio.

Progress on the console; one JSON line per size at the end; a dated section appended to
bench/RESULTS.md. Namespaces and every process are removed on exit, on an error and on Ctrl-C or
SIGTERM (``Levels.close`` ends whatever is left in them).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import multiprocessing
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import sfu  # noqa: E402  (bench/ is the script's directory: its process and report helpers)
from levels_clients import level_worker_main  # noqa: E402
from levels_services import TOKEN_SECRET, Services, missing_tools  # noqa: E402
from levels_world import LEVELS, Seat, issue_tokens, seats, seed  # noqa: E402
from netns import Levels, can_create_namespaces  # noqa: E402
from sfu_clients import BotSpec  # noqa: E402

Counters = tuple[tuple[int, int], tuple[int, int]]
"""A wire's (down, up) bytes: everything on the veth, and the UDP alone (bench/netns.py)."""
HOPS = {0: "same node", 1: "1 line", 2: "2 lines"}


def hops(publisher_level: str, subscriber_level: str) -> int:
    """Lines a stream crosses: the links form a star around the province (the meeting's home)."""
    if publisher_level == subscriber_level:
        return 0
    return 1 if "province" in (publisher_level, subscriber_level) else 2


class LevelWorkers(sfu.Workers):
    """bench/sfu.py's worker processes, each holding bots of one level and living in its namespace."""

    def __init__(self, levels: Levels, urls: dict[str, str], meeting_id: int, by_level: dict[str, list[BotSpec]],
                 per_level: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.groups = []
        self.pipes = []
        self.procs = []
        for level, specs in by_level.items():
            count = max(1, min(per_level, len(specs)))
            for group in (specs[i::count] for i in range(count)):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=level_worker_main,
                                   args=(levels.ns[level], child, urls[level], meeting_id, group), daemon=True)
                proc.start()
                child.close()
                self.groups.append(group)
                self.pipes.append(parent)
                self.procs.append(proc)


@dataclass
class Round:
    """What one size measured."""

    size: int
    window_s: float = 0.0
    cpu_pct: dict[str, float] = field(default_factory=dict)
    forwarded: dict[str, int] = field(default_factory=dict)
    """Video streams each node sends (to its participants and into links)."""
    wires: dict[str, dict[str, float]] = field(default_factory=dict)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    join_s: dict[str, list[float]] = field(default_factory=dict)
    """Join → first decoded frame of each remote publisher's video, by lines crossed."""
    join_missing: int = 0
    not_started: int = 0
    video_fps: list[float] = field(default_factory=list)
    lost_pct: dict[str, float] = field(default_factory=dict)
    decode_errors: int = 0
    machine_busy_pct: float = math.nan
    loadavg: str = ""
    home: str | None = None
    error: str = ""

    @property
    def joins(self) -> list[float]:
        return [t for values in self.join_s.values() for t in values]

    def summary(self) -> dict[str, Any]:
        def spread(values: list[float], digits: int) -> dict[str, Any]:
            return {"p50": round(sfu.percentile(values, 50), digits), "p95": round(sfu.percentile(values, 95), digits),
                    "max": round(max(values), digits), "n": len(values)} if values else {"n": 0}

        return {"per_level": self.size, "participants": 3 * self.size, "publishers": 3, "error": self.error or None,
                "window_s": round(self.window_s, 1), "home": self.home,
                "cpu_pct_of_a_core": {k: round(v, 1) for k, v in self.cpu_pct.items()},
                "video_streams_forwarded": self.forwarded,
                "wires": {level: {k: _number(v, 2) for k, v in wire.items()} for level, wire in self.wires.items()},
                "latency_ms": {name: spread(values, 1) for name, values in self.latency_ms.items()},
                "join_to_first_frame_s": {**spread(self.joins, 2), "missing": self.join_missing,
                                          **{name: spread(values, 2) for name, values in self.join_s.items()}},
                "video_fps": {"median": round(statistics.median(self.video_fps), 1) if self.video_fps else None,
                              "min": round(min(self.video_fps), 1) if self.video_fps else None},
                "lost_pct": {k: _number(v, 2) for k, v in self.lost_pct.items()},
                "decode_errors": self.decode_errors, "sources_not_started": self.not_started,
                "machine_busy_pct": _number(self.machine_busy_pct, 0), "loadavg": self.loadavg}


def _number(value: float, digits: int) -> float | None:
    """Rounded, or None for NaN (a JSON line has no NaN)."""
    return None if math.isnan(value) else round(value, digits)


def say(text: str) -> None:
    print(f"{datetime.datetime.now(datetime.UTC):%H:%M:%S} {text}", flush=True)


def run_round(size: int, services: Services, world: Any, args: argparse.Namespace) -> Round:
    result = Round(size)
    chosen = seats(size)
    issue_tokens(services.database_url, TOKEN_SECRET.encode(), world, size, chosen)
    by_level: dict[str, list[BotSpec]] = {level: [] for level in LEVELS}
    for seat in chosen:  # every publisher but oneself, video and audio
        by_level[seat.level].append(BotSpec(seat.name, seat.token, seat.publish, 2 * (3 - seat.publish)))
    seat_of = {seat.name: seat for seat in chosen}
    meeting_id = world.meetings[size]
    urls = {level: node.url for level, node in services.nodes.items()}
    per_level = args.workers_per_level or max(1, math.ceil(size / 15))
    workers = LevelWorkers(services.levels, urls, meeting_id, by_level, per_level)
    step = "starting the bots' processes"
    try:  # from here on the worker processes exist and are ended below
        for index in range(len(workers.groups)):
            workers.recv(index, "ready", 300)  # each worker encodes the clip: slow on a loaded machine
        say(f"[{size}/level] {len(workers.groups)} worker processes ready; the chair joins on the province")
        join_timeout = 60 + 3 * len(chosen)
        publishers = [seat.name for seat in chosen if seat.publish]
        joined: dict[str, Any] = {}
        chair = publishers[0]
        step = "the chair's join"
        joined.update(workers.ask([workers.worker_of(chair)], ("join", [chair]), "joined", join_timeout))
        result.home = asyncio.run(services.home_of(meeting_id))
        others = {workers.worker_of(name): [name] for name in publishers[1:]}
        step = "the city's and county's publishers' joins"
        joined.update(workers.ask_each({i: ("join", names) for i, names in others.items()}, "joined", join_timeout))
        rest = {i: [s.name for s in group if not s.publish] for i, group in enumerate(workers.groups)}
        step = "the receivers' joins"
        joined.update(workers.ask_each({i: ("join", names) for i, names in rest.items() if names}, "joined",
                                       join_timeout))
        say(f"[{size}/level] {len(joined)} joined (home: {result.home}); waiting for every source's first picture")
        media_timeout = 30 + 1.0 * len(chosen)
        everyone = list(range(len(workers.groups)))
        step = "waiting for first pictures"
        missing = workers.ask(everyone, ("await_media", media_timeout), "media", media_timeout + 30)
        result.not_started = sum(missing.values())
        time.sleep(args.warmup)  # let the join burst (keyframes, negotiation, link offers) settle
        say(f"[{size}/level] measuring {args.window:g} s ({result.not_started} sources without a first picture)")

        step = "the window"
        pids = {level: node.process.pid for level, node in services.nodes.items()}
        wires0 = {level: (services.levels.counters(level), services.levels.media_counters(level))
                  for level in ("city", "county")}
        cpu0 = {level: sfu.process_ticks(pid) for level, pid in pids.items()}
        clients0, busy0 = workers.cpu_ticks(), sfu.machine_ticks()
        t0 = time.monotonic()
        start = workers.ask(everyone, ("mark",), "marked", 60)
        time.sleep(args.window)  # the measurement window
        end = workers.ask(everyone, ("mark",), "marked", 60)
        t1 = time.monotonic()
        wires1 = {level: (services.levels.counters(level), services.levels.media_counters(level))
                  for level in ("city", "county")}
        cpu1 = {level: sfu.process_ticks(pid) for level, pid in pids.items()}
        clients1, busy1 = workers.cpu_ticks(), sfu.machine_ticks()
        result.loadavg = Path("/proc/loadavg").read_text().split()[0]
        step = "leaving"
        finished = workers.ask(everyone, ("finish",), "finished", 120)

        window = result.window_s = t1 - t0
        result.cpu_pct = {level: (cpu1[level] - cpu0[level]) / sfu.CLK_TCK / window * 100 for level in pids}
        result.cpu_pct["bots"] = (clients1 - clients0) / sfu.CLK_TCK / window * 100
        result.machine_busy_pct = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * 100 * len(
            os.sched_getaffinity(0))
        _media(result, seat_of, joined, start, end, finished)
        _wires(result, seat_of, joined, start, end, wires0, wires1, window)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: no goodbyes, the namespaces go next
        for proc in workers.procs:
            proc.terminate()
        raise
    except Exception as exc:  # noqa: BLE001 - one failed size must not lose the others
        # a worker's error is its traceback: its last line says what happened
        last = next((line for line in reversed(str(exc).splitlines()) if line.strip()), type(exc).__name__)
        result.error = f"{step}: {last.strip()}"[:300]
        print(f"[{size}/level] failed:\n{exc}", file=sys.stderr, flush=True)
    finally:
        workers.close()
    return result


def _media(result: Round, seat_of: dict[str, Seat], joined: dict[str, Any], start: dict[str, Any],
           end: dict[str, Any], finished: dict[str, Any]) -> None:
    """Frame rates, loss, latency and join times from the workers' marks and reports."""
    level_of = {joined[name]["id"]: seat.level for name, seat in seat_of.items()}
    publisher_names = {joined[name]["id"]: name for name, seat in seat_of.items() if seat.publish}
    sent_rate = {}
    for pid, name in publisher_names.items():
        a, b = start[name], end[name]
        span = b["at"] - a["at"]
        sent_rate[pid] = {kind: (b["sent"][kind] - a["sent"][kind]) / span for kind in ("video", "audio")}
    got = {"video": [0.0, 0.0], "audio": [0.0, 0.0]}  # frames received, frames sent meanwhile
    latency: dict[str, list[float]] = {name: [] for name in HOPS.values()}
    result.join_s = {name: [] for name in HOPS.values()}
    for name, seat in seat_of.items():
        a, b = start[name], end[name]
        span = b["at"] - a["at"]
        own = joined[name]["id"]
        for pid in publisher_names:
            if pid == own:
                continue
            for kind in ("video", "audio"):
                frames0 = a["sources"].get(f"{pid}:{kind}", [0, 0])[0]
                frames = b["sources"].get(f"{pid}:{kind}", [0, 0])[0] - frames0
                got[kind][0] += frames
                got[kind][1] += sent_rate[pid][kind] * span
                if kind == "video":
                    result.video_fps.append(frames / span)
        for source, samples in b.get("latency", {}).items():
            pid = source.rsplit(":", 1)[0]
            if pid in level_of:
                latency[HOPS[hops(level_of[pid], seat.level)]] += [s * 1000 for s in samples]
        report = finished[name]
        result.decode_errors += report["decode_errors"]
        asked = joined[name]["requested_at"]
        for pid, publisher in publisher_names.items():
            if pid == own:
                continue
            at = report["first_decoded"].get(f"{pid}:video")
            since = max(asked, joined[publisher]["published_at"] or asked)
            if at is None:
                result.join_missing += 1
            else:
                result.join_s[HOPS[hops(level_of[pid], seat.level)]].append(at - since)
    result.latency_ms = latency
    result.lost_pct = {kind: max(0.0, (1 - frames / sent) * 100) if sent else math.nan
                       for kind, (frames, sent) in got.items()}
    size = result.size
    # what each node sends: every local participant gets the three publishers' video (but their own),
    # and each link gets the streams the other side lacks (province: two per line; the others: one)
    result.forwarded = {"province": 3 * size - 1 + 4, "city": 3 * size - 1 + 1, "county": 3 * size - 1 + 1}


def _wires(result: Round, seat_of: dict[str, Seat], joined: dict[str, Any], start: dict[str, Any],
           end: dict[str, Any], wires0: dict[str, Counters], wires1: dict[str, Counters], window: float) -> None:
    """Bytes/s on each line, all and UDP only (the media), against one copy of each stream that must
    cross it: a publisher's video and audio payload as the receivers on the far side got it (median
    over them)."""
    def payload_rate(publisher: str, at_level: str) -> float:
        pid = joined[publisher]["id"]
        rates = []
        for name, seat in seat_of.items():
            if seat.level != at_level or name == publisher:
                continue
            a, b = start[name], end[name]
            rates.append(sum(b["sources"].get(f"{pid}:{k}", [0, 0])[1] - a["sources"].get(f"{pid}:{k}", [0, 0])[1]
                             for k in ("video", "audio")) / (b["at"] - a["at"]))
        return statistics.median(rates) if rates else math.nan

    publisher_at = {seat.level: name for name, seat in seat_of.items() if seat.publish}
    for level in ("city", "county"):
        copies = {"down": sum(payload_rate(publisher_at[other], level) for other in LEVELS if other != level),
                  "up": payload_rate(publisher_at[level], "province")}
        wire: dict[str, float] = {}
        for which, before, after in zip(("", "media_"), wires0[level], wires1[level], strict=True):
            for index, direction in enumerate(("down", "up")):
                rate = (after[index] - before[index]) / window
                wire[f"{direction}_{which}kBps"] = rate / 1000
                wire[f"{direction}_{which}ratio"] = rate / copies[direction] if copies[direction] else math.nan
        result.wires[level] = {**wire, **{f"{direction}_one_copy_kBps": copy / 1000
                                          for direction, copy in copies.items()}}


# -- report ------------------------------------------------------------------------------------------

def progress(result: Round) -> str:
    if result.error:
        return f"[{result.size}/level] FAILED: {result.error}"
    s = result.summary()
    lat = "  ".join(f"{k} p50 {v.get('p50', '—')} p95 {v.get('p95', '—')} ms (n={v['n']})"
                    for k, v in s["latency_ms"].items())
    wires = "  ".join(f"{level} " + " ".join(
        f"{d} {w[f'{d}_kBps']:.0f} kB/s ({w[f'{d}_ratio']:.2f}x, UDP {w[f'{d}_media_ratio']:.2f}x)"
        for d in ("down", "up"))
        for level, w in result.wires.items())
    return (f"[{result.size}/level] CPU % province {result.cpu_pct['province']:.0f} city {result.cpu_pct['city']:.0f} "
            f"county {result.cpu_pct['county']:.0f} bots {result.cpu_pct['bots']:.0f}; {wires}; latency {lat}; "
            f"join p95 {s['join_to_first_frame_s'].get('p95', '—')} s; fps median {s['video_fps']['median']} "
            f"min {s['video_fps']['min']}; lost video {s['lost_pct']['video']}% audio {s['lost_pct']['audio']}%; "
            f"load {result.loadavg}")


def table(results: list[Round]) -> list[str]:
    f = sfu.fmt
    lines = ["| per level (total) | node CPU % of a core: province / city / county (video streams sent) | bots CPU % "
             "| city line down / up kB/s (× one copy; UDP only × one copy) "
             "| county line down / up kB/s (× one copy; UDP only × one copy) "
             "| latency p50 / p95 ms: same node · 1 line · 2 lines | join → first frame p50 / p95 s "
             "(p95: same node · 1 line · 2 lines) "
             "| video fps median / min | lost video / audio % | load avg | notes |",
             "|---|---|---:|---|---|---|---|---|---|---:|---|"]
    for r in results:
        if r.error:
            error = " ".join(r.error.split()).replace("|", "/")
            lines.append(f"| {r.size} ({3 * r.size}) | — | — | — | — | — | — | — | — | {r.loadavg or '—'} "
                         f"| failed: {error} |")
            continue
        cpu = " / ".join(f"{f(r.cpu_pct[level])} ({r.forwarded[level]})" for level in LEVELS)
        wires = [f"{f(w['down_kBps'], 0)} ({f(w['down_ratio'], 2)}×; {f(w['down_media_ratio'], 2)}×) / "
                 f"{f(w['up_kBps'], 0)} ({f(w['up_ratio'], 2)}×; {f(w['up_media_ratio'], 2)}×)"
                 for w in (r.wires["city"], r.wires["county"])]
        lat = " · ".join(f"{f(sfu.percentile(v, 50), 0)} / {f(sfu.percentile(v, 95), 0)}"
                         for v in r.latency_ms.values())
        notes = []
        if r.home != "province":
            notes.append(f"home {r.home}")
        if r.not_started:
            notes.append(f"{r.not_started} sources had no first picture before the window")
        if r.join_missing:
            notes.append(f"{r.join_missing} remote videos never decoded")
        if r.decode_errors:
            notes.append(f"{r.decode_errors} decode errors")
        if r.machine_busy_pct > 90 * len(os.sched_getaffinity(0)):
            notes.append(f"machine saturated ({f(r.machine_busy_pct, 0)}% busy)")
        lines.append(
            f"| {r.size} ({3 * r.size}) | {cpu} | {f(r.cpu_pct['bots'], 0)} | {wires[0]} | {wires[1]} | {lat} "
            f"| {f(sfu.percentile(r.joins, 50), 2)} / {f(sfu.percentile(r.joins, 95), 2)} "
            f"({' · '.join(f(sfu.percentile(v, 95), 2) for v in r.join_s.values())}) "
            f"| {f(statistics.median(r.video_fps) if r.video_fps else math.nan)} "
            f"/ {f(min(r.video_fps) if r.video_fps else math.nan)} "
            f"| {f(r.lost_pct['video'], 2)} / {f(r.lost_pct['audio'], 2)} | {r.loadavg} | {'; '.join(notes)} |")
    return lines


def write_results(path: Path, args: argparse.Namespace, results: list[Round], started: datetime.datetime,
                  elapsed: float, loadavg_before: str) -> str:
    info = sfu.machine()
    command = shlex.join(["python", "bench/levels.py", *sys.argv[1:]])
    lines = [f"## {started:%Y-%m-%d %H:%M %Z} — three-level meeting (issue 16): `{command}`", "",
             f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
             f"Python {info['python']}; {sfu.versions()}. Load average before the run {loadavg_before} "
             f"(other work on the machine); nice {os.getpriority(os.PRIO_PROCESS, 0)}; total wall time "
             f"{elapsed / 60:.1f} min.",
             "- Three nodes (`lianshen serve`, one per level) in three network namespaces, the city's and the "
             "county's joined to the province's by veth pairs capped at 20 Mbit/s (tbf) each way; Redis and "
             "PostgreSQL in the county's (bench/netns.py, bench/levels_services.py). One meeting per size, "
             "chaired from the province (its home); each level's participants on their own node. Per level "
             "one publisher (camera 640x360 VP8 ~600 kbit/s 30 fps + Opus), the rest receive only; every "
             f"receiver gets all three publishers. Window {args.window:g} s after every receiver decoded "
             f"every source and a {args.warmup:g} s warm-up.",
             "- Lines: bytes counted on the lower end of each veth, against one copy of each stream that "
             "must cross (down: the two other levels' publishers; up: the level's own), payload as the far "
             "side's receivers got it: the ratio is one copy plus RTP/SRTP/UDP/IP headers, RTCP and the "
             "nodes' Redis and PostgreSQL traffic (a copy per receiver would be ×N). Latency: publisher "
             "send → receiver's socket, exact per sender report (bench/levels_clients.py), grouped by lines "
             "crossed. CPU: utime+stime of each node's process over the window, % of one core. Join: socket "
             "opened → first decoded frame of each remote publisher's video. Loss: frames received against "
             "frames the publisher sent in its window.",
             "", *table(results), ""]
    per_stream = [f"{r.size}/level: " + ", ".join(
        f"{level} {sfu.fmt(r.cpu_pct[level] / r.forwarded[level], 2)}%" for level in LEVELS)
        for r in results if not r.error]
    if per_stream:  # the single-node figure to set it beside: bench/sfu.py's "CPU / stream"
        lines += ["Node CPU per video stream sent (with its audio), % of a core: " + "; ".join(per_stream) + ".", ""]
    text = "\n".join(lines) + "\n"
    sfu.append_section(path, text)
    return text


# -- main ----------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/levels.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3,10,30",
                        type=lambda text: [int(x) for x in text.split(",") if x.strip()],
                        help="participants per level, comma-separated (default 3,10,30)")
    parser.add_argument("--window", type=float, default=20.0, help="measurement window per size, s (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time after all media started, s")
    parser.add_argument("--workers-per-level", type=int, default=0,
                        help="bot processes per level (default: one per 15 bots)")
    parser.add_argument("--nice", type=int, default=0,
                        help="scheduling priority for the bench and everything it starts (e.g. -10 on a "
                             "shared machine)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (node logs)")
    args = parser.parse_args(argv)
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--sizes: one or more numbers >= 1")
    if max(args.sizes) > 60:
        parser.error("--sizes: at most 60 per level (the world has that many departments' posts)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    reason = can_create_namespaces() or (f"missing {missing_tools()}" if missing_tools() else None)
    if reason is not None:
        print(f"bench/levels.py: {reason}", file=sys.stderr)
        return 2
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # inherited by the nodes and the bots
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up too
    started = datetime.datetime.now(datetime.UTC)
    loadavg_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    t_start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="lianshen-levels-"))
    levels = Levels(tag=f"b{os.getpid() % 10000}")
    services = Services(levels, workdir)
    results: list[Round] = []
    try:
        levels.open()
        levels.count_media()
        say(f"namespaces {', '.join(levels.ns.values())}; starting Redis and PostgreSQL in the county")
        services.start_databases()
        world = seed(services.database_url, args.sizes)
        say("starting the province, city and county nodes")
        services.start_nodes()
        for size in args.sizes:
            say(f"[{size}/level] {3 * size} participants")
            result = run_round(size, services, world, args)
            results.append(result)
            say(progress(result))
        text = write_results(args.results, args, results, started, time.monotonic() - t_start, loadavg_before)
        print()
        print(text)
        for result in results:  # the machine-readable end of the run
            print(json.dumps(result.summary(), ensure_ascii=False))
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        return 130
    finally:
        services.stop()
        levels.close()
        signal.signal(signal.SIGTERM, previous_sigterm)
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
