"""One recording of one meeting: tracks come and go, one writer thread muxes them all.

The SFU calls a track's sink on its event loop for every frame it forwards; the sink only decides
whether the frame is usable (video waits for a key frame at its start and after a pause) and puts
it on a queue. Everything slow (placing on the timeline, muxing, the journal, file I/O) happens on
the recording's own thread, so recording never holds up forwarding.

Time 0 is when ``start`` ran. Each file holds its packets at their recording-timeline times, so a
track that starts at minute 30 starts at 30:00 in its file too and the files line up as they are.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from recorder.errors import RecorderError
from recorder.events import LoggedEvent, place_events
from recorder.journal import Journal
from recorder.manifest import Gap, Manifest, TrackEntry, TrackState
from recorder.timeline import GAP_MS, TrackClock
from recorder.track_writer import Codec, TrackWriter, codec_for

logger = logging.getLogger(__name__)

NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class RecordingInfo:
    """What the recording is of."""

    recording_key: str
    meeting_id: int
    meeting_title: str
    case_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrackInfo:
    """Whose track it is and what it carries (``kind``: video, audio or screen)."""

    participant_id: str
    user_id: int | None
    display_name: str
    department: str | None
    unit: str | None
    kind: str
    mime_type: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def make_entry(fields: dict[str, Any], path: Path, start_ms: int, end_ms: int,
               gaps: Sequence[tuple[int, int]], started_at: datetime, state: TrackState) -> TrackEntry:
    """A manifest entry for a finished track file (its size and hash read from disk)."""
    keys = ("track_id", "participant_id", "user_id", "display_name", "department", "unit", "kind",
            "codec", "file")
    return TrackEntry(
        **{key: fields[key] for key in keys}, start_ms=start_ms, end_ms=end_ms,
        wall_start=started_at + timedelta(milliseconds=start_ms),
        wall_end=started_at + timedelta(milliseconds=end_ms), duration_ms=end_ms - start_ms,
        size_bytes=path.stat().st_size if path.exists() else 0,
        sha256=sha256_of(path) if path.exists() else "",
        gaps=[Gap(start_ms=start, end_ms=end) for start, end in gaps], state=state)


class TrackSink:
    """Receives one producer's frames on the event loop; cheap, never blocks."""

    def __init__(self, session: RecordingSession, track_id: str, codec: Codec,
                 request_keyframe: Callable[[], None] | None) -> None:
        self.track_id = track_id
        self._session = session
        self._request_keyframe = request_keyframe or (lambda: None)
        self._video = codec.needs_keyframe
        self._awaiting_keyframe = self._video
        self._last_ns: int | None = None
        self.closed = False
        self.paused = False
        if self._video:
            self._request_keyframe()

    def __call__(self, packet: av.Packet) -> None:
        if self.closed or self.paused:
            return
        now = self._session.clock()
        if self._video:
            if self._last_ns is not None and now - self._last_ns > GAP_MS * NS_PER_MS:
                self._awaiting_keyframe = True  # after a pause the decoder's references are gone
            self._last_ns = now
            if self._awaiting_keyframe:
                if not packet.is_keyframe:
                    self._request_keyframe()  # throttled by the SFU
                    return
                self._awaiting_keyframe = False
        self._session.submit(("packet", self.track_id, packet, packet.pts, packet.time_base,
                              packet.is_keyframe, now))

    def set_paused(self, paused: bool) -> None:
        """The owner switched this camera or microphone off (or on again). A browser goes on
        sending black frames or silence meanwhile; they are dropped, so the file and the manifest
        show a gap however short the pause, and video resumes at a fresh key frame."""
        if self.closed or paused == self.paused:
            return
        self.paused = paused
        if paused:
            self._session.submit(("pause", self.track_id))
        elif self._video:
            self._awaiting_keyframe = True
            self._request_keyframe()

    def close(self) -> None:
        """The producer is gone: the track's file is finished."""
        if not self.closed:
            self.closed = True
            self._session.submit(("end", self.track_id))


@dataclass
class _Track:
    fields: dict[str, Any]
    writer: TrackWriter
    clock: TrackClock = field(default_factory=TrackClock)
    failed: str | None = None

    @property
    def track_id(self) -> str:
        return str(self.fields["track_id"])


class RecordingSession:
    """A recording in ``directory`` (created by ``start``; it must not exist yet).

    ``clock`` (monotonic nanoseconds) is what arrivals are measured with; tests replace it to
    feed minutes of media in a moment.
    """

    def __init__(self, directory: Path, info: RecordingInfo,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.directory = Path(directory)
        self.info = info
        self.clock = clock
        self.started_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self._t0_ns = 0
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"recording {info.recording_key}",
                                        daemon=True)
        self._segments: dict[tuple[str, str], int] = {}
        self._tracks: dict[str, _Track] = {}
        self._finished: list[_Track] = []
        self._journal: Journal | None = None
        self._finishing = False
        self.errors: list[str] = []
        """Tracks that failed to write (the others carry on); reported in the log and at stop."""

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def elapsed_ms(self) -> int:
        return (self.clock() - self._t0_ns) // NS_PER_MS

    def start(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise RecorderError(f"{self.directory}: already exists; a recording never reuses a "
                                "directory") from None
        self._t0_ns = self.clock()
        self.started_at = datetime.now(UTC)
        self._journal = Journal(self.directory)
        self._journal.append("started", **asdict(self.info), started_at=self.started_at.isoformat())
        self._thread.start()

    def add_track(self, info: TrackInfo, request_keyframe: Callable[[], None] | None = None) -> TrackSink:
        """A new file for a producer that started publishing (or restarted: a new segment)."""
        codec = codec_for(info.mime_type)
        key = (info.participant_id, info.kind)
        segment = self._segments[key] = self._segments.get(key, -1) + 1
        track_id = f"{info.participant_id}-{info.kind}-{segment}"
        fields = {**asdict(info), "track_id": track_id, "codec": codec.name,
                  "file": f"{track_id}.{codec.extension}"}
        del fields["mime_type"]
        self.submit(("track", fields, codec))
        return TrackSink(self, track_id, codec, request_keyframe)

    def backlog(self) -> int:
        """Frames and commands waiting for the writer thread (it falls behind if this grows)."""
        return self._queue.qsize()

    def submit(self, item: tuple[Any, ...]) -> None:
        if self._thread.is_alive() and not self._finishing:
            self._queue.put(item)

    def finish(self) -> None:
        """End the recording now (frames submitted later are dropped); the writer thread closes
        the files in the background and ``stop`` waits for it."""
        if self._thread.is_alive() and not self._finishing:
            self._finishing = True
            self._queue.put(("stop", self.elapsed_ms()))

    def stop(self, events: Iterable[LoggedEvent] = ()) -> Manifest:
        """Finish every file and write the manifest (blocking: run it off the event loop).

        ``events`` are the meeting's logged events; those inside the recording go in the manifest.
        """
        self.finish()
        self._thread.join()
        assert self.started_at is not None and self.stopped_at is not None, "never started"
        entries = [make_entry(track.fields, self.directory / track.fields["file"],
                              track.clock.first_ms or 0, track.clock.end_ms or 0, track.clock.gaps,
                              self.started_at, "damaged" if track.failed else "complete")
                   for track in self._finished if track.writer.packets]
        tracks = sorted(entries, key=lambda e: (e.start_ms, e.track_id))
        manifest = Manifest(
            recording_key=self.info.recording_key, meeting_id=self.info.meeting_id,
            meeting_title=self.info.meeting_title, case_codes=list(self.info.case_codes),
            started_at=self.started_at, stopped_at=self.stopped_at,
            duration_ms=int((self.stopped_at - self.started_at) / timedelta(milliseconds=1)),
            tracks=tracks, events=place_events(events, self.started_at, self.stopped_at, tracks),
            status="complete")
        manifest.write(self.directory)
        return manifest

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        assert self._journal is not None
        while True:
            item = self._queue.get()
            match item:
                case ("packet", track_id, packet, pts, time_base, keyframe, arrival_ns):
                    track = self._tracks.get(track_id)
                    if track is not None and track.failed is None:
                        self._write(track, bytes(packet), pts, time_base, keyframe, arrival_ns)
                case ("track", fields, codec):
                    self._tracks[fields["track_id"]] = _Track(
                        fields, TrackWriter(self.directory / fields["file"], codec))
                case ("pause", track_id):
                    track = self._tracks.get(track_id)
                    if track is not None:
                        track.clock.pause()
                case ("end", track_id):
                    track = self._tracks.pop(track_id, None)
                    if track is not None:
                        self._finish(track)
                case ("stop", end_ms):
                    for track in list(self._tracks.values()):
                        self._finish(track)
                    self._tracks.clear()
                    assert self.started_at is not None
                    self.stopped_at = self.started_at + timedelta(milliseconds=end_ms)
                    self._journal.append("stopped", stopped_at=self.stopped_at.isoformat())
                    self._journal.close()
                    return

    def _write(self, track: _Track, data: bytes, pts: int, time_base: Fraction, keyframe: bool,
               arrival_ns: int) -> None:
        assert self._journal is not None
        writer, clock = track.writer, track.clock
        if not writer.opened and writer.codec.needs_keyframe and not keyframe:
            return
        gaps = len(clock.gaps)
        at = clock.place((arrival_ns - self._t0_ns) // NS_PER_MS, pts, time_base)
        first = not writer.opened
        try:
            writer.write(data, at, keyframe)
        except (OSError, av.FFmpegError, RecorderError) as exc:
            self._fail(track, str(exc))
            return
        if first:
            assert self.started_at is not None
            self._journal.append("track", **track.fields, start_ms=at,
                                 wall_start=(self.started_at + timedelta(milliseconds=at)).isoformat())
        for start, end in clock.gaps[gaps:]:
            self._journal.append("gap", track_id=track.track_id, start_ms=start, end_ms=end)

    def _finish(self, track: _Track) -> None:
        assert self._journal is not None
        try:
            track.writer.close()
        except (OSError, av.FFmpegError) as exc:
            self._fail(track, str(exc))
        if track.writer.packets:
            self._journal.append("track_end", track_id=track.track_id, end_ms=track.clock.end_ms)
            self._finished.append(track)

    def _fail(self, track: _Track, reason: str) -> None:
        if track.failed is None:
            track.failed = reason
            message = f"track {track.track_id}: {reason}"
            self.errors.append(message)
            logger.error("recording %s: %s", self.info.recording_key, message)
