"""`lianshen recording list | compose | verify`: the recordings in the data directory.

Operator commands on the server's own files (no account needed: whoever can run them can read the
data directory anyway). A recording is named by its key (``M7-20261129-R1``); a key that is not
one, or that names no recording, is refused with a message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recorder.errors import RecorderError
from recorder.manifest import Manifest
from server.recording.store import KEY_PATTERN, find_recording, recordings_root
from server.settings import load_settings


def _root(args: argparse.Namespace) -> Path:
    overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
    return recordings_root(load_settings(**overrides).data_dir)


def _recording(args: argparse.Namespace) -> Path | None:
    directory = find_recording(_root(args), args.key)
    if directory is None:
        why = "no such recording" if KEY_PATTERN.fullmatch(args.key) else "not a recording key (like M7-20261129-R1)"
        print(f"error: {args.key}: {why}", file=sys.stderr)
    return directory


def _describe(directory: Path) -> tuple[str, str, str, str, str]:
    """status, started, duration, tracks, size of one recording directory."""
    try:
        manifest = Manifest.load(directory)
    except RecorderError as exc:
        has_journal = (directory / "journal.jsonl").exists()
        status = "running/interrupted" if has_journal and "no manifest" in str(exc) else "invalid"
        return status, "", "", "", ""
    size = sum(track.size_bytes for track in manifest.tracks)
    seconds = manifest.duration_ms // 1000
    return (manifest.status, manifest.started_at.strftime("%Y-%m-%d %H:%M:%SZ"),
            f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}", str(len(manifest.tracks)),
            f"{size / (1 << 20):.1f} MiB")


def cmd_list(args: argparse.Namespace) -> int:
    root = _root(args)
    folders = [root / str(args.meeting)] if args.meeting is not None else sorted(
        (p for p in root.iterdir() if p.is_dir()), key=lambda p: (len(p.name), p.name)) if root.is_dir() else []
    rows = [(directory.name, folder.name, *_describe(directory))
            for folder in folders if folder.is_dir()
            for directory in sorted(folder.iterdir()) if directory.is_dir()]
    if not rows:
        print("no recordings" + (f" of meeting {args.meeting}" if args.meeting is not None else ""))
        return 0
    header = ("recording", "meeting", "status", "started (UTC)", "duration", "tracks", "size")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from recorder.verify import verify

    directory = _recording(args)
    if directory is None:
        return 2
    try:
        report = verify(directory)
    except RecorderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for check in report.tracks:
        entry = check.entry
        verdict = "ok" if check.ok else "FAILED: " + "; ".join(check.problems)
        print(f"{entry.file}: {entry.display_name} {entry.kind} {entry.codec}, {check.decoded.frames} frames, "
              f"{entry.start_ms}-{entry.end_ms} ms, {entry.state}: {verdict}")
    for name in report.unlisted:
        print(f"{name}: not in the manifest (left alone)")
    print(f"{report.manifest.recording_key}: " + ("verified" if report.ok else "PROBLEMS FOUND"))
    return 0 if report.ok else 1


def cmd_compose(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from recorder.compose import ComposeError, compose

    directory = _recording(args)
    if directory is None:
        return 2
    with tqdm(total=1000, desc=f"composing {args.key}", unit="‰", file=sys.stderr) as bar:
        def progress(fraction: float) -> None:
            bar.update(max(0, round(fraction * 1000) - bar.n))

        try:
            output = compose(directory, width=args.width, height=args.height, fps=args.fps,
                             on_progress=progress, force=args.force)
        except ComposeError as exc:
            bar.close()
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(output)
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    recording = subparsers.add_parser("recording", help="list, compose and verify recordings",
                                      description="Recordings in the data directory.")
    commands = recording.add_subparsers(dest="recording_command", required=True, metavar="COMMAND")

    def data_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data directory (default from settings)")

    p = commands.add_parser("list", help="list recordings", description="List recordings with their "
                            "status (complete, recovered, running/interrupted, invalid).")
    p.add_argument("--meeting", type=int, metavar="ID", help="only this meeting's recordings")
    data_dir(p)
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("compose", help="compose a recording into one video",
                            description="Compose a recording into composed/meeting.mp4 (progress on stderr).")
    p.add_argument("key", metavar="ID", help="recording key, e.g. M7-20261129-R1")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--force", action="store_true", help="compose again over an existing result")
    data_dir(p)
    p.set_defaults(func=cmd_compose)

    p = commands.add_parser("verify", help="check a recording's files",
                            description="Check every track file: present, SHA-256 and size as in the "
                                        "manifest, decodes completely, on its place in the timeline. "
                                        "Exit status 1 when a problem is found.")
    p.add_argument("key", metavar="ID", help="recording key, e.g. M7-20261129-R1")
    data_dir(p)
    p.set_defaults(func=cmd_verify)
