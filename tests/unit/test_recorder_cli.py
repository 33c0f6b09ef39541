"""`lianshen recording list | verify | compose` on a data directory with real recordings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recorder.session import RecordingInfo, RecordingSession
from server.cli import main
from tests.unit.recorder_support import FakeClock, Feed, camera, info, microphone

KEY = "M7-20261129-R1"


def record(directory: Path, seconds: int = 3) -> None:
    clock = FakeClock()
    session = RecordingSession(directory, RecordingInfo(directory.name, 7, "会议", ("C1",)), clock=clock)
    session.start()
    feed = Feed(session, clock, origin_ns=clock.ns)
    feed.add(camera(start_ms=0), info("a", "video", "video/VP8"))
    feed.add(microphone(start_ms=0), info("a", "audio", "audio/opus"))
    feed.run(seconds * 1000)
    session.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    meeting = tmp_path / "recordings" / "7"
    record(meeting / KEY)
    interrupted = meeting / "M7-20261129-R2"
    interrupted.mkdir()
    shutil.copy(meeting / KEY / "journal.jsonl", interrupted / "journal.jsonl")
    (meeting / "junk").mkdir()
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_list_shows_each_recording_with_its_state(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "recording", "list", "--data-dir", str(data_dir))
    lines = out.splitlines()
    assert status == 0 and lines[0].split()[:3] == ["recording", "meeting", "status"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[KEY][1:3] == ["7", "complete"] and rows[KEY][5:7] == ["0:00:03", "2"]
    assert rows["M7-20261129-R2"][2] == "running/interrupted" and rows["junk"][2] == "invalid"
    status, out, _ = run(capsys, "recording", "list", "--meeting", "8", "--data-dir", str(data_dir))
    assert status == 0 and out.strip() == "no recordings of meeting 8"


def test_verify_passes_then_names_a_changed_file(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "recording", "verify", KEY, "--data-dir", str(data_dir))
    assert status == 0 and out.strip().endswith(f"{KEY}: verified") and out.count(": ok") == 2
    video = next((data_dir / "recordings" / "7" / KEY).glob("*video*"))
    video.write_bytes(video.read_bytes()[:-100])
    status, out, _ = run(capsys, "recording", "verify", KEY, "--data-dir", str(data_dir))
    assert status == 1 and "PROBLEMS FOUND" in out and f"{video.name}: " in out and "FAILED" in out
    for key, message in (("M7-20261129-R9", "no such recording"), ("../../etc", "not a recording key"),
                         ("M7-20261129-R2", "no manifest")):
        status, _, err = run(capsys, "recording", "verify", key, "--data-dir", str(data_dir))
        assert status == 2 and message in err


def test_compose_shows_progress_and_refuses_to_overwrite(data_dir: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "recording", "compose", KEY, "--width", "320", "--height", "180",
                           "--data-dir", str(data_dir))
    assert status == 0, err
    output = Path(out.strip())
    assert output.is_file() and output.stat().st_size > 0 and f"composing {KEY}" in err
    before = output.read_bytes()
    status, _, err = run(capsys, "recording", "compose", KEY, "--data-dir", str(data_dir))
    assert status == 1 and "error:" in err and output.read_bytes() == before
