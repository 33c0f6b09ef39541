"""A recording recovered after a kill -9 is composed like any other; a track recovery found
unreadable is left out of the video (the status says so) instead of failing the whole meeting."""

from __future__ import annotations

import json
from pathlib import Path

import av

from recorder.compose import compose
from recorder.recovery import recover
from tests.unit.test_recorder_recovery import killed_recording


def test_a_recovered_recording_composes_to_its_duration(tmp_path: Path) -> None:
    directory = tmp_path / "7" / "M7-R1"
    killed_recording(directory)
    manifest = recover(directory)
    assert {t.state for t in manifest.tracks} == {"recovered"}
    output = compose(directory, width=320, height=180, fps=10)
    with av.open(str(output)) as container:
        assert {s.codec_context.name for s in container.streams} == {"h264", "aac"}
        assert container.duration is not None
        assert abs(container.duration / 1000 - manifest.duration_ms) <= 500
    status = json.loads((directory / "composed" / "status.json").read_text("utf-8"))
    assert (status["state"], status["message"]) == ("done", "")


def test_a_damaged_track_is_left_out_and_named_in_the_status(tmp_path: Path) -> None:
    directory = tmp_path / "7" / "M7-R1"
    killed_recording(directory)
    video = next(directory.glob("*-video-0.webm"))
    video.write_bytes(b"\x00garbage" * 100)
    manifest = recover(directory)
    assert {t.kind: t.state for t in manifest.tracks} == {"video": "damaged", "audio": "recovered"}
    output = compose(directory, width=320, height=180, fps=10)
    with av.open(str(output)) as container:
        audio = container.streams.audio[0]
        assert sum(frame.samples for frame in container.decode(audio)) > 48000  # the sound survived
    status = json.loads((directory / "composed" / "status.json").read_text("utf-8"))
    assert status["state"] == "done" and f"{video.name} 已损坏，未合成" in status["message"]
