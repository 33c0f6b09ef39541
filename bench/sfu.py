"""SFU benchmark: pass-through forwarding (the real `lianshen serve`) against a naive re-encoding relay.

Run by hand (about 1 minute per scenario and mode in --quick mode):

    .venv/bin/python bench/sfu.py --quick            # every scenario, pass-through and baseline
    .venv/bin/python bench/sfu.py --scenarios mesh:6,fanout:50 --duration 30 --no-baseline
    .venv/bin/python bench/sfu.py --soak 10          # 6-party meeting for 10 minutes: memory
    .venv/bin/python bench/sfu.py --forwarding-ab 3 --scenarios fanout:10,fanout:25,fanout:50
                                                     # the real server's packet vs frame path, alternated
    .venv/bin/python bench/sfu.py --against-janus --install-janus --reps 3 --duration 15 \
        --scenarios fanout:10,fanout:25,fanout:50    # side by side with Janus VideoRoom (as root)

--against-janus (bench/janus_bench.py) runs the real server and Debian's Janus 1.1.2 VideoRoom in
turn, alternated within each repetition, in a server network namespace joined to the bots' client
namespace by a veth pair (bench/netns.py: Janus's ICE skips loopback, so neither system serves on
127.0.0.1 in this mode); Janus is driven over its HTTP API by bench/janus_client.py with the same
clip and receivers. It ends with one JSON line per scenario: scenario, lianshen_cpu, janus_cpu,
ratio (median of the per-repetition Lianshen / Janus ratios), lianshen_fps_min, janus_fps_min.

Scenarios: ``mesh:N`` is an all-to-all meeting of N participants, each publishing video + audio and
receiving everyone else (N*(N-1) forwarded streams); ``fanout:N`` is one publisher and N
subscribers that publish nothing (N forwarded streams). A forwarded stream is one publisher's
video (640x360 VP8, ~600 kbps, 30 fps) plus its Opus audio (50 packets/s) delivered to one
subscriber.

How it is measured, and why:
- The SFU runs in its own process so its CPU can be read apart from the clients: the real server
  (``python -m server serve``) on a temporary SQLite database holding tests/world.py's world;
  bots join meeting_x with single-use guest join tokens over socket.io (``BotClient``, the code of
  ``lianshen bot``). The baseline is ``bench/naive_relay.py``: same bots, same events, but it
  decodes every incoming track and re-encodes it for every subscriber (aiortc MediaRelay).
- Server CPU is utime+stime of that process (all its threads) from /proc/<pid>/stat over the
  steady-state window only: after every bot has decoded a first frame of every source it expects
  and a warm-up, until the end of the window (joins, negotiation and teardown are excluded).
- Clients are spread over several processes (multiprocessing, spawn); each publishes a clip
  encoded once per process and counts frames in pass-through, decoding only the first 90 frames
  of each source (first-picture time, decode errors). After that sample a source's datagrams are
  counted from the clear RTP header straight off the socket (bench/sfu_light.py: a video frame
  counts when its marker packet arrives with no sequence gap), so 100 subscribers fit on the
  machine next to the SFU; ``--full-receivers`` keeps the whole aiortc receive path instead.
  Received frames and bytes are snapshotted at
  the start and end of the window in every worker; expected frames are the nominal rate (30
  video / 50 audio frames per second, which the clip's real-time pacing holds on average) times
  each worker's own window.
- Join to first frame: for every (subscriber, remote video) pair, the first decoded picture minus
  the later of the subscriber's join ack and the publisher's publish ack (CLOCK_MONOTONIC is
  shared by all processes).
- Everything runs inside ``unshare -n`` (a network namespace with only ``lo``), the SFU and bots
  gather ICE on 127.0.0.1 only; the script re-executes itself there unless --no-netns.

Results are appended to bench/RESULTS.md (command, machine, date, versions, tables, targets).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import json
import math
import multiprocessing
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

from netns import Topology  # noqa: E402  (bench/ is the script's directory)
from sfu_clients import BotSpec, worker_main  # noqa: E402

sys.modules.setdefault("sfu", sys.modules[__name__])  # run as a script, `import sfu` (janus_bench) is this module
import janus_bench  # noqa: E402

NETNS_ENV = "LIANSHEN_BENCH_IN_NETNS"
COMMAND_ENV = "LIANSHEN_BENCH_COMMAND"
DEFAULT_SCENARIOS = "mesh:2,mesh:4,mesh:6,mesh:9,fanout:10,fanout:25,fanout:50"
VIDEO_FPS, AUDIO_FPS = 30.0, 50.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_STREAMS, TARGET_LOSS_PCT, TARGET_RATIO, TARGET_JOIN_P95_S, TARGET_RSS_DRIFT = 100, 1.0, 15.0, 1.0, 0.10


# -- scenarios -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    kind: str  # "mesh" | "fanout" | "both" (parts at once, e.g. fanout:100+mesh:9)
    size: int
    parts: tuple[Scenario, ...] = ()
    """Of "both": each part in its own meeting (meeting_x, meeting_y), on one server at once."""

    @property
    def label(self) -> str:
        return "+".join(p.label for p in self.parts) if self.parts else f"{self.kind}:{self.size}"

    @property
    def bots(self) -> int:
        if self.parts:
            return sum(p.bots for p in self.parts)
        return self.size if self.kind == "mesh" else self.size + 1

    @property
    def streams(self) -> int:
        """Forwarded (video + audio) streams."""
        if self.parts:
            return sum(p.streams for p in self.parts)
        return self.size * (self.size - 1) if self.kind == "mesh" else self.size

    def specs(self, tokens: list[str], meetings: tuple[int, ...] = ()) -> list[BotSpec]:
        """The bots; a part after the first is named by its index (m1b0, ...) and joins its own meeting."""
        if self.parts:
            out, start = [], 0
            for index, (part, meeting) in enumerate(zip(self.parts, meetings, strict=True)):
                out += [replace(spec, name=f"m{index}{spec.name}" if index else spec.name, meeting_id=meeting)
                        for spec in part.specs(tokens[start:start + part.bots])]
                start += part.bots
            return out
        if self.kind == "mesh":
            return [BotSpec(f"b{i}", tokens[i], True, 2 * (self.size - 1)) for i in range(self.size)]
        return [BotSpec("b0", tokens[0], True, 0)] + [
            BotSpec(f"b{i}", tokens[i], False, 2) for i in range(1, self.size + 1)]


def parse_scenarios(text: str) -> list[Scenario]:
    out = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "+" in item:  # parts at once, each in its own meeting (the world has two)
            parts = tuple(parse_scenarios(",".join(item.split("+"))))
            if len(parts) != 2:
                raise argparse.ArgumentTypeError(f"bad scenario {item!r}: two parts, e.g. fanout:100+mesh:9")
            out.append(Scenario("both", 0, parts))
            continue
        kind, _, size = item.partition(":")
        if kind not in ("mesh", "fanout") or not size.isdigit() or int(size) < (2 if kind == "mesh" else 1):
            raise argparse.ArgumentTypeError(f"bad scenario {item!r}: use mesh:N (N>=2) or fanout:N (N>=1)")
        out.append(Scenario(kind, int(size)))
    return out


# -- /proc readings --------------------------------------------------------------------------------

def process_times(pid: int) -> tuple[int, int]:
    """(utime, stime) of a process, all threads, in clock ticks (/proc/<pid>/stat fields 14-15)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]), int(fields[12])


def process_ticks(pid: int) -> int:
    """utime + stime of a process, all threads, in clock ticks."""
    return sum(process_times(pid))


def process_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def udp_local_addresses() -> set[str]:
    """Local addresses of every UDP socket in this network namespace (hex from /proc/net/udp)."""
    out = set()
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        address = line.split()[1].split(":")[0]
        out.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return out


def machine() -> dict[str, str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"nproc": str(len(os.sched_getaffinity(0))), "cpu": model,
            "ram": f"{mem_kb / 1024 / 1024:.1f} GiB", "kernel": platform.release(),
            "python": platform.python_version()}


def versions() -> str:
    names = ("aiortc", "av", "aioice", "python-socketio", "pylibsrtp")
    found = []
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    return ", ".join(found)


# -- the server processes --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float, host: str = "127.0.0.1") -> None:
    """Poll until the server accepts TCP connections (bounded), or fail if it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server not listening on {port} after {timeout}s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class World:
    workdir: Path
    database_url: str
    meeting_id: int
    chair_id: int
    second_meeting_id: int = 0
    """meeting_y, for a scenario's second part."""


def build_world(workdir: Path) -> World:
    from server.db.engine import create_engine, session_factory
    from server.db.migrate import upgrade
    from tests.world import build_world as build

    database = workdir / "lianshen.db"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade(url)

    async def seed() -> tuple[int, int, int]:
        engine = create_engine(url)
        try:
            world = await build(session_factory(engine))
            return world.meeting_x, world.user_ids["chair"], world.meeting_y
        finally:
            await engine.dispose()

    meeting_id, chair_id, second_meeting_id = asyncio.run(seed())
    return World(workdir, url, meeting_id, chair_id, second_meeting_id)


def scenario_tokens(world: World, scenario: Scenario, run: str) -> list[str]:
    """Join tokens for every bot of ``scenario``, each part's for its own meeting."""
    if not scenario.parts:
        return issue_tokens(world, scenario.bots, run)
    meetings = (world.meeting_id, world.second_meeting_id)
    return [token for part, meeting in zip(scenario.parts, meetings, strict=False)
            for token in issue_tokens(world, part.bots, run, meeting)]


def issue_tokens(world: World, count: int, run: str, meeting_id: int | None = None) -> list[str]:
    """Single-use guest join tokens for meeting_x (or ``meeting_id``), issued as its chair
    (server.signaling.tokens)."""
    from server.db.engine import create_engine, session_factory
    from server.settings import load_settings
    from server.signaling import tokens

    settings = load_settings(data_dir=world.workdir / "data", database={"url": world.database_url})
    secret = tokens.token_secret(settings)

    async def issue() -> list[str]:
        engine = create_engine(world.database_url)
        try:
            async with session_factory(engine)() as db:
                out = []
                for i in range(count):
                    token, _row = await tokens.issue(
                        db, secret, meeting_id or world.meeting_id, world.chair_id,
                        tokens.Invitee(guest_name=f"bench {run} {i}", guest_unit="bench"),
                        datetime.timedelta(hours=6))
                    out.append(token)
                await db.commit()
                return out
        finally:
            await engine.dispose()

    return asyncio.run(issue())


SERVER_MODES = ("passthrough", "frame", "packet")
"""Runs of the real server: with its configured forwarding, or with sfu.forwarding set to the mode."""


def start_server(mode: str, world: World, port: int, log: Path, probe: bool = False,
                 net: Topology | None = None) -> subprocess.Popen[bytes]:
    """The server for ``mode`` on loopback, or on the server namespace's veth address given ``net``."""
    env = dict(os.environ)
    if mode in ("frame", "packet"):
        env["LIANSHEN_SFU_FORWARDING"] = mode
    host, network = (net.server_address, net.network) if net else ("127.0.0.1", "127.0.0.0/8")
    if mode in SERVER_MODES:
        env.update({
            "LIANSHEN_DATA_DIR": str(world.workdir / "data"),
            "LIANSHEN_DATABASE_URL": world.database_url,
            "LIANSHEN_SFU_ICE_GATHER_ADDRESSES": json.dumps([host]),
            "LIANSHEN_SFU_ALLOWED_NETWORKS": json.dumps([network]),
            "LIANSHEN_SFU_DENIED_NETWORKS": '["169.254.0.0/16", "224.0.0.0/4", "0.0.0.0/8"]',
        })
        entry = [str(BENCH_DIR / "sfu_probe.py")] if probe else ["-m", "server"]
        if probe:  # the same server, plus counters (bench/sfu_probe.py) written next to the log
            env["LIANSHEN_PROBE_OUT"] = str(log.with_suffix(".probe.jsonl"))
        argv = [*(net.exec_prefix() if net else []), sys.executable, *entry, "serve", "--host", host,
                "--port", str(port), "--data-dir", str(world.workdir / "data")]
    else:
        argv = [sys.executable, str(BENCH_DIR / "naive_relay.py"), "--port", str(port)]
    handle = log.open("wb")
    return subprocess.Popen(argv, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)


# -- the client workers ------------------------------------------------------------------------------

class Workers:
    """Client processes, each holding some bots; commands go to all and replies are awaited."""

    def __init__(self, url: str, meeting_id: int, specs: list[BotSpec], count: int, light: bool = True,
                 client: str = "lianshen") -> None:
        ctx = multiprocessing.get_context("spawn")
        count = max(1, min(count, len(specs)))
        self.groups: list[list[BotSpec]] = [specs[i::count] for i in range(count)]
        self.pipes = []
        self.procs = []
        for group in self.groups:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, url, meeting_id, group, light, client),
                               daemon=True)
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)

    def worker_of(self, name: str) -> int:
        return next(i for i, group in enumerate(self.groups) if any(s.name == name for s in group))

    def recv(self, index: int, expect: str, timeout: float) -> Any:
        pipe = self.pipes[index]
        if not pipe.poll(timeout):
            raise RuntimeError(f"worker {index}: no {expect!r} reply within {timeout:.0f}s")
        tag, value = pipe.recv()
        if tag != expect:
            raise RuntimeError(f"worker {index}: {tag}: {value}")
        return value

    def ask(self, indices: list[int], command: tuple[Any, ...], expect: str, timeout: float) -> dict[str, Any]:
        """Send a command to the given workers and merge their replies (bots' names are unique)."""
        for index in indices:
            self.pipes[index].send(command)
        merged: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        for index in indices:
            merged.update(self.recv(index, expect, max(0.1, deadline - time.monotonic())))
        return merged

    def ask_each(self, commands: dict[int, tuple[Any, ...]], expect: str, timeout: float) -> dict[str, Any]:
        for index, command in commands.items():
            self.pipes[index].send(command)
        merged: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        for index in commands:
            merged.update(self.recv(index, expect, max(0.1, deadline - time.monotonic())))
        return merged

    def cpu_ticks(self) -> int:
        total = 0
        for proc in self.procs:
            with contextlib.suppress(OSError):
                total += process_ticks(proc.pid)
        return total

    def close(self) -> None:
        for proc in self.procs:
            proc.join(15)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


# -- one run ---------------------------------------------------------------------------------------

@dataclass
class Result:
    scenario: Scenario
    mode: str
    window_s: float = 0.0
    server_cpu_pct: float = math.nan
    server_user_pct: float = math.nan
    server_system_pct: float = math.nan
    client_cpu_pct: float = math.nan
    machine_busy_pct: float = math.nan
    rss_start_mb: float = math.nan
    rss_end_mb: float = math.nan
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    video_fps: list[float] = field(default_factory=list)
    audio_fps: list[float] = field(default_factory=list)
    video_kbps: list[float] = field(default_factory=list)
    video_lost_pct: float = math.nan
    audio_lost_pct: float = math.nan
    first_frame_s: list[float] = field(default_factory=list)
    missing_first_frames: int = 0
    not_started: int = 0
    decode_errors: int = 0
    decoded: int = 0
    non_loopback_udp: set[str] = field(default_factory=set)
    loadavg: str = ""
    error: str = ""

    @property
    def other_pct(self) -> float:
        """CPU the rest of the machine used meanwhile (other people's work on a shared machine)."""
        return max(0.0, self.machine_busy_pct - self.server_cpu_pct - self.client_cpu_pct)

    @property
    def cpu_per_stream(self) -> float:
        return self.server_cpu_pct / self.scenario.streams

    @property
    def delivered_streams(self) -> float:
        """Forwarded streams at full frame rate that the delivered video frames amount to."""
        return sum(self.video_fps) / VIDEO_FPS if self.video_fps else 0.0

    @property
    def cpu_per_delivered_stream(self) -> float:
        return self.server_cpu_pct / self.delivered_streams if self.delivered_streams else math.nan


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def run_once(scenario: Scenario, mode: str, world: World, args: argparse.Namespace,
             duration: float, rss_every: float = 0.0, net: Topology | None = None) -> Result:
    """One scenario against one server: ``mode`` is one of SERVER_MODES, ``baseline`` or ``janus``
    (bench/janus_bench.py); with ``net`` the server runs in its namespace and the bots reach it
    over the veth pair (the bench process is then in the client namespace)."""
    result = Result(scenario, mode)
    run = f"{scenario.label}-{mode}-{int(time.time())}"
    try:
        tokens = scenario_tokens(world, scenario, run) if mode in SERVER_MODES else ["-"] * scenario.bots
    except Exception as exc:  # noqa: BLE001 - e.g. settings changed under a long run
        result.error = f"issuing join tokens: {type(exc).__name__}: {exc}"[:400]
        return result
    specs = scenario.specs(tokens, (world.meeting_id, world.second_meeting_id)[:len(scenario.parts)])
    host = net.server_address if net else "127.0.0.1"
    meeting_id, client, log = world.meeting_id, "lianshen", world.workdir / f"{run}.log"
    if mode == "janus":
        assert net is not None, "Janus serves only in a namespace (its ICE skips loopback)"
        port, meeting_id, client = janus_bench.HTTP_PORT, janus_bench.ROOM, "janus"
        url = janus_bench.api_url(net)
        server = janus_bench.start(net, world.workdir / run, log)
    else:
        port, url = free_port(), ""
        server = start_server(mode, world, port, log, args.probe, net)
    workers: Workers | None = None
    try:
        wait_listening(server, port, 60, host)
        url = url or f"http://{host}:{port}"
        workers = Workers(url, meeting_id, specs, args.workers, args.light, client)
        for index in range(len(workers.groups)):
            workers.recv(index, "ready", 300)  # each worker encodes the clip: slow on a loaded machine
        join_timeout = 60 + 3 * scenario.bots
        names = {i: [s.name for s in group] for i, group in enumerate(workers.groups)}
        joined: dict[str, Any] = {}
        if "fanout" in (scenario.kind, scenario.parts[0].kind if scenario.parts else ""):  # publisher first
            first = workers.worker_of("b0")
            joined.update(workers.ask([first], ("join", ["b0"]), "joined", join_timeout))
            names[first].remove("b0")
        joined.update(workers.ask_each({i: ("join", n) for i, n in names.items() if n}, "joined", join_timeout))
        media_timeout = 20 + 0.5 * scenario.bots
        missing = workers.ask(list(range(len(workers.groups))), ("await_media", media_timeout), "media",
                              media_timeout + 30)
        result.not_started = sum(missing.values())
        time.sleep(args.warmup)  # let the join burst (keyframes, negotiation) settle

        all_workers = list(range(len(workers.groups)))
        cpu0, client0, busy0, rss0 = (process_times(server.pid), workers.cpu_ticks(), machine_ticks(),
                                      process_rss_mb(server.pid))
        t0 = time.monotonic()
        start = workers.ask(all_workers, ("mark",), "marked", 30)
        result.rss_samples.append((0.0, rss0))
        end_at = t0 + duration
        while rss_every and time.monotonic() + rss_every < end_at:
            time.sleep(rss_every)  # measurement window
            result.rss_samples.append((time.monotonic() - t0, process_rss_mb(server.pid)))
        time.sleep(max(0.0, end_at - time.monotonic()))  # measurement window
        end = workers.ask(all_workers, ("mark",), "marked", 30)
        if args.probe:  # the clients' side of the counters: frames received, sent, loop lateness
            (world.workdir / f"{run}.marks.json").write_text(json.dumps({"start": start, "end": end}))
        cpu1, client1, busy1, rss1 = (process_times(server.pid), workers.cpu_ticks(), machine_ticks(),
                                      process_rss_mb(server.pid))
        t1 = time.monotonic()
        result.rss_samples.append((t1 - t0, rss1))
        expected = {"127.0.0.1", "0.0.0.0", *([net.client_address] if net else [])}
        result.non_loopback_udp = udp_local_addresses() - expected
        result.loadavg = Path("/proc/loadavg").read_text().split()[0]
        finished = workers.ask(all_workers, ("finish",), "finished", 120)

        window = t1 - t0
        result.window_s = window
        result.server_user_pct = (cpu1[0] - cpu0[0]) / CLK_TCK / window * 100
        result.server_system_pct = (cpu1[1] - cpu0[1]) / CLK_TCK / window * 100
        result.server_cpu_pct = result.server_user_pct + result.server_system_pct
        result.client_cpu_pct = (client1 - client0) / CLK_TCK / window * 100
        result.machine_busy_pct = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * 100 * len(
            os.sched_getaffinity(0))
        result.rss_start_mb, result.rss_end_mb = rss0, rss1
        _media_stats(result, specs, joined, start, end, finished)
    except Exception as exc:  # noqa: BLE001 - one failed scenario must not lose the others
        result.error = f"{type(exc).__name__}: {exc}".strip()[:400]
        print(f"{scenario.label} {mode} failed:\n{exc}", file=sys.stderr, flush=True)  # untruncated
    finally:
        if workers is not None:
            workers.close()
        stop_process(server)
    return result


def _media_stats(result: Result, specs: list[BotSpec], joined: dict[str, Any], start: dict[str, Any],
                 end: dict[str, Any], finished: dict[str, Any]) -> None:
    published_at = {info["id"]: info["published_at"] for info in joined.values()}
    received = {"video": [0, 0.0], "audio": [0, 0.0]}  # frames, expected frames
    for spec in specs:
        if spec.expect_sources == 0:
            continue
        a, b = start[spec.name], end[spec.name]
        span = b["at"] - a["at"]
        per_kind = {"video": [], "audio": []}
        for source, (frames, size) in b["sources"].items():
            kind = source.rsplit(":", 1)[1]
            frames0, size0 = a["sources"].get(source, [0, 0])
            per_kind[kind].append((frames - frames0, (size - size0) * 8 / span / 1000))
        wanted = spec.expect_sources // 2
        for kind, nominal in (("video", VIDEO_FPS), ("audio", AUDIO_FPS)):
            streams = per_kind[kind] + [(0, 0.0)] * max(0, wanted - len(per_kind[kind]))
            for frames, kbps in streams:
                (result.video_fps if kind == "video" else result.audio_fps).append(frames / span)
                if kind == "video":
                    result.video_kbps.append(kbps)
                received[kind][0] += frames
                received[kind][1] += nominal * span
        first = finished[spec.name]
        result.decode_errors += first["decode_errors"]
        result.decoded += first["decoded"]
        joined_at = joined[spec.name]["joined_at"]
        video_sources = [s for s in first["first_decoded"] if s.endswith(":video")]
        for source in video_sources:
            at = first["first_decoded"][source]
            publisher = source.rsplit(":", 1)[0]
            since = max(joined_at, published_at.get(publisher) or joined_at)
            if at is None:
                result.missing_first_frames += 1
            else:
                result.first_frame_s.append(at - since)
        result.missing_first_frames += max(0, wanted - len(video_sources))
    for kind in ("video", "audio"):
        frames, expected = received[kind]
        lost = (1 - frames / expected) * 100 if expected else math.nan
        setattr(result, f"{kind}_lost_pct", max(0.0, lost))


# -- report ----------------------------------------------------------------------------------------

def fmt(value: float, digits: int = 1) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least squares cpu = a + b * streams."""
    if len(points) < 2:
        return None
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def progress(result: Result, index: int, total: int) -> str:
    if result.error:
        return f"[{index}/{total}] {result.scenario.label:<10} {result.mode:<11} FAILED: {result.error}"
    return (f"[{index}/{total}] {result.scenario.label:<10} {result.mode:<11} streams {result.scenario.streams:>3}"
            f"  server {fmt(result.server_cpu_pct)}% ({fmt(result.cpu_per_stream, 2)}%/stream)"
            f"  fps med {fmt(statistics.median(result.video_fps) if result.video_fps else math.nan)}"
            f" min {fmt(min(result.video_fps) if result.video_fps else math.nan)}"
            f"  lost v {fmt(result.video_lost_pct, 2)}% a {fmt(result.audio_lost_pct, 2)}%"
            f"  first frame p95 {fmt(percentile(result.first_frame_s, 95), 2)}s"
            f"  clients {fmt(result.client_cpu_pct, 0)}% others {fmt(result.other_pct, 0)}%")


def table(results: list[Result], nproc: int) -> list[str]:
    lines = [
        "| scenario | mode | fwd streams | server CPU % of a core | CPU / stream % | video fps median / min "
        "| lost video / audio % | video kbps median | server RSS start → end MB | first frame p50 / p95 s "
        "| client CPU % | other processes CPU % (load avg) | notes |",
        "|---|---|---:|---:|---:|---|---|---:|---|---|---:|---:|---|",
    ]
    for r in results:
        if r.error:
            error = " ".join(r.error.split()).replace("|", "/")  # one table row, whatever the traceback
            lines.append(f"| {r.scenario.label} | {r.mode} | {r.scenario.streams} | — | — | — | — | — | — | — "
                         f"| — | — | failed: {error} |")
            continue
        notes = []
        if r.machine_busy_pct > 0.9 * 100 * nproc:
            notes.append("machine saturated")
        if r.not_started:
            notes.append(f"{r.not_started} sources had no first frame before the window")
        if r.missing_first_frames:
            notes.append(f"{r.missing_first_frames} video sources never decoded")
        if r.decode_errors:
            notes.append(f"{r.decode_errors} decode errors")
        if r.non_loopback_udp:
            notes.append(f"NON-LOOPBACK UDP {sorted(r.non_loopback_udp)}")
        lines.append(
            f"| {r.scenario.label} | {r.mode} | {r.scenario.streams} | {fmt(r.server_cpu_pct)} "
            f"| {fmt(r.cpu_per_stream, 2)} "
            f"| {fmt(statistics.median(r.video_fps) if r.video_fps else math.nan)} / "
            f"{fmt(min(r.video_fps) if r.video_fps else math.nan)} "
            f"| {fmt(r.video_lost_pct, 2)} / {fmt(r.audio_lost_pct, 2)} "
            f"| {fmt(statistics.median(r.video_kbps) if r.video_kbps else math.nan, 0)} "
            f"| {fmt(r.rss_start_mb, 0)} → {fmt(r.rss_end_mb, 0)} "
            f"| {fmt(percentile(r.first_frame_s, 50), 2)} / {fmt(percentile(r.first_frame_s, 95), 2)} "
            f"| {fmt(r.client_cpu_pct, 0)} | {fmt(r.other_pct, 0)} ({r.loadavg}) | {'; '.join(notes)} |")
    return lines


def ratio_table(results: list[Result]) -> tuple[list[str], list[float]]:
    by = {(r.scenario, r.mode): r for r in results if not r.error}
    lines = ["| scenario | pass-through CPU / stream % | re-encode CPU / stream % | ratio (raw) "
             "| re-encode delivered fps median | re-encode CPU / full-rate stream % | ratio (per delivered frame) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    ratios = []
    for scenario in dict.fromkeys(r.scenario for r in results):
        p, b = by.get((scenario, "passthrough")), by.get((scenario, "baseline"))
        if p is None or b is None:
            continue
        raw = b.cpu_per_stream / p.cpu_per_stream if p.cpu_per_stream else math.nan
        fair = b.cpu_per_delivered_stream / p.cpu_per_delivered_stream if p.cpu_per_delivered_stream else math.nan
        ratios.append(fair)
        lines.append(f"| {scenario.label} | {fmt(p.cpu_per_stream, 2)} | {fmt(b.cpu_per_stream, 2)} | {fmt(raw)}x "
                     f"| {fmt(statistics.median(b.video_fps) if b.video_fps else math.nan)} "
                     f"| {fmt(b.cpu_per_delivered_stream, 2)} | {fmt(fair)}x |")
    return lines, ratios


def forwarding_table(results: list[Result]) -> list[str]:
    """Packet path against frame path, per scenario: medians over the alternated repetitions."""
    lines = ["| scenario | reps | frame CPU % (runs) | packet CPU % (runs) | packet / frame (median) "
             "| frame / packet fps min | frame / packet lost video % max | frame / packet first frame p95 s max |",
             "|---|---:|---|---|---:|---|---|---|"]
    for scenario in dict.fromkeys(r.scenario for r in results):
        runs = [[r for r in results if r.scenario == scenario and r.mode == mode and not r.error]
                for mode in ("frame", "packet")]
        if not all(runs):
            continue
        cpu = [[r.server_cpu_pct for r in rs] for rs in runs]
        fps = [min((min(r.video_fps) for r in rs if r.video_fps), default=math.nan) for rs in runs]
        lost = [max(r.video_lost_pct for r in rs) for rs in runs]
        join = [max(percentile(r.first_frame_s, 95) for r in rs) for rs in runs]
        lines.append(
            f"| {scenario.label} | {min(map(len, cpu))} "
            + "".join(f"| {statistics.median(c):.1f} ({', '.join(fmt(x) for x in c)}) " for c in cpu)
            + f"| {statistics.median(cpu[1]) / statistics.median(cpu[0]):.2f} "
            f"| {fmt(fps[0])} / {fmt(fps[1])} | {fmt(lost[0], 2)} / {fmt(lost[1], 2)} "
            f"| {fmt(join[0], 2)} / {fmt(join[1], 2)} |")
    return lines


def marginal(results: list[Result], mode: str) -> tuple[float, float] | None:
    """Fit of server CPU against full-rate streams actually delivered: (fixed %, % per added stream)."""
    return linear_fit([(r.delivered_streams, r.server_cpu_pct) for r in results
                       if r.mode == mode and not r.error and r.delivered_streams > 0])


def targets(results: list[Result], ratios: list[float], soak: Result | None) -> list[str]:
    ok = [r for r in results if r.mode == "passthrough" and not r.error]
    lines = []
    # Only runs that delivered full rate say what a full-rate stream costs: a starved run forwards less.
    full = [r for r in ok if r.video_fps and statistics.median(r.video_fps) >= VIDEO_FPS - 1
            and r.video_lost_pct < TARGET_LOSS_PCT]
    fit = linear_fit([(r.scenario.streams, r.server_cpu_pct) for r in full])
    measured = [r for r in full if r.scenario.streams >= TARGET_STREAMS]
    if fit is None and measured:  # one run at the target size says it without a fit
        lines.append(f"- **{TARGET_STREAMS} video streams (+audio) on one core, full rate, <{TARGET_LOSS_PCT:g}% lost: "
                     f"{'PASS' if all(r.server_cpu_pct <= 100 for r in measured) else 'FAIL'} (measured)** — "
                     + ", ".join(f"{r.scenario.label}: {fmt(r.server_cpu_pct)}% of a core, fps median "
                                 f"{fmt(statistics.median(r.video_fps))}, lost video {fmt(r.video_lost_pct, 2)}%"
                                 for r in measured) + ".")
    elif fit is None:
        lines.append(f"- **{TARGET_STREAMS} video streams on one core: NOT MEASURABLE in this run** — fewer than "
                     f"two scenarios held full rate with <{TARGET_LOSS_PCT:g}% loss "
                     f"({', '.join(r.scenario.label for r in full) or 'none'}).")
    measured_max = max(ok, key=lambda r: r.scenario.streams, default=None)
    if fit and measured_max is not None:
        a, b = fit
        at_target = a + b * TARGET_STREAMS
        per_core = (100 - a) / b if b > 0 else math.inf
        held = all(statistics.median(r.video_fps) >= VIDEO_FPS - 1 and r.video_lost_pct < TARGET_LOSS_PCT
                   for r in ok if r.video_fps)
        measured_100 = [r for r in ok if r.scenario.streams >= TARGET_STREAMS]
        verdict = "PASS" if at_target <= 100 and held else "FAIL"
        source = "measured" if measured_100 else "EXTRAPOLATED"
        lines.append(
            f"- **{TARGET_STREAMS} video streams (+audio) on one core, full rate, <{TARGET_LOSS_PCT:g}% lost: "
            f"{verdict} ({source})**. Linear fit of the measured server CPU over the {len(full)} scenarios "
            f"that held full rate ({', '.join(r.scenario.label for r in full)}): "
            f"{fmt(a)}% + {fmt(b, 3)}% × streams → {fmt(at_target)}% of a core at {TARGET_STREAMS} streams, "
            f"{fmt(per_core, 0)} streams per core. Largest measured: {measured_max.scenario.label} = "
            f"{measured_max.scenario.streams} streams at {fmt(measured_max.server_cpu_pct)}% of a core. "
            f"Frame rate and loss held in every measured scenario: {'yes' if held else 'NO'}"
            + ("" if measured_100 else f" (none of them reached {TARGET_STREAMS} streams).")
            + (f" Measured at ≥{TARGET_STREAMS}: " + ", ".join(
                f"{r.scenario.label} {fmt(r.server_cpu_pct)}% CPU, fps median "
                f"{fmt(statistics.median(r.video_fps))}, lost {fmt(r.video_lost_pct, 2)}%"
                for r in measured_100) + "." if measured_100 else ""))
    if ratios:
        low = min(ratios)
        fits = marginal(results, "passthrough"), marginal(results, "baseline")
        slope = fits[1][1] / fits[0][1] if fits[0] and fits[1] and fits[0][1] > 0 else math.nan
        passing = sum(1 for x in ratios if x >= TARGET_RATIO)
        lines.append(
            f"- **Pass-through ≥{TARGET_RATIO:g}x cheaper per stream than re-encoding: "
            f"{'PASS' if low >= TARGET_RATIO else 'FAIL' if passing == 0 else 'PARTLY'}** — average CPU per "
            f"full-rate delivered stream, same run, per scenario: {', '.join(fmt(x) + 'x' for x in ratios)} "
            f"({passing} of {len(ratios)} ≥ {TARGET_RATIO:g}x). Marginal cost (fit slope, CPU per added "
            f"delivered stream): pass-through {fmt(fits[0][1] if fits[0] else math.nan, 3)}%, re-encode "
            f"{fmt(fits[1][1] if fits[1] else math.nan, 2)}% → {fmt(slope)}x"
            f"{'' if len([r for r in results if r.mode == 'baseline' and not r.error]) > 1 else ' (one baseline point: no slope)'}.")
    joins = [t for r in ok for t in r.first_frame_s]
    if joins:
        worst = max(ok, key=lambda r: percentile(r.first_frame_s, 95))
        missing = sum(r.missing_first_frames for r in ok)
        p95 = percentile(joins, 95)
        lines.append(f"- **Join to first remote frame p95 < {TARGET_JOIN_P95_S:g} s: "
                     f"{'PASS' if p95 < TARGET_JOIN_P95_S and not missing else 'FAIL'}** "
                     f"(all pass-through pairs: p50 {fmt(percentile(joins, 50), 2)} s, p95 {fmt(p95, 2)} s, "
                     f"n={len(joins)}, {missing} never decoded; worst scenario {worst.scenario.label} "
                     f"p95 {fmt(percentile(worst.first_frame_s, 95), 2)} s).")
    if soak is not None and not soak.error:
        drift = (soak.rss_end_mb - soak.rss_start_mb) / soak.rss_start_mb
        peak = max(v for _t, v in soak.rss_samples)
        full = soak.window_s >= 600 - 1
        lines.append(f"- **Memory flat (±{TARGET_RSS_DRIFT:.0%}) over a 10-minute 6-party meeting: "
                     f"{'PASS' if abs(drift) <= TARGET_RSS_DRIFT else 'FAIL'}"
                     f"{'' if full else ' (SHORTER RUN: ' + fmt(soak.window_s / 60) + ' min)'}** "
                     f"(RSS {fmt(soak.rss_start_mb)} → {fmt(soak.rss_end_mb)} MB, {drift:+.1%}, peak {fmt(peak)} MB).")
    elif soak is None:
        lines.append("- Memory over a 10-minute 6-party meeting: not run in this invocation (`--soak`).")
    return lines


def netns_note(args: argparse.Namespace) -> str:
    if args.against_janus:
        return "server and bots in two namespaces joined by a veth pair (bench/netns.py)"
    return "yes (unshare -n, lo only)" if os.environ.get(NETNS_ENV) else "NO"


def write_results(path: Path, args: argparse.Namespace, results: list[Result], soak: Result | None,
                  started: datetime.datetime, elapsed: float) -> str:
    info = machine()
    nproc = int(info["nproc"])
    lines = [f"## {started:%Y-%m-%d %H:%M %Z} — `{os.environ.get(COMMAND_ENV, shlex.join(sys.argv))}`", "",
             f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
             f"Python {info['python']}; {versions()}"
             f"{'; Janus ' + janus_bench.version() if args.against_janus else ''}.",
             f"- Window {args.duration if soak is None else soak.window_s:g} s per run after a {args.warmup:g} s "
             f"warm-up; {args.workers} client "
             f"processes at most; nice {os.getpriority(os.PRIO_PROCESS, 0)}; "
             f"netns: {netns_note(args)}; "
             f"total wall time {elapsed / 60:.1f} min; bot receivers: "
             f"{'counted off the socket after a 90-frame decode sample (bench/sfu_light.py)' if args.light else 'full aiortc stack'}.",
             "- passthrough = the real server (`python -m server serve`, SQLite, tests/world.py meeting_x, "
             "bots with guest join tokens over socket.io); baseline = `bench/naive_relay.py` (aiortc "
             "decode + MediaRelay + one VP8/Opus encoder per subscriber), same bots.",
             ""]
    body = []
    if results:
        body += table(results, nproc) + [""]
        rt, ratios = ratio_table(results)
        if ratios:
            body += ["CPU ratio, baseline / pass-through, per forwarded stream (raw) and per full-rate stream "
                     "actually delivered (fair when the baseline cannot hold 30 fps):", ""] + rt + [""]
    else:
        ratios = []
    if soak is not None:
        body += ["Soak (mesh:6, pass-through), server RSS MB over time: " + ", ".join(
            f"{t / 60:.1f} min {v:.0f}" for t, v in soak.rss_samples), ""]
        body += table([soak], nproc) + [""]
    if args.against_janus:
        body += janus_bench.section(results)
    elif args.forwarding_ab:  # the targets are about pass-through vs baseline, not measured here
        body += ["Packet vs frame forwarding (the real server, `sfu.forwarding` switched per run, the two "
                 "alternated in each repetition):", "", *forwarding_table(results), ""]
    else:
        body += ["Targets:", ""] + targets(results, ratios, soak) + [""]
    text = "\n".join(lines + body) + "\n"
    append_section(path, text)
    return text


def append_section(path: Path, text: str) -> None:
    """Add ``text`` at the end of the results file in one append: other benchmarks append their
    sections to the same file, maybe while this one runs, and a rewrite of the whole file (read,
    then write) would drop whatever they added in between."""
    header = "" if path.exists() else "# Benchmark results\n"
    with path.open("a", encoding="utf-8") as out:
        out.write(header + "\n" + text)


# -- main ------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/sfu.py", description=__doc__.split("\n\n")[0],
        epilog="Scenarios: mesh:N (all-to-all, N*(N-1) streams), fanout:N (1 publisher, N subscribers). "
               "Results are appended to bench/RESULTS.md.")
    parser.add_argument("--scenarios", type=parse_scenarios, default=parse_scenarios(DEFAULT_SCENARIOS),
                        help=f"comma-separated (default {DEFAULT_SCENARIOS})")
    parser.add_argument("--duration", type=float, default=20.0, help="measurement window per run, s (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time after all media started, s")
    parser.add_argument("--quick", action="store_true", help="10 s windows and 2 s warm-up")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the naive re-encoding relay")
    parser.add_argument("--baseline-scenarios", type=parse_scenarios, default=None,
                        help="run the baseline only for these (default: the same scenarios)")
    parser.add_argument("--soak", type=float, nargs="?", const=10.0, default=None, metavar="MINUTES",
                        help="run only the memory soak: a 6-party meeting for MINUTES (default 10)")
    parser.add_argument("--workers", type=int, default=2 * len(os.sched_getaffinity(0)),
                        help="client processes at most (default 2 per CPU)")
    parser.add_argument("--full-receivers", dest="light", action="store_false",
                        help="bots receive through the whole aiortc stack for the whole run (default: only "
                             "their decode sample; then frames are counted off the socket, bench/sfu_light.py)")
    parser.add_argument("--forwarding-ab", type=int, default=0, metavar="REPS",
                        help="instead of pass-through vs baseline: the real server with sfu.forwarding = frame "
                             "and = packet, REPS times per scenario, alternating which goes first")
    parser.add_argument("--against-janus", action="store_true",
                        help="instead of pass-through vs baseline: the real server and Janus VideoRoom side by "
                             "side (fanout scenarios only; needs root: network namespaces)")
    parser.add_argument("--install-janus", action="store_true",
                        help="with --against-janus: apt-get install Debian's janus first if it is missing")
    parser.add_argument("--loopback-too", action="store_true",
                        help="with --against-janus: also run Lianshen on loopback in each repetition (what the "
                             "veth topology changes)")
    parser.add_argument("--reps", type=int, default=1,
                        help="with --against-janus: repetitions per scenario, alternating which system goes first")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--no-netns", action="store_true", help="do not re-run inside `unshare -n`")
    parser.add_argument("--nice", type=int, default=0,
                        help="scheduling priority for the bench and everything it starts (e.g. -10 on a "
                             "machine shared with other work, so the SFU and the bots are not starved)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (database, server logs)")
    parser.add_argument("--probe", action="store_true",
                        help="run the server under bench/sfu_probe.py: per-second forwarding and kernel UDP "
                             "counters in <workdir>/<run>.probe.jsonl (implies --keep)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 10.0, 2.0
    if args.probe:
        args.keep = True
    if args.against_janus and any(s.kind != "fanout" for s in args.scenarios):
        parser.error("--against-janus compares fanout:N scenarios (one publisher, N subscribers)")
    return args


def reexec_in_netns(argv: list[str]) -> None:
    """Re-run this script in a new network namespace whose only interface is loopback."""
    if os.environ.get(NETNS_ENV) or shutil.which("unshare") is None:
        return
    env = dict(os.environ, **{NETNS_ENV: "1", COMMAND_ENV: shlex.join(["python", "bench/sfu.py", *argv])})
    script = 'ip link set lo up && exec "$@"'
    os.execvpe("unshare", ["unshare", "-n", "sh", "-c", script, "sh", sys.executable, __file__, *argv], env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not args.no_netns and not args.against_janus:  # --against-janus makes its own namespaces
        reexec_in_netns(argv)
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # inherited by the server and the workers
    if args.install_janus:
        janus_bench.install()
    started = datetime.datetime.now().astimezone()
    t_start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="lianshen-bench-"))
    try:
        world = build_world(workdir)
        results: list[Result] = []
        soak: Result | None = None
        if args.soak is not None:
            scenario = Scenario("mesh", 6)
            print(f"soak: {scenario.label} pass-through for {args.soak:g} min", flush=True)
            soak = run_once(scenario, "passthrough", world, args, args.soak * 60, rss_every=30.0)
            print(progress(soak, 1, 1), flush=True)
        elif args.against_janus:
            results = janus_bench.run(args, world)
        elif args.forwarding_ab:
            plan = [(s, mode) for s in args.scenarios for rep in range(args.forwarding_ab)
                    for mode in (("frame", "packet") if rep % 2 == 0 else ("packet", "frame"))]
            for index, (scenario, mode) in enumerate(plan, 1):
                result = run_once(scenario, mode, world, args, args.duration)
                results.append(result)
                print(progress(result, index, len(plan)), flush=True)
        else:
            baseline = (args.baseline_scenarios or args.scenarios) if args.baseline else []
            plan = [(s, "passthrough") for s in args.scenarios] + [(s, "baseline") for s in baseline]
            plan.sort(key=lambda item: args.scenarios.index(item[0]) if item[0] in args.scenarios else 99)
            for index, (scenario, mode) in enumerate(plan, 1):
                result = run_once(scenario, mode, world, args, args.duration)
                results.append(result)
                print(progress(result, index, len(plan)), flush=True)
        text = write_results(args.results, args, results, soak, started, time.monotonic() - t_start)
        print()
        print(text)
        if args.against_janus:  # the machine-readable end of the run
            for row in janus_bench.comparison(results):
                print(json.dumps(row, ensure_ascii=False))
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
