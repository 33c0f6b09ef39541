"""Recording directories for composition tests: real VP8/Opus WebM tracks and a manifest.

Tracks are encoded with PyAV (libvpx, libopus) and muxed the way the live recorder writes them:
WebM with millisecond timestamps on the recording timeline. Pictures are flat grey with white
"flash" frames, sound is silence with 1 kHz beeps, flashes and beeps at the same instants, so the
composed file's audio/video offset can be measured by decoding it.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import itertools
import math
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from recorder.manifest import Manifest, TimelineEvent, TrackEntry

MS = Fraction(1, 1000)
RATE = 48000
GREY, WHITE = 60, 235
BEEP_HZ = 1000
BEEP_MS = 80
ORIGIN = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
SPEAKER = (400, "speaking_started", {"participant_id": "p1", "user_id": 3, "display_name": "王发改"})
AGENDA = (1200, "agenda_item_opened", {"position": 1, "item_name": "企业投资项目备案", "project_code": "x"})
OPINION = (2600, "opinion_submitted", {
    "opinion_id": "op-01", "revision": 1, "project_code": "x", "item_name": "企业投资项目备案",
    "department_code": "FQ-FGJ", "post": "A", "kind": "agree", "text": "同意。", "conditions": [], "reasons": "",
    "legal_basis": "", "remedy_notice": "", "refer_to": None})
"""Events of the record placed on a recording: a speaker, an item opening, an opinion (chapters)."""


def _plane_fill(frame: av.VideoFrame, luma: int) -> av.VideoFrame:
    for plane, value in zip(frame.planes, (luma, 128, 128)):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def write_video(path: Path, *, seconds: float, width: int = 320, height: int = 180,
                fps: int = 25, flashes_ms: Sequence[int] = (), luma: int = GREY) -> None:
    """A VP8 WebM track: flat `luma` frames, white at the flash instants (track-relative ms)."""
    container = av.open(str(path), "w", format="webm")
    stream = container.add_stream("libvpx", rate=fps, options={"deadline": "realtime", "cpu-used": "8"})
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.time_base = Fraction(1, fps)
    stream.time_base = MS
    plain = _plane_fill(av.VideoFrame(width, height, "yuv420p"), luma)
    white = _plane_fill(av.VideoFrame(width, height, "yuv420p"), WHITE)
    frame_ms = 1000 / fps

    def frames() -> Iterator[av.VideoFrame]:
        for index in range(int(seconds * fps)):
            frame = white if any(f <= index * frame_ms < f + frame_ms for f in flashes_ms) else plain
            frame.pts, frame.time_base = index, Fraction(1, fps)
            yield frame

    _encode_into(container, stream, frames())


def _encode_into(container: av.container.OutputContainer, stream: av.stream.Stream,
                 frames: Iterable[av.VideoFrame | av.AudioFrame]) -> None:
    """Encode every frame (and flush), timestamps in milliseconds from 0, and close the file."""
    for frame in itertools.chain(frames, [None]):  # lazily: the video frames are reused objects
        for packet in stream.encode(frame):
            _shift(packet, 0)
            container.mux(packet)
    container.close()


def _shift(packet: av.Packet, start_ms: int) -> None:
    """Onto the recording timeline (the live recorder stores timeline milliseconds)."""
    base = packet.time_base
    for name in ("pts", "dts"):
        value = getattr(packet, name)
        if value is not None:
            setattr(packet, name, start_ms + round(value * base * 1000))
    packet.time_base = MS


def beep_pcm(seconds: float, beeps_ms: Sequence[int]) -> bytes:
    """Mono s16 PCM: silence with BEEP_MS of 1 kHz at each beep instant."""
    samples = int(seconds * RATE)
    out = bytearray(samples * 2)
    for beep in beeps_ms:
        first = beep * RATE // 1000
        for n in range(first, min(samples, first + BEEP_MS * RATE // 1000)):
            struct.pack_into("<h", out, n * 2, int(12000 * math.sin(2 * math.pi * BEEP_HZ * (n - first) / RATE)))
    return bytes(out)


def write_audio(path: Path, *, seconds: float, beeps_ms: Sequence[int] = ()) -> None:
    """An Opus WebM track with beeps at the given (track-relative) instants."""
    container = av.open(str(path), "w", format="webm")
    stream = container.add_stream("libopus", rate=RATE, layout="mono")
    stream.time_base = MS
    pcm = beep_pcm(seconds, beeps_ms)
    chunk = 960

    def frames() -> Iterator[av.AudioFrame]:
        for index in range(len(pcm) // (chunk * 2)):
            frame = av.AudioFrame(format="s16", layout="mono", samples=chunk)
            frame.planes[0].update(pcm[index * chunk * 2:(index + 1) * chunk * 2])
            frame.sample_rate, frame.pts, frame.time_base = RATE, index * chunk, Fraction(1, RATE)
            yield frame

    _encode_into(container, stream, frames())


def remux(source: Path, target: Path, offset_ms: int) -> None:
    """Copy a track file with its timestamps moved onto the recording timeline (no re-encoding)."""
    with av.open(str(source)) as inp, av.open(str(target), "w", format="webm") as out:
        stream = out.add_stream_from_template(inp.streams[0])
        stream.time_base = MS
        for packet in inp.demux(inp.streams[0]):
            if packet.dts is None:
                continue
            _shift(packet, offset_ms)
            packet.stream = stream
            out.mux(packet)


@dataclass
class Track:
    """A track to put in a recording: `source` is an encoded file to copy in."""

    track_id: str
    participant_id: str
    display_name: str
    kind: str
    source: Path
    start_ms: int
    end_ms: int
    department: str | None = "凤庆县发展和改革局"
    gaps: list[dict[str, int]] = field(default_factory=list)


def build_recording(directory: Path, tracks: Sequence[Track], events: Sequence[tuple[int, str, dict[str, Any]]],
                    *, duration_ms: int, meeting_id: int = 1, key: str = "rec-1") -> Path:
    """A recording directory as the live recorder leaves it: track files and manifest.json."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for track in tracks:
        name = f"{track.track_id}.webm"
        remux(track.source, directory / name, track.start_ms)
        data = (directory / name).read_bytes()
        entries.append(TrackEntry(
            track_id=track.track_id, participant_id=track.participant_id, user_id=None,
            display_name=track.display_name, department=track.department, unit=None, kind=track.kind,
            codec="opus" if track.kind == "audio" else "VP8", file=name, start_ms=track.start_ms,
            end_ms=track.end_ms, wall_start=ORIGIN + timedelta(milliseconds=track.start_ms),
            wall_end=ORIGIN + timedelta(milliseconds=track.end_ms),
            duration_ms=track.end_ms - track.start_ms, size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(), gaps=track.gaps, state="complete"))
    Manifest(recording_key=key, meeting_id=meeting_id, meeting_title="小湾生态渔业鱼制品加工厂建设项目并联审批会议",
             case_codes=["2603-530921-04-01-512345"], started_at=ORIGIN,
             stopped_at=ORIGIN + timedelta(milliseconds=duration_ms), duration_ms=duration_ms,
             tracks=entries, events=[TimelineEvent(at_ms=at, type=type_, payload=payload)
                                     for at, type_, payload in events],
             status="complete").write(directory)
    return directory


def video_flash_times(path: Path, threshold: int = 180) -> list[float]:
    """Seconds at which the composed picture turns bright (mean luma above `threshold`)."""
    times, bright = [], False
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            plane = frame.planes[0]
            mean = sum(bytes(plane)) / plane.buffer_size
            if mean > threshold and not bright:
                times.append(float(frame.time))
            bright = mean > threshold
    return times


def audio_onsets(path: Path, window_ms: int = 2, threshold: float = 0.05) -> list[float]:
    """Seconds at which the composed sound turns loud (onsets at least 300 ms apart)."""
    from array import array

    onsets: list[float] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    window = RATE * window_ms // 1000
    with av.open(str(path)) as container:
        for decoded in container.decode(container.streams.audio[0]):
            for frame in resampler.resample(decoded):
                samples = array("f")
                samples.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
                for start in range(0, len(samples) - window + 1, window):
                    peak = max(abs(v) for v in samples[start:start + window])
                    at = float(frame.time) + start / RATE
                    if peak > threshold and (not onsets or at - onsets[-1] > 0.3):
                        onsets.append(at)
    return onsets


def region_luma(frame: av.VideoFrame, x: int, y: int, w: int, h: int) -> float:
    """Mean luma of a rectangle of a decoded frame."""
    plane = frame.planes[0]
    data, stride = bytes(plane), plane.line_size
    return sum(sum(data[row * stride + x:row * stride + x + w]) for row in range(y, y + h)) / (w * h)


def frames_at(path: Path, seconds: Sequence[float]) -> dict[float, av.VideoFrame]:
    """The composed frames shown at the given instants."""
    wanted, found = sorted(seconds), {}
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            for at in wanted:
                if at not in found and float(frame.time) >= at - 1e-6:
                    found[at] = frame
    return found


@dataclass(frozen=True)
class Sources:
    """Encoded track files, made once per test session (encoding is the slow part)."""

    folder: Path
    flashes_ms: tuple[int, ...] = (1000, 3040)

    @property
    def cam_a(self) -> Path:  # grey 16:9 camera with flashes
        return self.folder / "cam_a.webm"

    @property
    def mic_a(self) -> Path:  # beeps at the flashes
        return self.folder / "mic_a.webm"

    @property
    def cam_b(self) -> Path:  # brighter 4:3 camera
        return self.folder / "cam_b.webm"

    @property
    def mic_b(self) -> Path:  # silence
        return self.folder / "mic_b.webm"

    @property
    def screen(self) -> Path:  # a 640x360 screen share
        return self.folder / "screen.webm"


CAM_B_LUMA, SCREEN_LUMA = 160, 110


@functools.cache
def sources() -> Sources:
    folder = Path(tempfile.mkdtemp(prefix="compose-sources-"))
    atexit.register(shutil.rmtree, folder, True)
    made = Sources(folder)
    write_video(made.cam_a, seconds=6, flashes_ms=made.flashes_ms)
    write_audio(made.mic_a, seconds=6, beeps_ms=made.flashes_ms)
    write_video(made.cam_b, seconds=6, width=320, height=240, luma=CAM_B_LUMA)
    write_audio(made.mic_b, seconds=6)
    write_video(made.screen, seconds=3, width=640, height=360, luma=SCREEN_LUMA)
    return made
