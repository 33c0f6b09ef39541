"""Recording benchmark: how fast a recorded meeting is composed into one MP4.

Run by hand:

    .venv/bin/python bench/recorder.py                       # 4 sites x 10 minutes, 640x360, 25 fps
    .venv/bin/python bench/recorder.py --sites 2 --minutes 1 --no-append   # a quick look

The input is a recording directory as the live recorder leaves it: per site one VP8 WebM camera
track (640x360, 30 fps, ~600 kbps, the bot's moving test pattern: one 20 s clip whose packets are
repeated with advancing timestamps, so decoding costs what a real camera costs) and one Opus WebM
track (a tone: everyone is heard at once, the mixer's worst case), a manifest with speaker
changes every 15 s, a presentation and agenda/opinion chapters. It is generated once and cached
under /tmp (the track files are identical between runs). The timed part is
``recorder.compose.compose()`` only, on the wall clock, and the result is reported as "x real
time" (meeting duration / composition time). Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import shlex
import sys
import time
from datetime import UTC, timedelta
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recorder.compose import compose  # noqa: E402
from recorder.manifest import Manifest, TimelineEvent, TrackEntry  # noqa: E402
from server.bot.media import audio_clip, video_clip  # noqa: E402

CACHE = Path(os.environ.get("LIANSHEN_BENCH_CACHE", "/tmp/lianshen-bench-recorder"))
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
MS = Fraction(1, 1000)
ORIGIN = datetime.datetime(2026, 11, 29, 1, 30, tzinfo=UTC)
DEPARTMENTS = ("凤庆县发展和改革局", "凤庆县自然资源局", "临沧市生态环境局凤庆分局", "凤庆县住房和城乡建设局")
SPEAKER_EVERY_MS = 15_000
TARGET_X = 4.0


def _write_track(path: Path, clip, duration_ms: int, kind: str) -> None:  # type: ignore[no-untyped-def]
    """The clip's packets repeated to fill `duration_ms`, timestamps in recording ms (as the
    live recorder writes them). Each repetition starts with the clip's key frame."""
    container = av.open(str(path), "w", format="webm")
    if kind == "video":
        stream = container.add_mux_stream("vp8", width=640, height=360)
    else:
        stream = container.add_stream("libopus", rate=48000, layout="stereo")
    stream.time_base = MS
    frame_ms = float(clip.frame_duration * clip.time_base * 1000)
    count = int(duration_ms / frame_ms)
    for n in range(count):
        index = n % len(clip.frames)
        packet = av.Packet(clip.frames[index])
        packet.stream, packet.time_base = stream, MS
        packet.pts = packet.dts = round(n * frame_ms)
        packet.is_keyframe = clip.keyframes[index]
        container.mux(packet)
    container.close()


def _events(sites: int, duration_ms: int) -> list[TimelineEvent]:
    events = [TimelineEvent(at_ms=at, type="speaking_started",
                            payload={"participant_id": f"p{(at // SPEAKER_EVERY_MS) % sites}",
                                     "display_name": f"代表{(at // SPEAKER_EVERY_MS) % sites}"})
              for at in range(0, duration_ms, SPEAKER_EVERY_MS)]
    third = duration_ms // 3
    events += [
        TimelineEvent(at_ms=1000, type="agenda_item_opened", payload={"position": 1, "item_name": "企业投资项目备案"}),
        TimelineEvent(at_ms=third, type="presentation_started", payload={"title": "选址图", "participant_id": "p0"}),
        TimelineEvent(at_ms=third + 60_000, type="presentation_stopped", payload={"title": "选址图"}),
        TimelineEvent(at_ms=2 * third, type="opinion_submitted",
                      payload={"department_name": DEPARTMENTS[0], "kind": "conditional"}),
    ]
    return sorted(events, key=lambda e: e.at_ms)


def build_input(sites: int, minutes: float) -> Path:
    """The cached recording directory for this size (built on first use)."""
    duration_ms = int(minutes * 60_000)
    directory = CACHE / f"sites{sites}-min{minutes:g}"
    if (directory / "manifest.json").is_file():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    print(f"generating {sites} sites x {minutes:g} min under {directory} (once) ...", flush=True)
    video, audio = video_clip(seconds=20.0, width=640, height=360, fps=30), audio_clip(seconds=1.0)
    tracks = []
    for site in range(sites):
        for kind, clip, codec in (("video", video, "VP8"), ("audio", audio, "opus")):
            name = f"p{site}-{kind}.webm"
            _write_track(directory / name, clip, duration_ms, kind)
            data = (directory / name).read_bytes()
            tracks.append(TrackEntry(
                track_id=f"p{site}-{kind}", participant_id=f"p{site}", user_id=None,
                display_name=f"代表{site}", department=DEPARTMENTS[site % len(DEPARTMENTS)], unit=None,
                kind=kind, codec=codec, file=name, start_ms=0, end_ms=duration_ms, wall_start=ORIGIN,
                wall_end=ORIGIN + timedelta(milliseconds=duration_ms), duration_ms=duration_ms,
                size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), gaps=[], state="complete"))
    Manifest(recording_key="bench", meeting_id=1, meeting_title="基准测试会议", case_codes=[],
             started_at=ORIGIN, stopped_at=ORIGIN + timedelta(milliseconds=duration_ms),
             duration_ms=duration_ms, tracks=tracks, events=_events(sites, duration_ms),
             status="complete").write(directory)
    return directory


def _cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--preset", default="veryfast", help="libx264 preset")
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    source = build_input(args.sites, args.minutes)
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.1 or fraction >= 1.0:
            last[0] = fraction
            print(f"  {fraction:4.0%}", flush=True)

    load_before = os.getloadavg()[0]
    cpu, started = _cpu_seconds(), time.monotonic()
    output = compose(source, width=args.width, height=args.height, fps=args.fps, on_progress=progress,
                     force=True, preset=args.preset)
    elapsed, cpu = time.monotonic() - started, _cpu_seconds() - cpu
    meeting_s = args.minutes * 60
    speed = meeting_s / elapsed
    with av.open(str(output)) as check:
        streams = ", ".join(f"{s.type} {s.codec_context.name}" for s in check.streams if s.type != "data")
        duration = float(check.duration / 1e6)
        chapters = len(check.chapters())
    size_mb = output.stat().st_size / 1e6
    line = (f"| {args.sites} x {args.minutes:g} min | {args.width}x{args.height} @ {args.fps} | {args.preset} | "
            f"{elapsed:.1f} | **{speed:.2f}x** | {cpu / elapsed * 100:.0f} | {size_mb:.1f} | {duration:.1f} s; {streams}; "
            f"{chapters} chapters | {load_before:.2f} |")
    print(line)
    if args.no_append:
        return
    verdict = "PASS" if speed >= TARGET_X else "FAIL"
    command = "python bench/recorder.py " + shlex.join(sys.argv[1:])
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(f"\n## Recording: composition — {datetime.datetime.now(UTC):%Y-%m-%d %H:%M} UTC — `{command}`\n\n"
                  f"- Machine: {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}, "
                  f"av {av.__version__}; shared with other helpers' test runs (noisy: compare ratios, "
                  f"and see the load average before the run).\n"
                  f"- Input: {args.sites} sites, each a VP8 640x360 30 fps camera + an Opus track, all heard at "
                  f"once; speaker changes every {SPEAKER_EVERY_MS // 1000} s, a 60 s presentation.\n\n"
                  "| meeting | output | x264 preset | wall s | speed (meeting / wall) | CPU % of a core "
                  "| MP4 MB | output check | load avg 1 min before |\n"
                  "|---|---|---|---:|---:|---:|---:|---|---:|\n"
                  f"{line}\n\n"
                  f"Target: at least {TARGET_X:g}x real time for 4 sites x 10 min at 640x360: **{verdict}** "
                  f"({speed:.2f}x).\n")


if __name__ == "__main__":
    main()
