"""Publishers for recorder tests: the bot's encoded clips delivered to track sinks on a fake clock.

Media is timed, not waited for: ``Feed.run`` delivers every frame due up to a given moment and sets
the session's clock to each frame's arrival, so a ten-second recording takes a fraction of one.
A source answers a key frame request with its next frame, as the bot's ClipTrack does.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import av

from recorder.session import RecordingSession, TrackInfo, TrackSink
from server.bot.media import EncodedClip, audio_clip, video_clip

NS_PER_MS = 1_000_000


class FakeClock:
    def __init__(self) -> None:
        self.ns = 10**12  # an arbitrary monotonic origin

    def __call__(self) -> int:
        return self.ns


@dataclass
class Source:
    """One publisher track: a looping clip, its frames due every ``frame_duration``."""

    clip: EncodedClip
    start_ms: int
    jitter_ms: Callable[[int], int] = lambda _n: 0
    paused: Callable[[int], bool] = lambda _ms: False
    """Whether the frame due at this time (ms since the feed began) is not sent."""
    sink: TrackSink | None = None
    index: int = 0
    sent: int = 0
    keyframe_wanted: bool = False

    @property
    def frame_ms(self) -> float:
        return float(self.clip.frame_duration * self.clip.time_base * 1000)

    def request_keyframe(self) -> None:
        self.keyframe_wanted = True

    def packet(self, due_ms: float) -> av.Packet:
        clip = self.clip
        if self.keyframe_wanted and not clip.keyframes[self.index]:
            self.index = 0  # the bot's clips have their key frame first
        self.keyframe_wanted = False
        packet = av.Packet(clip.frames[self.index])
        packet.pts = int(due_ms * clip.time_base.denominator / 1000)  # the sender's RTP clock runs on
        packet.time_base = clip.time_base
        packet.is_keyframe = clip.keyframes[self.index]
        self.index = (self.index + 1) % len(clip.frames)
        self.sent += 1
        return packet


@dataclass
class Feed:
    session: RecordingSession
    clock: FakeClock
    origin_ns: int = 0
    _queue: list[tuple[float, int, int, float]] = field(default_factory=list)
    _sources: list[Source] = field(default_factory=list)
    now_ms: float = 0.0

    def add(self, source: Source, info: TrackInfo) -> Source:
        source.sink = self.session.add_track(info, source.request_keyframe)
        number = len(self._sources)
        self._sources.append(source)
        heapq.heappush(self._queue, (source.start_ms + source.jitter_ms(0), number, 0, source.start_ms))
        return source

    def end(self, source: Source) -> None:
        assert source.sink is not None
        source.sink.close()

    def run(self, until_ms: float) -> None:
        """Deliver every frame arriving before ``until_ms`` (ms since the feed's origin)."""
        while self._queue and self._queue[0][0] < until_ms:
            arrival, number, n, due = heapq.heappop(self._queue)
            source = self._sources[number]
            assert source.sink is not None
            if source.sink.closed:
                continue
            self.clock.ns = self.origin_ns + int(arrival * NS_PER_MS)
            if not source.paused(due):
                source.sink(source.packet(due))
            next_due = due + source.frame_ms
            heapq.heappush(self._queue, (next_due + source.jitter_ms(n + 1), number, n + 1, next_due))
        self.clock.ns = self.origin_ns + int(until_ms * NS_PER_MS)
        self.now_ms = until_ms


def camera(**kwargs: object) -> Source:
    return Source(video_clip(seconds=2.0, width=320, height=180, fps=15), **kwargs)  # type: ignore[arg-type]


def microphone(**kwargs: object) -> Source:
    return Source(audio_clip(), **kwargs)  # type: ignore[arg-type]


def info(participant: str, kind: str, mime_type: str, user_id: int = 1) -> TrackInfo:
    return TrackInfo(participant_id=participant, user_id=user_id, display_name=f"代表{participant}",
                     department="凤庆县发展和改革局", unit="县发改局", kind=kind, mime_type=mime_type)


def record_until_killed(directory: str) -> None:
    """Record five seconds (two tracks), say "ready" once the writer has caught up, then wait to
    be killed: a recording interrupted the hard way, for the recovery tests."""
    import sys
    import time
    from pathlib import Path

    from recorder.session import RecordingInfo

    clock = FakeClock()
    session = RecordingSession(Path(directory), RecordingInfo("M7-R1", 7, "会议", ("C1",)), clock=clock)
    session.start()
    feed = Feed(session, clock, origin_ns=clock.ns)
    feed.add(camera(start_ms=0), info("a", "video", "video/VP8"))
    feed.add(microphone(start_ms=1000), info("a", "audio", "audio/opus"))
    feed.run(5000)
    while session.backlog():
        time.sleep(0.01)
    print("ready", flush=True)
    time.sleep(600)
    sys.exit(1)


if __name__ == "__main__":
    import sys

    record_until_killed(sys.argv[1])
