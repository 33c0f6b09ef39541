"""Composition of real VP8/Opus track files into one MP4, checked by decoding the result."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from recorder.compose import ComposeBusy, ComposeError, compose, read_status
from recorder.manifest import Manifest
from tests.unit.compose_support import (
    AGENDA,
    CAM_B_LUMA,
    GREY,
    OPINION,
    SCREEN_LUMA,
    SPEAKER,
    Track,
    audio_onsets,
    build_recording,
    frames_at,
    region_luma,
    sources,
    video_flash_times,
)



def _sync_recording(directory: Path, offset_ms: int = 700) -> Path:
    """One participant (camera + microphone) joining `offset_ms` after the recording started."""
    made = sources()
    return build_recording(directory, [
        Track("p1-video-0", "p1", "王发改", "video", made.cam_a, offset_ms, offset_ms + 6000),
        Track("p1-audio-0", "p1", "王发改", "audio", made.mic_a, offset_ms, offset_ms + 6000),
    ], [SPEAKER, AGENDA, OPINION], duration_ms=offset_ms + 6000)


def test_composed_mp4_has_duration_streams_chapters_and_lip_sync(tmp_path: Path) -> None:
    recording = _sync_recording(tmp_path / "rec", offset_ms=700)
    seen: list[float] = []
    output = compose(recording, on_progress=seen.append)
    assert output == recording / "composed" / "meeting.mp4"
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with av.open(str(output)) as container:
        assert abs(container.duration / 1e6 - 6.7) < 0.1
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 640, 360)
        assert (audio.codec_context.name, audio.rate) == ("aac", 48000)
        titles = [(c["start"] * c["time_base"], c["metadata"]["title"]) for c in container.chapters()]
    assert [(float(at), title) for at, title in titles] == [
        (0.0, "会议开始"), (1.2, "议题 1：企业投资项目备案"), (2.6, "FQ-FGJ 意见：同意")]
    flashes, beeps = video_flash_times(output), audio_onsets(output)
    expected = [0.7 + f / 1000 for f in sources().flashes_ms]
    assert len(flashes) == len(beeps) == len(expected), (flashes, beeps)
    for flash, beep, wanted in zip(flashes, beeps, expected):
        assert abs(flash - wanted) < 0.05, (flash, wanted)  # on the recording timeline
        assert abs(beep - flash) < 0.1, f"A/V offset {1000 * (beep - flash):.0f} ms"
    chapters = json.loads((recording / "composed" / "chapters.json").read_text("utf-8"))
    assert [c["kind"] for c in chapters["chapters"]] == ["speaker", "agenda", "opinion"]
    status = read_status(recording)
    assert status["state"] == "done" and status["progress"] == 1.0 and status["finished_at"]


def test_layout_follows_speaker_late_joiner_and_screen(tmp_path: Path) -> None:
    made = sources()
    recording = build_recording(tmp_path / "rec", [
        Track("p1-video-0", "p1", "王发改", "video", made.cam_a, 0, 6000),
        Track("p1-audio-0", "p1", "王发改", "audio", made.mic_a, 0, 6000),
        Track("p2-video-0", "p2", "钱自然", "video", made.cam_b, 1000, 6000),
        Track("p2-audio-0", "p2", "钱自然", "audio", made.mic_b, 1000, 6000),
        Track("p2-screen-0", "p2", "钱自然", "screen", made.screen, 3400, 5000),
    ], [(2000, "speaking_started", {"participant_id": "p2", "user_id": 4, "display_name": "钱自然"}),
        (3400, "presentation_started", {"participant_id": "p2", "title": "选址图"}),
        (5000, "presentation_stopped", {"title": "选址图"})], duration_ms=6000)
    frames = frames_at(compose(recording, fps=20), [0.5, 1.5, 2.5, 4.2, 5.5])
    centre = lambda f: region_luma(f, 300, 110, 40, 40)  # noqa: E731 - middle of the large area
    strip = lambda f, x: region_luma(f, x, 300, 20, 20)  # noqa: E731 - inside a small tile
    assert abs(region_luma(frames[0.5], 300, 160, 40, 40) - GREY) < 12  # one camera: whole frame
    assert abs(region_luma(frames[0.5], 300, 320, 40, 30) - GREY) < 12
    assert abs(centre(frames[1.5]) - GREY) < 12 and abs(strip(frames[1.5], 310) - CAM_B_LUMA) < 12
    assert abs(centre(frames[2.5]) - CAM_B_LUMA) < 12 and abs(strip(frames[2.5], 310) - GREY) < 12
    assert abs(centre(frames[4.2]) - SCREEN_LUMA) < 12  # the screen, cameras in the strip
    assert {round(strip(frames[4.2], x) / 10) for x in (230, 390)} == {GREY // 10, CAM_B_LUMA // 10}
    assert abs(centre(frames[5.5]) - CAM_B_LUMA) < 12  # back to the speaker


def test_missing_or_invalid_manifest_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hand-made", "utf-8")
    with pytest.raises(ComposeError, match="manifest"):
        compose(junk)
    (junk / "manifest.json").write_text('{"tracks": "nonsense"}', "utf-8")
    with pytest.raises(ComposeError, match="not a valid manifest"):
        compose(junk)
    assert not (junk / "composed" / "meeting.mp4").exists()


def _replace_track(recording: Path, data: bytes, *, update_manifest: bool) -> None:
    manifest = Manifest.load(recording)
    track = manifest.tracks[0]
    (recording / track.file).write_bytes(data)
    if update_manifest:
        import hashlib

        manifest.tracks[0] = track.model_copy(update={"size_bytes": len(data),
                                                      "sha256": hashlib.sha256(data).hexdigest()})
        manifest.write(recording)


def test_truncated_or_corrupt_track_fails_clearly_and_keeps_the_old_video(tmp_path: Path) -> None:
    recording = _sync_recording(tmp_path / "rec")
    first = compose(recording).read_bytes()
    track = Manifest.load(recording).tracks[0]
    original = (recording / track.file).read_bytes()
    _replace_track(recording, original[: len(original) // 2], update_manifest=False)
    with pytest.raises(ComposeError, match="truncated or damaged"):
        compose(recording, force=True)
    assert (recording / "composed" / "meeting.mp4").read_bytes() == first
    status = read_status(recording)
    assert status["state"] == "failed" and track.file in status["message"]
    _replace_track(recording, b"\x1aE\xdf\xa3 this is not a webm file" * 40, update_manifest=True)
    with pytest.raises(ComposeError, match="cannot be read"):
        compose(recording, force=True)
    assert (recording / "composed" / "meeting.mp4").read_bytes() == first
    assert not list((recording / "composed").glob("*.part"))


def test_track_names_must_stay_inside_the_recording(tmp_path: Path) -> None:
    recording = _sync_recording(tmp_path / "rec")
    manifest = Manifest.load(recording)
    manifest.tracks[0] = manifest.tracks[0].model_copy(update={"file": "../../etc/passwd"})
    manifest.write(recording)
    with pytest.raises(ComposeError, match="invalid track file"):
        compose(recording)


def test_finished_video_is_not_overwritten_unless_forced(tmp_path: Path) -> None:
    recording = _sync_recording(tmp_path / "rec")
    output = compose(recording)
    stamp = output.stat().st_mtime_ns
    with pytest.raises(ComposeError, match="already exists"):
        compose(recording)
    assert output.stat().st_mtime_ns == stamp
    assert compose(recording, force=True, fps=15) == output
    with av.open(str(output)) as container:
        assert container.streams.video[0].average_rate == 15


def test_second_composition_while_one_runs_is_refused(tmp_path: Path) -> None:
    recording = _sync_recording(tmp_path / "rec")
    refused: list[Exception] = []

    def meanwhile(fraction: float) -> None:
        if not refused and 0 < fraction < 1:
            with pytest.raises(ComposeBusy) as caught:
                compose(recording, force=True)
            refused.append(caught.value)

    compose(recording, on_progress=meanwhile)
    assert refused and "already being composed" in str(refused[0])
    assert read_status(recording)["state"] == "done"  # the refusal did not touch the running job


def test_stale_lock_of_a_dead_composer_is_taken_over(tmp_path: Path) -> None:
    recording = _sync_recording(tmp_path / "rec")
    (recording / "composed").mkdir()
    (recording / "composed" / ".compose.lock").write_text("999999999")
    (recording / "composed" / "status.json").write_text('{"state": "running", "progress": 0.4}')
    assert read_status(recording)["state"] == "failed"  # its composer is gone
    assert compose(recording).is_file()


def test_a_composition_ending_between_two_reads_is_not_taken_for_a_dead_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The composer writes "done" and then lets go of the lock; a reader that saw "running" and then
    found no lock must not report the composition interrupted (seen in CI as a flaky compose test)."""
    import recorder.compose.job as job

    recording = tmp_path / "rec"
    recording.mkdir()
    job.write_status(recording, state="running", progress=0.5, message="", started_at=None, finished_at=None)

    def composer_finishes_meanwhile(recording_dir: Path) -> None:
        job.write_status(recording_dir, state="done", progress=1.0, message="", started_at=None, finished_at=None)

    monkeypatch.setattr(job, "lock_holder", composer_finishes_meanwhile)
    assert read_status(recording)["state"] == "done"
    job.write_status(recording, state="running", progress=0.5, message="", started_at=None, finished_at=None)
    monkeypatch.setattr(job, "lock_holder", lambda _recording_dir: None)  # the composer died
    assert read_status(recording)["state"] == "failed"
