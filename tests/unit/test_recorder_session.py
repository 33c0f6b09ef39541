"""The recording library on its own: tracks into files, on one timeline, with their manifest."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

from recorder.errors import RecorderError
from recorder.manifest import Manifest
from recorder.session import RecordingInfo, RecordingSession
from recorder.timeline import TrackClock
from recorder.track_writer import codec_for, vp8_size
from recorder.verify import decode_file, verify
from server.bot.media import video_clip

from tests.unit.recorder_support import FakeClock, Feed, camera, info, microphone

INFO = RecordingInfo("M7-20261129-R1", 7, "凤庆县投资项目并联审批会议", ("2611-530921-04-01-000001",))
TOLERANCE_MS = 500


def start(tmp_path: Path) -> tuple[RecordingSession, Feed]:
    clock = FakeClock()
    session = RecordingSession(tmp_path / "rec", INFO, clock=clock)
    session.start()
    return session, Feed(session, clock, origin_ns=clock.ns)


def decoded_span(path: Path) -> tuple[int, int, int]:
    check = decode_file(path)
    assert check.problems == [], check.problems
    assert check.first_ms is not None and check.last_ms is not None
    return check.first_ms, check.last_ms, check.frames


def test_ten_seconds_of_two_participants_decode_and_line_up(tmp_path: Path) -> None:
    session, feed = start(tmp_path)
    feed.add(camera(start_ms=0, jitter_ms=lambda n: (n * 7) % 30), info("a", "video", "video/VP8"))
    feed.add(microphone(start_ms=0, jitter_ms=lambda n: (n * 3) % 15), info("a", "audio", "audio/opus"))
    late_cam = feed.add(camera(start_ms=4000), info("b", "video", "video/VP8", user_id=2))
    feed.add(microphone(start_ms=4000), info("b", "audio", "audio/opus", user_id=2))
    feed.run(10_000)
    manifest = session.stop()

    assert manifest.status == "complete" and manifest.duration_ms == 10_000
    assert Manifest.load(session.directory) == manifest
    tracks = {(t.participant_id, t.kind): t for t in manifest.tracks}
    assert set(tracks) == {("a", "video"), ("a", "audio"), ("b", "video"), ("b", "audio")}
    for (participant, _kind), track in tracks.items():
        expected_start = 0 if participant == "a" else 4000
        assert abs(track.start_ms - expected_start) <= TOLERANCE_MS, track
        assert abs(track.end_ms - 10_000) <= TOLERANCE_MS, track
        first, last, frames = decoded_span(session.directory / track.file)
        assert abs(first - track.start_ms) <= 1 and abs(last - track.end_ms) <= 100
        assert track.gaps == [] and track.state == "complete"
        assert track.wall_start == manifest.wall(track.start_ms)
    assert tracks[("b", "video")].department == "凤庆县发展和改革局"
    assert late_cam.sent >= 80  # 6 s at 15 fps: what was sent is what the file holds
    assert decoded_span(session.directory / tracks[("b", "video")].file)[2] == late_cam.sent
    report = verify(session.directory)
    assert report.ok, [t.problems for t in report.tracks]


def test_a_camera_switched_off_is_a_gap_and_restarts_at_a_keyframe(tmp_path: Path) -> None:
    session, feed = start(tmp_path)
    cam = feed.add(camera(start_ms=0, paused=lambda ms: 3000 <= ms < 6000), info("a", "video", "video/VP8"))
    feed.run(9000)
    manifest = session.stop()
    (track,) = manifest.tracks
    assert len(track.gaps) == 1
    gap = track.gaps[0]
    assert abs(gap.start_ms - 3000) <= 100 and abs(gap.end_ms - 6000) <= 100
    assert abs(track.end_ms - 9000) <= 100
    first, last, frames = decoded_span(session.directory / track.file)
    # the first frame after the pause refers to frames before it: dropped, a key frame asked for and
    # taken, so every frame in the file decodes
    assert frames == cam.sent - 1
    with av.open(str(session.directory / track.file)) as container:
        times = [int(p.pts * Fraction(p.time_base) * 1000) for p in container.demux() if p.size]
    assert any(b - a > 2500 for a, b in zip(times, times[1:]))  # the pause is in the file's timeline


def test_a_paused_source_is_a_gap_even_while_frames_keep_coming(tmp_path: Path) -> None:
    """A browser's camera off (track.enabled = false) still sends frames; the owner's pause makes
    the gap, even one shorter than the silence that would count as one."""
    session, feed = start(tmp_path)
    cam = feed.add(camera(start_ms=0), info("a", "video", "video/VP8"))
    mic = feed.add(microphone(start_ms=0), info("a", "audio", "audio/opus"))
    feed.run(2000)
    assert cam.sink is not None and mic.sink is not None
    for sink in (cam.sink, mic.sink):
        sink.set_paused(True)
    feed.run(2600)
    sent_while_paused = cam.sent
    for sink in (cam.sink, mic.sink):
        sink.set_paused(False)
    feed.run(5000)
    manifest = session.stop()
    for track in manifest.tracks:
        (gap,) = track.gaps
        assert abs(gap.start_ms - 2000) <= 100 and abs(gap.end_ms - 2600) <= 100, (track.kind, gap)
    video = next(t for t in manifest.tracks if t.kind == "video")
    _first, _last, frames = decoded_span(session.directory / video.file)
    assert sent_while_paused > 2000 / cam.frame_ms and frames < cam.sent - 5  # dropped, not written
    with av.open(str(session.directory / video.file)) as container:
        packets = [p for p in container.demux() if p.size]
    resumed = next(p for p in packets if p.pts * Fraction(p.time_base) * 1000 >= 2500)
    assert resumed.is_keyframe  # video comes back at a fresh key frame


def test_a_restarted_producer_is_a_new_segment(tmp_path: Path) -> None:
    session, feed = start(tmp_path)
    first = feed.add(microphone(start_ms=0), info("a", "audio", "audio/opus"))
    feed.run(2000)
    feed.end(first)
    feed.add(microphone(start_ms=3000), info("a", "audio", "audio/opus"))
    feed.run(5000)
    manifest = session.stop()
    assert [(t.track_id, round(t.start_ms, -2)) for t in manifest.tracks] == [("a-audio-0", 0),
                                                                            ("a-audio-1", 3000)]
    assert abs(manifest.tracks[0].end_ms - 2000) <= 40


def test_h264_goes_into_mpeg_ts(tmp_path: Path) -> None:
    session, feed = start(tmp_path)
    source = camera(start_ms=500)
    source.clip = video_clip("video/H264", seconds=2.0, width=320, height=180, fps=15)
    feed.add(source, info("a", "video", "video/H264"))
    feed.run(3000)
    (track,) = session.stop().tracks
    assert track.file.endswith(".ts") and track.codec == "H264"
    first, last, frames = decoded_span(session.directory / track.file)
    assert frames == source.sent and abs(first - 500) <= 1
    assert verify(session.directory).ok


def test_unknown_codec_and_reused_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RecorderError, match="cannot record video/AV1"):
        codec_for("video/AV1")
    (tmp_path / "rec").mkdir()
    with pytest.raises(RecorderError, match="already exists"):
        RecordingSession(tmp_path / "rec", INFO).start()


def test_vp8_keyframe_header_gives_the_size() -> None:
    clip = video_clip(seconds=2.0, width=320, height=180, fps=15)
    assert vp8_size(clip.frames[0]) == (320, 180)
    assert vp8_size(clip.frames[1]) is None  # not a key frame


def test_track_clock_follows_rtp_and_reanchors_after_a_jump() -> None:
    clock, tb = TrackClock(), Fraction(1, 90000)
    assert clock.place(100, 0, tb) == 100
    assert clock.place(140, 3000, tb) == 133  # late arrival: RTP spacing wins
    assert clock.place(170, 6000, tb) == 166
    assert clock.place(180, 9000, tb) == 180  # earlier than RTP predicts: the first one was late
    assert clock.place(5000, 9000, tb) == 5000  # RTP did not move across a 5 s silence
    assert clock.gaps == [(194, 5000)]
    assert clock.place(5001, 9000, tb) == 5001  # same timestamp: still strictly increasing
