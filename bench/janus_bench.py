"""Janus VideoRoom as the yardstick for bench/sfu.py --against-janus: install, configure, run, report.

Debian's ``janus`` package (1.1.2 on bookworm) is installed by ``--install-janus`` through apt,
never built from a fetched tree. Each run gets its own configuration folder (``janus -F``) written
here, so nothing under /etc/janus is read:

- only the HTTP transport and the VideoRoom plugin are loaded (the plugin and transport folders
  given to Janus are folders of symlinks to just those two libraries; no event handlers, no
  external loggers, no admin API);
- one room (``ROOM``): one publisher, VP8 video and Opus audio, no recording, no periodic
  keyframe requests (``fir_freq = 0``; a joining subscriber still makes Janus ask for one), no
  bitrate cap; the rest are the plugin's defaults (it negotiates the audio-level, playout-delay
  and transport-wide-cc extensions and sends TWCC feedback to the publisher, as it does for users);
- ICE gathers only on the server namespace's veth (``ice_enforce_list``), IPv4, no STUN/TURN;
- logging at level 2 (errors) to the run's log file.

The comparison is ``passthrough`` (the real Lianshen server, as bench/sfu.py runs it) against
``janus``, with the same bots, clip, subscriber count and window, alternated within each
repetition; :func:`comparison` reduces the runs to one line per scenario.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sfu
from netns import Topology

ROOM = 1234
HTTP_PORT = 8088
LIBRARIES = Path("/usr/lib/x86_64-linux-gnu/janus")


def run(args: argparse.Namespace, world: sfu.World) -> list[sfu.Result]:
    """Every scenario ``args.reps`` times, Lianshen and Janus in each repetition, the order flipped
    every repetition, all inside one namespace pair (removed at the end, also on Ctrl-C).

    With ``args.loopback_too`` each repetition also runs Lianshen as the other bench modes do, on
    loopback (the client namespace's ``lo``, server and bots in one namespace): mode ``loopback``,
    which tells what the veth topology itself changes.
    """
    if not shutil.which("janus") or not (LIBRARIES / "plugins/libjanus_videoroom.so").exists():
        raise SystemExit("Janus is not installed: add --install-janus (Debian's janus package, through apt)")
    results: list[sfu.Result] = []
    modes = ("passthrough", "janus", *(("loopback",) if args.loopback_too else ()))
    plan = [(scenario, mode) for scenario in args.scenarios for rep in range(args.reps)
            for mode in (modes if rep % 2 == 0 else modes[::-1])]
    with Topology.create() as net:
        for index, (scenario, mode) in enumerate(plan, 1):
            if mode == "loopback":
                result = sfu.run_once(scenario, "passthrough", world, args, args.duration)
                result.mode = mode
            else:
                result = sfu.run_once(scenario, mode, world, args, args.duration, net=net)
            results.append(result)
            print(sfu.progress(result, index, len(plan)), flush=True)
    return results


def install() -> None:
    """``apt-get install -y janus`` (Debian's package), if the binary is not there yet."""
    if shutil.which("janus"):
        return
    subprocess.run(["apt-get", "install", "-y", "janus"], check=True,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def version() -> str:
    """``janus --version``'s version line, e.g. ``1.1.2``."""
    out = subprocess.run(["janus", "--version"], capture_output=True, text=True, timeout=30).stdout
    return next((line.split("(")[-1].rstrip(")") for line in out.splitlines() if "version" in line), "?")


def write_config(folder: Path, net: Topology) -> None:
    """The run's janus.jcfg, HTTP transport and VideoRoom configuration, and library folders."""
    for sub, library in (("plugins", "plugins/libjanus_videoroom.so"),
                         ("transports", "transports/libjanus_http.so"), ("none", None)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        if library is not None:
            (folder / library).symlink_to(LIBRARIES / library)
    (folder / "janus.jcfg").write_text(f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{folder / 'plugins'}"
    transports_folder = "{folder / 'transports'}"
    events_folder = "{folder / 'none'}"
    loggers_folder = "{folder / 'none'}"
    debug_level = 2
    session_timeout = 60
}}
certificates: {{
}}
media: {{
    ipv6 = false
}}
nat: {{
    nice_debug = false
    ice_enforce_list = "{net.server_if}"
}}
plugins: {{
}}
transports: {{
}}
loggers: {{
}}
events: {{
    broadcast = false
}}
""")
    (folder / "janus.transport.http.jcfg").write_text(f"""general: {{
    json = "plain"
    base_path = "/janus"
    http = true
    port = {HTTP_PORT}
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text(f"""general: {{
}}
room-{ROOM}: {{
    description = "lianshen bench"
    publishers = 1
    bitrate = 0
    fir_freq = 0
    audiocodec = "opus"
    videocodec = "vp8"
    record = false
    notify_joining = false
}}
""")


def start(net: Topology, folder: Path, log: Path) -> subprocess.Popen[bytes]:
    """Janus in the server namespace (``ip netns exec`` execs it: the pid is Janus's own)."""
    write_config(folder, net)
    handle = log.open("wb")
    return subprocess.Popen([*net.exec_prefix(), "janus", "-F", str(folder), "-o"],
                            stdout=handle, stderr=subprocess.STDOUT)


def api_url(net: Topology) -> str:
    return f"http://{net.server_address}:{HTTP_PORT}/janus"


# -- report ----------------------------------------------------------------------------------------

@dataclass
class Side:
    """One scenario's runs: each system's successful runs, and the repetitions where both succeeded."""

    lianshen: list[sfu.Result]
    janus: list[sfu.Result]
    ratios: list[float]
    """Each repetition's Lianshen CPU over its Janus CPU (the pair shared the machine's load)."""

    @classmethod
    def of(cls, results: list[sfu.Result], label: str) -> Side:
        # the i-th run of each system in a scenario is repetition i (bench order), failed or not
        runs = [[r for r in results if r.scenario.label == label and r.mode == mode]
                for mode in ("passthrough", "janus")]
        ratios = [p.server_cpu_pct / j.server_cpu_pct for p, j in zip(*runs, strict=False)
                  if not p.error and not j.error and j.server_cpu_pct > 0]
        lianshen, janus = ([r for r in rs if not r.error] for rs in runs)
        return cls(lianshen, janus, ratios)


def comparison(results: list[sfu.Result]) -> list[dict[str, Any]]:
    """Per scenario, the JSON line of the run: median server CPU of each system, the median of the
    per-repetition ratios, and the worst subscriber's video frame rate in any run of each system."""
    out = []
    for label in dict.fromkeys(r.scenario.label for r in results):
        side = Side.of(results, label)
        out.append({
            "scenario": label,
            "lianshen_cpu": _round(_median([r.server_cpu_pct for r in side.lianshen])),
            "janus_cpu": _round(_median([r.server_cpu_pct for r in side.janus])),
            "ratio": _round(_median(side.ratios), 2),
            "lianshen_fps_min": _round(_fps_min(side.lianshen)),
            "janus_fps_min": _round(_fps_min(side.janus)),
            "reps": len(side.ratios),
        })
    return out


def section(results: list[sfu.Result]) -> list[str]:
    """bench/RESULTS.md lines after the per-run table: the side-by-side summary and the target."""
    rows = comparison(results)
    ratios = [row["ratio"] for row in rows if row["ratio"] is not None]
    verdict = f" → **{'PASS' if max(ratios) <= 1.0 else 'FAIL'}**" if ratios else ""
    return ["Lianshen (the real server, `python -m server serve`) against Janus VideoRoom (Debian's janus, "
            "HTTP transport + VideoRoom only, one VP8 + Opus room, no recording), the same bots and clip, "
            "alternated in each repetition (order flipped every repetition); both served from the server "
            "namespace, bots in the client namespace (veth). CPU is utime+stime of the server process over "
            "the window, % of a core; the ratio is the median of the repetitions' Lianshen / Janus (same "
            "subscriber count, so it is the ratio of CPU per forwarded stream):", "", *table(results), "",
            "Target (issue 15): server CPU per forwarded stream ≤ 1.0x Janus — "
            + ("; ".join(f"{row['scenario']}: {sfu.fmt(row['ratio'], 2)}x" for row in rows) or "no pair ran")
            + verdict + ".", "", *_loopback_lines(results)]


def _loopback_lines(results: list[sfu.Result]) -> list[str]:
    """Lianshen behind the veth pair against Lianshen on loopback, if --loopback-too ran."""
    lines = []
    for label in dict.fromkeys(r.scenario.label for r in results if r.mode == "loopback"):
        cpu = {mode: [r.server_cpu_pct for r in results
                      if r.scenario.label == label and r.mode == mode and not r.error]
               for mode in ("passthrough", "loopback")}
        lines.append(f"- {label}: Lianshen behind veth {sfu.fmt(_median(cpu['passthrough']))} % "
                     f"({', '.join(sfu.fmt(v) for v in cpu['passthrough'])}), on loopback "
                     f"{sfu.fmt(_median(cpu['loopback']))} % ({', '.join(sfu.fmt(v) for v in cpu['loopback'])}).")
    return ["Lianshen on loopback (`--loopback-too`: server and bots in the client namespace on `lo`, as "
            "the other bench modes run, alternated with the runs above):", "", *lines, ""] if lines else []


def table(results: list[sfu.Result]) -> list[str]:
    """The markdown summary: medians and every run, per scenario."""
    lines = ["| scenario | reps | Lianshen CPU % (runs) | Janus CPU % (runs) | Lianshen / Janus median (per rep) "
             "| video fps min Lianshen / Janus | lost video % max Lianshen / Janus "
             "| user / system % (median) Lianshen; Janus |",
             "|---|---:|---|---|---|---|---|---|"]
    for label in dict.fromkeys(r.scenario.label for r in results):
        side = Side.of(results, label)

        def cpu(runs: list[sfu.Result]) -> str:
            values = [r.server_cpu_pct for r in runs]
            return f"{sfu.fmt(_median(values))} ({', '.join(sfu.fmt(v) for v in values)})"

        def lost(runs: list[sfu.Result]) -> str:
            return sfu.fmt(max((r.video_lost_pct for r in runs), default=math.nan), 2)

        def split(runs: list[sfu.Result]) -> str:
            return (f"{sfu.fmt(_median([r.server_user_pct for r in runs]))} / "
                    f"{sfu.fmt(_median([r.server_system_pct for r in runs]))}")

        lines.append(f"| {label} | {len(side.ratios)} | {cpu(side.lianshen)} | {cpu(side.janus)} "
                     f"| {sfu.fmt(_median(side.ratios), 2)} ({', '.join(sfu.fmt(x, 2) for x in side.ratios)}) "
                     f"| {sfu.fmt(_fps_min(side.lianshen))} / {sfu.fmt(_fps_min(side.janus))} "
                     f"| {lost(side.lianshen)} / {lost(side.janus)} | {split(side.lianshen)}; {split(side.janus)} |")
    return lines


def _fps_min(runs: list[sfu.Result]) -> float:
    return min((min(r.video_fps) for r in runs if r.video_fps), default=math.nan)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _round(value: float, digits: int = 1) -> float | None:
    return None if math.isnan(value) else round(value, digits)
