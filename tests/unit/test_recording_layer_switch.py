"""A camera recorded across simulcast layer switches: the picture size changes inside one VP8 track.

The recording follows the best layer the publisher sends (``server/sfu/best_layer.py``), so one
track file holds 180p, then 540p, then 180p again, each stretch from a key frame. The file must
verify (every frame decodes) and compose with the picture filling its place at every size.
"""

from __future__ import annotations

from pathlib import Path

import av

from recorder.compose import compose
from recorder.session import RecordingInfo, RecordingSession
from recorder.verify import verify
from server.bot.media import video_clip
from tests.unit.recorder_support import FakeClock, Feed, Source, info

SMALL, LARGE = (320, 180), (960, 540)
SWITCH_UP_MS, SWITCH_DOWN_MS, END_MS = 2000, 4000, 6000


def mean_luma(frame: av.VideoFrame, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    plane = frame.planes[0]  # yuv420p: luma first
    data, stride = bytes(plane), plane.line_size
    return sum(sum(data[row * stride + x:row * stride + x + w]) for row in range(y, y + h)) / (w * h)


def test_a_track_changing_size_at_key_frames_verifies_and_composes_to_its_tile(tmp_path: Path) -> None:
    small = video_clip(seconds=2.0, width=SMALL[0], height=SMALL[1], fps=15, bitrate=150_000)
    large = video_clip(seconds=2.0, width=LARGE[0], height=LARGE[1], fps=15, bitrate=500_000)
    clock = FakeClock()
    session = RecordingSession(tmp_path / "rec", RecordingInfo("M7-20261207-R1", 7, "会议"), clock=clock)
    session.start()
    feed = Feed(session, clock, origin_ns=clock.ns)
    camera = feed.add(Source(small, start_ms=0), info("a", "video", "video/VP8"))
    feed.run(SWITCH_UP_MS)
    camera.clip, camera.index = large, 0  # a layer switch: the new layer starts at its key frame
    feed.run(SWITCH_DOWN_MS)
    camera.clip, camera.index = small, 0
    feed.run(END_MS)
    manifest = session.stop()

    report = verify(session.directory)
    assert report.ok, [(check.entry.file, check.problems) for check in report.tracks]
    (track,) = manifest.tracks
    assert track.gaps == []
    with av.open(str(session.directory / track.file)) as container:
        sizes = [(frame.time, (frame.width, frame.height)) for frame in container.decode(video=0)]
    changes = [(t, size) for i, (t, size) in enumerate(sizes) if i == 0 or sizes[i - 1][1] != size]
    assert [size for _, size in changes] == [SMALL, LARGE, SMALL], changes
    frame_s = 1 / 15  # each switch takes effect at the first frame due after it
    for (t, _), wanted in zip(changes, (0, SWITCH_UP_MS, SWITCH_DOWN_MS), strict=True):
        assert abs(t - wanted / 1000) <= frame_s + 0.01, changes

    output = compose(session.directory, width=640, height=360, fps=10)
    with av.open(str(output)) as container:
        frames = [(float(frame.time), frame) for frame in container.decode(video=0)]
    assert {(frame.width, frame.height) for _, frame in frames} == {(640, 360)}
    # the one camera fills the canvas at every size: no black border around a small layer
    for t, frame in frames:
        if 0.5 < t < END_MS / 1000 - 0.5:
            assert mean_luma(frame, (0, 0, 640, 20)) > 30 and mean_luma(frame, (0, 340, 640, 20)) > 30, t
