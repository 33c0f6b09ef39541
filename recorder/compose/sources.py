"""Decoded media of one track, placed on the recording's timeline.

Each track is decoded in its own thread (PyAV decodes without holding the GIL), so on a machine
with two cores decoding the sites overlaps with encoding the result. Frames are handed over
through a bounded queue: memory stays at a few frames per track however long the meeting is.
A frame's place on the timeline is the track's start_ms plus its own time since the track's first
frame, so gaps written into the file as jumps in its timestamps stay gaps.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av

from recorder.compose.errors import ComposeError

QUEUE_FRAMES = 16
_END = object()


@dataclass
class Placed:
    """A decoded frame and where it belongs on the recording timeline."""

    at_ms: float
    frame: av.VideoFrame | av.AudioFrame


class TrackReader:
    """Decodes one track file in a background thread; `next()` returns placed frames in order,
    or None at the end. Unreadable data stops the track early and is reported in `problems`."""

    def __init__(self, path: Path, kind: str, start_ms: int, label: str) -> None:
        self.path, self.kind, self.start_ms, self.label = path, kind, start_ms, label
        self.problems: list[str] = []
        self._queue: queue.Queue[object] = queue.Queue(QUEUE_FRAMES)
        self._stop = threading.Event()
        self._container = open_track(path, kind, label)
        self._thread = threading.Thread(target=self._run, name=f"decode {label}", daemon=True)
        self._thread.start()

    def _frames(self) -> Iterator[av.VideoFrame | av.AudioFrame]:
        stream = _stream(self._container, self.kind)
        stream.codec_context.thread_type = "AUTO"  # what the stream's attribute setter forwards to
        for packet in self._container.demux(stream):
            try:
                # A packet of an audio or a video stream decodes to frames of that kind, never subtitles.
                yield from cast(list[av.VideoFrame | av.AudioFrame], packet.decode())
            except av.error.FFmpegError as exc:  # a damaged packet: skip it, keep the track
                if len(self.problems) < 5:
                    self.problems.append(f"{self.label}: {exc}")

    def _run(self) -> None:
        first: float | None = None
        try:
            for frame in self._frames():
                if frame.time is None:
                    continue
                first = frame.time if first is None else first
                if not self._put(Placed(self.start_ms + (frame.time - first) * 1000, frame)):
                    return
        except av.error.FFmpegError as exc:  # truncated or corrupt beyond this point
            self.problems.append(f"{self.label}: {exc}")
        finally:
            self._container.close()
            self._put(_END)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> Placed | None:
        item = self._queue.get()
        if item is _END:
            self._queue.put(_END)  # stay at the end for later calls
            return None
        assert isinstance(item, Placed)
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _stream(container: av.container.InputContainer, kind: str) -> av.stream.Stream:
    streams = container.streams.audio if kind == "audio" else container.streams.video
    return streams[0]


def open_track(path: Path, kind: str, label: str) -> av.container.InputContainer:
    """The opened track file, or a ComposeError saying why it cannot be used."""
    try:
        container = av.open(str(path), "r")
    except (av.error.FFmpegError, OSError) as exc:
        raise ComposeError(f"轨道文件无法读取 / track file {label} cannot be read: {exc}") from None
    streams = container.streams.audio if kind == "audio" else container.streams.video
    if not streams:
        container.close()
        raise ComposeError(f"轨道文件 {label} 中没有{'音频' if kind == 'audio' else '视频'}流 / "
                           f"track file {label} holds no {'audio' if kind == 'audio' else 'video'} stream")
    return container


class VideoTrack:
    """The picture of a track at any instant: its latest frame not later than that instant."""

    def __init__(self, reader: TrackReader) -> None:
        self._reader = reader
        self._current: Placed | None = None
        self._next = reader.next()

    def frame_at(self, at_ms: float) -> av.VideoFrame | None:
        while self._next is not None and self._next.at_ms <= at_ms:
            self._current, self._next = self._next, self._reader.next()
        return self._current.frame if self._current is not None else None  # type: ignore[return-value]

    def close(self) -> None:
        self._reader.close()
