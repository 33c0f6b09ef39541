"""One composition of one recording: checks, the lock, progress in status.json, the output file.

The composed directory holds meeting.mp4, chapters.json and status.json. The MP4 is written under a
temporary name and renamed when complete, so a reader (the playback page, a download) sees the old
file or the new one, never a half-written one; a finished file is only replaced when asked to
(``force``). A lock file holding the composer's process id refuses a second composition of the
same recording while one runs (in this process or another, e.g. the CLI next to the server); a
lock left by a process that died is taken over.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recorder.compose.audio import RATE, AudioTrack, Mixer
from recorder.compose.errors import ComposeBusy, ComposeError
from recorder.compose.output import VIDEO_PRESET, Mp4Writer
from recorder.compose.sources import TrackReader, VideoTrack
from recorder.compose.timeline import Span, chapters, container_chapters, layout
from recorder.compose.video import Compositor
from recorder.errors import RecorderError
from recorder.manifest import Manifest, TrackEntry, write_atomic

COMPOSED_DIR = "composed"
OUTPUT_NAME = "meeting.mp4"
STATUS_NAME = "status.json"
CHAPTERS_NAME = "chapters.json"
LOCK_NAME = ".compose.lock"
STATUS_INTERVAL_S = 1.0
HASH_CHUNK = 1 << 20


def composed_dir(recording_dir: Path) -> Path:
    return Path(recording_dir) / COMPOSED_DIR


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_status(recording_dir: Path, **fields: Any) -> None:
    """Replace status.json (atomically) with the given fields."""
    folder = composed_dir(recording_dir)
    folder.mkdir(exist_ok=True)
    write_atomic(folder / STATUS_NAME, json.dumps(fields, ensure_ascii=False))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_holder(recording_dir: Path) -> int | None:
    """The process id composing this recording now, or None."""
    try:
        pid = int((composed_dir(recording_dir) / LOCK_NAME).read_text().strip() or "0")
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid > 0 and _pid_alive(pid) else None


STATES = ("none", "queued", "running", "done", "failed")
_UNREADABLE = "status.json 无法读取 / status.json is unreadable"


def _when(value: Any) -> str | None:
    try:
        return datetime.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None


def read_status(recording_dir: Path) -> dict[str, Any]:
    """The job status (state, progress, message, started_at, finished_at), whatever status.json
    holds; a running state whose composer is gone reads as failed.

    The composer writes its last status before it lets go of the lock, so a "running" read just
    before it finished and a lock found gone just after would look like a composer that died:
    the status is read again once the lock is found gone, and only a second "running" is one."""
    status = _stored_status(recording_dir)
    if status["state"] == "running" and lock_holder(recording_dir) is None:
        status = _stored_status(recording_dir)
        if status["state"] == "running":
            status.update(state="failed", message="合成被中断 / the composition was interrupted")
    return status


def _stored_status(recording_dir: Path) -> dict[str, Any]:
    """What status.json holds, normalised (anything unreadable is a failure saying so)."""
    try:
        raw = json.loads((composed_dir(recording_dir) / STATUS_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        done = (composed_dir(recording_dir) / OUTPUT_NAME).is_file()
        raw = {"state": "done" if done else "none", "progress": 1.0 if done else 0.0}
    except (OSError, ValueError):
        raw = {"state": "failed", "message": _UNREADABLE}
    if not isinstance(raw, dict) or raw.get("state") not in STATES:
        raw = {"state": "failed", "message": _UNREADABLE}
    progress = raw.get("progress")
    status = {"state": raw["state"], "message": str(raw.get("message") or ""),
              "progress": min(1.0, max(0.0, float(progress))) if isinstance(progress, (int, float)) else 0.0,
              "started_at": _when(raw.get("started_at")), "finished_at": _when(raw.get("finished_at"))}
    return status


class _Lock:
    def __init__(self, recording_dir: Path) -> None:
        self.path = composed_dir(recording_dir) / LOCK_NAME

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(exist_ok=True)
        for _ in range(2):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if lock_holder(self.path.parent.parent) is not None:
                    raise ComposeBusy("该录像正在合成中 / this recording is already being composed") from None
                self.path.unlink(missing_ok=True)  # left by a composer that died
                continue
            with os.fdopen(handle, "w") as out:
                out.write(str(os.getpid()))
            return self
        raise ComposeBusy("该录像正在合成中 / this recording is already being composed")

    def __exit__(self, *_exc: object) -> None:
        self.path.unlink(missing_ok=True)


def load_manifest(recording_dir: Path) -> Manifest:
    try:
        return Manifest.load(recording_dir)
    except RecorderError as exc:
        raise ComposeError(f"无法合成：清单缺失或无效 / cannot compose: {exc}") from None


def track_path(recording_dir: Path, track: TrackEntry) -> Path:
    """The track's file, which must be a plain name inside the recording directory."""
    name = track.file
    if not name or Path(name).name != name or name in (".", "..") or name.startswith("."):
        raise ComposeError(f"清单中的文件名无效 / the manifest names an invalid track file: {name!r}")
    return Path(recording_dir) / name


def _check_track(recording_dir: Path, track: TrackEntry) -> Path:
    """The file must be the one the manifest describes (size and SHA-256): a truncated or
    altered file is refused before anything is written."""
    path = track_path(recording_dir, track)
    if not path.is_file():
        raise ComposeError(f"轨道文件缺失 / track file missing: {track.file}")
    size = path.stat().st_size
    if size != track.size_bytes:
        raise ComposeError(f"轨道文件已损坏或被截断 / track file {track.file} is truncated or damaged: "
                           f"{size} bytes, the manifest says {track.size_bytes}")
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(HASH_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != track.sha256:
        raise ComposeError(f"轨道文件校验不符 / track file {track.file} does not match its SHA-256 "
                           "in the manifest")
    return path


class _Progress:
    """Throttled progress: status.json at most once a second, the callback on every 1 %."""

    def __init__(self, recording_dir: Path, started_at: str,
                 callback: Callable[[float], None] | None) -> None:
        self.recording_dir, self.started_at, self.callback = recording_dir, started_at, callback
        self._written, self._reported = 0.0, -1.0

    def __call__(self, fraction: float) -> None:
        if self.callback is not None and fraction - self._reported >= 0.01:
            self._reported = fraction
            self.callback(fraction)
        if time.monotonic() - self._written >= STATUS_INTERVAL_S:
            self._written = time.monotonic()
            write_status(self.recording_dir, state="running", progress=round(fraction, 3), message="",
                         started_at=self.started_at, finished_at=None)


def compose(recording_dir: Path, *, width: int = 640, height: int = 360, fps: int = 25,
            on_progress: Callable[[float], None] | None = None, force: bool = False,
            preset: str = VIDEO_PRESET) -> Path:
    """Compose the recording in ``recording_dir`` into composed/meeting.mp4 and return its path.

    ComposeError (nothing overwritten) for a missing or invalid manifest, a missing, truncated or
    unreadable track, a finished output without ``force``; ComposeBusy if already running.
    """
    recording_dir = Path(recording_dir)
    if width % 2 or height % 2 or not (64 <= width <= 3840 and 64 <= height <= 2160) or not 1 <= fps <= 60:
        raise ComposeError(f"输出尺寸或帧率无效 / invalid output size or rate: {width}x{height} @ {fps}")
    manifest = load_manifest(recording_dir)
    folder = composed_dir(recording_dir)
    with _Lock(recording_dir):
        output = folder / OUTPUT_NAME
        if output.exists() and not force:
            raise ComposeError("合成视频已存在；如需重新合成请使用强制选项 / the composed video already exists; "
                               "use force to compose it again")
        started_at = _now()
        write_status(recording_dir, state="running", progress=0.0, message="", started_at=started_at,
                     finished_at=None)
        temporary = folder / f".{OUTPUT_NAME}.part"
        try:
            warnings = _compose_into(recording_dir, manifest, temporary, width, height, fps, preset,
                                     _Progress(recording_dir, started_at, on_progress))
            os.replace(temporary, output)
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            message = str(exc) if isinstance(exc, ComposeError) else f"合成失败 / composition failed: {exc!r}"
            write_status(recording_dir, state="failed", progress=0.0, message=message,
                         started_at=started_at, finished_at=_now())
            raise
        write_status(recording_dir, state="done", progress=1.0, message="; ".join(warnings),
                     started_at=started_at, finished_at=_now())
    if on_progress is not None:
        on_progress(1.0)
    return output


def _compose_into(recording_dir: Path, manifest: Manifest, target: Path, width: int, height: int,
                  fps: int, preset: str, progress: Callable[[float], None]) -> list[str]:
    paths = {t.track_id: _check_track(recording_dir, t) for t in manifest.tracks}
    duration_ms = manifest.duration_ms or max((t.end_ms for t in manifest.tracks), default=0)
    if duration_ms <= 0:
        raise ComposeError("录像时长为零 / the recording is empty (zero duration)")
    readers: dict[str, TrackReader] = {}
    left_out: list[str] = []
    try:
        for track in manifest.tracks:
            try:
                readers[track.track_id] = TrackReader(paths[track.track_id], track.kind, track.start_ms, track.file)
            except ComposeError as exc:
                if track.state != "damaged":
                    raise
                # the recorder or recovery already found this file broken: the meeting is still
                # composed from the other sites, and the status says what is missing
                left_out.append(f"轨道 {track.file} 已损坏，未合成 / damaged track left out: {exc}")
        tracks = [t for t in manifest.tracks if t.track_id in readers]
        spans = layout(tracks, manifest.events, duration_ms)
        marks = chapters(manifest.events, duration_ms)
        visual = {t.track_id: VideoTrack(readers[t.track_id]) for t in tracks if t.kind != "audio"}
        heard = [AudioTrack(readers[t.track_id]) for t in tracks if t.kind == "audio"]
        writer = Mp4Writer(target, width=width, height=height, fps=fps, title=manifest.meeting_title,
                           chapters=container_chapters(marks, duration_ms), preset=preset)
        try:
            _render(spans, visual, Mixer(heard, duration_ms * RATE // 1000), writer, Compositor(width, height, fps),
                    fps, duration_ms, progress)
            writer.finish()
            write_atomic(composed_dir(recording_dir) / CHAPTERS_NAME, json.dumps(
                {"duration_ms": duration_ms, "chapters": [c.as_json() for c in marks]}, ensure_ascii=False))
        except BaseException:
            writer.abort()
            raise
    finally:
        for reader in readers.values():
            reader.close()
    return left_out + [problem for reader in readers.values() for problem in reader.problems]


def _render(spans: list[Span], visual: dict[str, VideoTrack], mixer: Mixer, writer: Mp4Writer,
            compositor: Compositor, fps: int, duration_ms: int,
            progress: Callable[[float], None]) -> None:
    """Frame after frame: the span's tiles at that instant, then the audio up to it."""
    total = math.ceil(duration_ms * fps / 1000)
    half_frame_ms = 500 / fps
    span_index = 0
    for index in range(total):
        at_ms = index * 1000 / fps
        while span_index + 1 < len(spans) and spans[span_index].end_ms <= at_ms:
            span_index += 1
        span = spans[span_index]
        large = visual[span.large].frame_at(at_ms + half_frame_ms) if span.large else None
        small = [f for f in (visual[t].frame_at(at_ms + half_frame_ms) for t in span.small) if f is not None]
        writer.video(compositor.compose(large, small, index))
        until = (index + 1) * RATE // fps
        while mixer.position < until and (frame := mixer.next_frame()) is not None:
            writer.audio(frame)
        progress(index / total)
    while (frame := mixer.next_frame()) is not None:
        writer.audio(frame)
