"""Interrupted recordings (kill -9) and bad input: repaired or refused, never silently changed."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from datetime import timedelta

from recorder.errors import RecorderError
from recorder.events import LoggedEvent
from recorder.journal import read_journal
from recorder.manifest import MANIFEST_NAME, Manifest, TimelineEvent
from recorder.recovery import interrupted, recover
from recorder.session import RecordingInfo, RecordingSession
from recorder.verify import decode_file, verify
from tests.unit.recorder_support import FakeClock, Feed, camera, info, microphone

ROOT = Path(__file__).resolve().parents[2]


def killed_recording(directory: Path) -> None:
    child = subprocess.Popen([sys.executable, "-m", "tests.unit.recorder_support", str(directory)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def finished_recording(directory: Path) -> Manifest:
    clock = FakeClock()
    session = RecordingSession(directory, RecordingInfo("M7-R2", 7, "会议"), clock=clock)
    session.start()
    feed = Feed(session, clock, origin_ns=clock.ns)
    feed.add(camera(start_ms=0), info("a", "video", "video/VP8"))
    feed.add(microphone(start_ms=0), info("a", "audio", "audio/opus"))
    feed.run(3000)
    return session.stop()


def test_a_killed_recording_is_recovered_playable(tmp_path: Path) -> None:
    directory = tmp_path / "recordings" / "7" / "M7-R1"
    killed_recording(directory)
    assert not (directory / MANIFEST_NAME).exists()
    assert interrupted(tmp_path / "recordings") == [directory]

    started = read_journal(directory).started_at
    logged = [LoggedEvent(started + timedelta(milliseconds=ms), type, actor, payload) for ms, type, actor, payload in
              [(-5000, "participant_joined", 1, {}), (1200, "presentation_started", 1, {"title": "t"}),
               (60_000, "agenda_item_opened", 1, {"position": 1})]]
    manifest = recover(directory, logged)
    assert manifest.status == "recovered"
    # only what happened during the recording; the presenter's participant found from their tracks
    assert manifest.events == [TimelineEvent(at_ms=1200, type="presentation_started",
                                             payload={"title": "t", "participant_id": "a"})]
    assert Manifest.load(directory) == manifest
    assert interrupted(tmp_path / "recordings") == []
    tracks = {t.kind: t for t in manifest.tracks}
    assert set(tracks) == {"video", "audio"}
    assert abs(tracks["audio"].start_ms - 1000) <= 20
    for track in tracks.values():
        assert track.state == "recovered"
        assert track.end_ms >= 5000 - 2000, "more than the last 2 seconds lost"
        assert decode_file(directory / track.file).problems == []
    assert manifest.duration_ms == max(t.end_ms for t in manifest.tracks)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        ["journal.jsonl", MANIFEST_NAME, tracks["video"].file, tracks["audio"].file])
    report = verify(directory)
    assert report.ok and report.unlisted == []
    with pytest.raises(RecorderError, match="not interrupted"):
        recover(directory)


def test_an_unreadable_track_is_marked_damaged_and_kept_as_it_was(tmp_path: Path) -> None:
    directory = tmp_path / "7" / "M7-R1"
    killed_recording(directory)
    video = next(directory.glob("*-video-0.webm"))
    video.write_bytes(b"\x00garbage" * 100)
    before = video.read_bytes()
    manifest = recover(directory)
    states = {t.kind: t.state for t in manifest.tracks}
    assert states == {"video": "damaged", "audio": "recovered"}
    assert video.read_bytes() == before
    assert not verify(directory).ok


def test_a_changed_or_truncated_file_fails_verification_and_stays_as_it_is(tmp_path: Path) -> None:
    manifest = finished_recording(tmp_path / "rec")
    assert verify(tmp_path / "rec").ok
    video = next(t for t in manifest.tracks if t.kind == "video")
    audio = next(t for t in manifest.tracks if t.kind == "audio")
    path = tmp_path / "rec" / video.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    audio_path = tmp_path / "rec" / audio.file
    audio_path.write_bytes(audio_path.read_bytes()[: audio.size_bytes // 2])
    (tmp_path / "rec" / "notes.txt").write_text("junk")
    before = snapshot(tmp_path / "rec")

    report = verify(tmp_path / "rec")
    assert not report.ok and report.unlisted == ["notes.txt"]
    problems = {check.entry.kind: " | ".join(check.problems) for check in report.tracks}
    assert "SHA-256 differs" in problems["video"]
    assert "bytes, the manifest says" in problems["audio"]
    assert snapshot(tmp_path / "rec") == before


def test_missing_or_broken_manifest_and_junk_directories_are_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "recordings" / "7" / "junk"
    junk.mkdir(parents=True)
    (junk / "a.webm").write_bytes(os.urandom(2000))
    (junk / "journal.jsonl").write_text('{"entry": "started"}\nnot json\n{"x"')
    before = snapshot(junk)
    with pytest.raises(RecorderError, match="no manifest"):
        verify(junk)
    with pytest.raises(RecorderError, match="not JSON: the journal is damaged"):
        recover(junk)
    (junk / "journal.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(RecorderError, match="line 1 is not a journal entry"):
        recover(junk)
    (junk / "journal.jsonl").write_text('{"entry": "gap"}\n')
    with pytest.raises(RecorderError, match="does not begin with the start of a recording"):
        recover(junk)
    (junk / "journal.jsonl").write_text('{"entry": "started", "recording_key": "k"}\n')
    with pytest.raises(RecorderError, match="the start entry is incomplete"):
        recover(junk)
    (junk / "journal.jsonl").unlink()
    with pytest.raises(RecorderError, match="not a recording"):
        recover(junk)
    (junk / MANIFEST_NAME).write_text('{"recording_key": 5}')
    with pytest.raises(RecorderError, match="not a valid manifest"):
        Manifest.load(junk)
    with pytest.raises(RecorderError, match="no such recording directory"):
        verify(tmp_path / "nowhere")
    after = snapshot(junk)
    assert sorted(after) == ["a.webm", MANIFEST_NAME] and after["a.webm"] == before["a.webm"]
