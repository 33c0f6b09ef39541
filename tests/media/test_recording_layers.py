"""The recording of a simulcast camera keeps the best layer the publisher actually sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from recorder.session import RecordingInfo, RecordingSession, TrackInfo, TrackSink
from recorder.track_writer import vp8_size
from server.bot.simulcast import LAYER_SIZES, SimulcastCamera
from server.sfu.layers import SILENT_S

from .meeting import Meeting
from .recording_support import verified

packet_path = pytest.mark.parametrize("settings", ["packet"], indirect=True)
TOP = len(LAYER_SIZES) - 1
WIDTHS = [width for width, _, _ in LAYER_SIZES]
FALLBACK_S = 1.0
"""The longest the recording may go without a picture when the layer it follows stops."""


@dataclass
class Frame:
    at: float
    width: int


class Watched:
    """The recording's sink, watched: every frame's arrival and the width of its layer."""

    def __init__(self, sink: TrackSink) -> None:
        self.sink = sink
        self.frames: list[Frame] = []
        self._width = 0
        self._changed = asyncio.Event()

    def __call__(self, packet: av.Packet) -> None:
        size = vp8_size(bytes(packet))
        self._width = size[0] if size is not None else self._width
        self.frames.append(Frame(time.monotonic(), self._width))
        self._changed.set()
        self.sink(packet)

    async def until(self, condition: Callable[[], bool], within: float) -> None:
        async def watch() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(watch(), within)

    def count(self, width: int, since: float = 0.0) -> int:
        return sum(1 for frame in self.frames if frame.width == width and frame.at >= since)

    def widths(self) -> list[int]:
        return [f.width for i, f in enumerate(self.frames) if i == 0 or self.frames[i - 1].width != f.width]


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_the_recording_follows_the_best_layer_sent_from_the_start_up_and_down(
        meeting: Meeting, tmp_path: Path) -> None:
    camera = SimulcastCamera()
    camera.layers[TOP].sending = False  # a browser whose estimate does not allow its top layer yet
    await meeting.join("alice", simulcast=camera)
    producer = meeting.peers["alice"].producers["video"]
    session = RecordingSession(tmp_path / "rec", RecordingInfo("M1-20261207-R1", 1, "会议"))
    session.start()
    track = TrackInfo(participant_id="alice", user_id=1, display_name="alice", department=None, unit=None,
                      kind="video", mime_type="video/VP8")
    watched = Watched(session.add_track(track, producer.request_keyframe))
    producer.add_sink(watched)

    # Without the top layer the camera is recorded from the start, at the best layer sent.
    await watched.until(lambda: watched.count(WIDTHS[TOP - 1]) >= 45, within=30)
    assert watched.count(WIDTHS[TOP]) == 0

    # The top layer comes (starting with a keyframe, as a browser's does): the recording switches up.
    camera.layers[TOP].sending = True
    await watched.until(lambda: watched.count(WIDTHS[TOP]) >= 45, within=30)

    # It stops again: the recording falls back to the best layer left, within about a second.
    camera.layers[TOP].sending = False
    stopped = time.monotonic()
    await watched.until(lambda: watched.count(WIDTHS[TOP - 1], since=stopped) >= 45, within=30)
    last_top = max(frame.at for frame in watched.frames if frame.width == WIDTHS[TOP])
    back = min(frame.at for frame in watched.frames if frame.at > last_top)
    assert back - last_top < FALLBACK_S, f"{back - last_top:.2f} s without a picture (stale after {SILENT_S} s)"
    assert watched.widths()[-3:] == [WIDTHS[TOP - 1], WIDTHS[TOP], WIDTHS[TOP - 1]]

    # It resumes mid-stream (no keyframe of its own): the recording asks for one and goes up again.
    asked = camera.layers[TOP].keyframe_requests
    camera.layers[TOP].sending = True
    resumed = time.monotonic()
    await watched.until(lambda: watched.count(WIDTHS[TOP], since=resumed) >= 15, within=30)
    assert camera.layers[TOP].keyframe_requests > asked
    up = min(frame.at for frame in watched.frames if frame.at > resumed and frame.width == WIDTHS[TOP])
    print(f"recording: back to width {WIDTHS[TOP - 1]} {back - last_top:.2f} s after the top layer's last frame, "
          f"up again {up - resumed:.2f} s after it resumed")

    producer.remove_sink(watched)
    watched.sink.close()
    manifest = await asyncio.get_running_loop().run_in_executor(None, session.stop)
    manifest = verified(session.directory)  # every frame decodes, the span is where the manifest says
    (entry,) = manifest.tracks
    assert entry.gaps == [] and entry.start_ms < 3000, entry
    with av.open(str(session.directory / entry.file)) as container:
        sizes = [frame.width for frame in container.decode(video=0)]
    decoded = [w for i, w in enumerate(sizes) if i == 0 or sizes[i - 1] != w]
    assert decoded[-4:] == [WIDTHS[TOP - 1], WIDTHS[TOP], WIDTHS[TOP - 1], WIDTHS[TOP]], decoded
