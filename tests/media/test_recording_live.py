"""Recording real meetings: bots publish through the SFU, the chair records, files come out right."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from recorder.manifest import MANIFEST_NAME, Gap, Manifest
from server.bot.signaling import BotClient, BotError
from server.recording.store import recordings_root

from .recording_support import LoopWatch, SwitchableCamera, verified
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(150)

ALIGN_MS = 500
TRANSIT_MS = 200
"""From a bot's frame to the recorder's arrival stamp on loopback: one frame interval (33 ms), the
SFU's receive path, and loop delays each shorter than LoopWatch.STALL_S (longer ones are measured)."""
STALL_REACH_S = 2.0
"""How far from a moment a measured stall can still have moved the frames placed at it (the stall
delays the cause and its observation alike; a camera's gap is noticed after GAP_MS of silence)."""
AUDIO_FPS = 50  # Opus frames of 20 ms


def recording_dir(live: LiveServer, key: str) -> Path:
    return recordings_root(live.settings.data_dir) / str(live.world.meeting_x) / key


async def media_for(bot: BotClient, source: BotClient, seconds: float) -> None:
    """Wait until ``bot`` has received ``seconds`` more of ``source``'s audio (the meeting's clock)."""
    start = bot.frames(source.participant_id, "audio")
    await bot.wait_frames(lambda b: b.frames(source.participant_id, "audio")
                          >= start + seconds * AUDIO_FPS, seconds * 3 + 10)


class Moment:
    """When a request took effect on the server: between sending it and its ack."""

    def __init__(self) -> None:
        self.sent = time.monotonic()
        self.acked = self.sent

    def done(self) -> Moment:
        self.acked = time.monotonic()
        return self


def at(value_ms: int, when: float, start: Moment, early_ms: float = ALIGN_MS,
       late_ms: float = ALIGN_MS) -> bool:
    """Whether ``value_ms`` on the recording timeline is ``when`` (monotonic): at most ``early_ms``
    before it or ``late_ms`` after it."""
    return (when - start.acked) * 1000 - early_ms <= value_ms <= (when - start.sent) * 1000 + late_ms


async def start_recording(chair: BotClient, **extra: Any) -> tuple[str, Moment]:
    moment = Moment()
    ack = await chair.call("recording_start", {"meeting_id": chair.meeting_id, **extra})
    return ack["recording_key"], moment.done()


async def test_chair_records_ten_seconds_and_every_file_checks_out(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "audio") >= 25, 20)

    key, started = await start_recording(chair)
    _, told = await rep.wait_event(lambda n, d: n == "review_state" and d["recording"])
    _, changed = await rep.wait_event("recording_changed")
    assert changed["recording"] is True and changed["recording_key"] == key and changed["consent_notice"]
    await media_for(chair, rep, 10)
    stopped = Moment()
    ack = await chair.call("recording_stop", {"meeting_id": chair.meeting_id})
    stopped.done()
    await rep.wait_event(lambda n, d: n == "review_state" and not d["recording"])

    manifest = verified(recording_dir(live, key))
    assert ack["recording_key"] == key and ack["tracks"] == 4 == len(manifest.tracks)
    assert manifest.status == "complete" and manifest.meeting_id == live.world.meeting_x
    assert ((stopped.sent - started.acked) * 1000 - ALIGN_MS <= manifest.duration_ms
            <= (stopped.acked - started.sent) * 1000 + ALIGN_MS)
    assert manifest.case_codes and manifest.meeting_title
    names = {(t.display_name, t.kind) for t in manifest.tracks}
    assert {kind for _, kind in names} == {"audio", "video"} and len({n for n, _ in names}) == 2
    for track in manifest.tracks:
        # published before the recording started: the whole recording, within half a second
        assert track.start_ms <= ALIGN_MS and abs(track.end_ms - manifest.duration_ms) <= ALIGN_MS, track
        assert track.gaps == [] and track.codec in ("VP8", "opus") and track.state == "complete"
    rep_video = next(t for t in manifest.tracks if t.participant_id == rep.participant_id and t.kind == "video")
    assert rep_video.department == "凤庆县发展和改革局" and rep_video.unit

    await live.settle()
    logged = [(e.type, e.actor_id, e.payload) for e in await live.events()
              if e.type.startswith("recording_")]
    chair_user = live.world.user_ids["chair"]
    assert [(t, a, p["recording_key"]) for t, a, p in logged] == [
        ("recording_started", chair_user, key), ("recording_stopped", chair_user, key)]
    assert {e.type for e in manifest.events} >= {"recording_started"}
    await live.assert_chain_intact()


async def test_late_joiner_and_camera_off_stay_on_the_meeting_timeline(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.client("rep_a")
    await rep.join()
    assert rep.participant is not None
    camera = rep.participant.video = SwitchableCamera(rep.participant.video)  # type: ignore[assignment]
    await rep.publish()
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "video") >= 15, 20)
    async with LoopWatch() as watch:
        key, started = await start_recording(chair)
        await media_for(chair, rep, 2)
        camera.off, off_at = True, time.monotonic()
        await media_for(chair, rep, 3)
        camera.off, on_at = False, time.monotonic()
        applicant = await live.bot("applicant")
        await chair.wait_frames(lambda b: b.frames(applicant.participant_id, "video") >= 1, 20)
        first_seen = time.monotonic()
        await media_for(chair, applicant, 3)
        stopping = time.monotonic()
        await chair.call("recording_stop", {"meeting_id": chair.meeting_id})

    manifest = verified(recording_dir(live, key))
    tracks = {(t.participant_id, t.kind): t for t in manifest.tracks}
    # The resumed camera's first recorded frame is the key frame the sink asks for; the SFU sends
    # at most one request per keyframe_min_interval_s, so that wait comes on top of the transit.
    resumed_ms = TRANSIT_MS + live.signaling.sfu.settings.keyframe_min_interval_s * 1000

    def placed(value_ms: int, when: float, late_ms: float = TRANSIT_MS) -> bool:
        """Whether ``value_ms`` is the moment ``when``: the recorder stamps a frame at most
        ``late_ms`` after the test saw its cause, or before the test saw its effect, plus however
        long the shared loop stood still around it (a stall delays both sides)."""
        stalled_ms = watch.stalled(when - STALL_REACH_S, when + STALL_REACH_S) * 1000
        return at(value_ms, when, started, early_ms=TRANSIT_MS + stalled_ms, late_ms=late_ms + stalled_ms)

    def only_stalls(gaps: list[Gap], camera_off: Gap | None = None) -> list[Gap]:
        """Gaps other than ``camera_off`` that no stall of the loop explains: a stall longer than
        the recorder's gap threshold stopped the bots' senders too, so it is a real silence."""
        return [gap for gap in gaps if gap != camera_off and not watch.covers(
            started.sent + gap.start_ms / 1000, started.acked + gap.end_ms / 1000, TRANSIT_MS / 1000)]

    rep_video = tracks[(rep.participant_id, "video")]
    camera_gaps = [g for g in rep_video.gaps if g.start_ms <= (on_at - started.sent) * 1000
                   and g.end_ms >= (off_at - started.acked) * 1000]
    assert len(camera_gaps) == 1, rep_video.gaps
    (gap,) = camera_gaps
    assert placed(gap.start_ms, off_at) and placed(gap.end_ms, on_at, resumed_ms), (gap, watch.stalls)
    assert only_stalls(rep_video.gaps, gap) == [], (rep_video.gaps, watch.stalls)
    rep_audio = tracks[(rep.participant_id, "audio")]
    assert only_stalls(rep_audio.gaps) == [], (rep_audio.gaps, watch.stalls)  # the microphone stayed on
    late = tracks[(applicant.participant_id, "video")]
    assert placed(late.start_ms, first_seen), (late, watch.stalls)
    assert placed(tracks[(applicant.participant_id, "audio")].start_ms, first_seen), watch.stalls
    assert placed(late.end_ms, stopping), (late, manifest.duration_ms, watch.stalls)


async def test_only_the_chair_records_and_bad_requests_are_refused(live: LiveServer) -> None:
    chair = await live.bot("chair", publish=("audio",))
    rep = await live.bot("rep_a", publish=("audio",))
    meeting = live.world.meeting_x
    for event in ("recording_start", "recording_stop"):
        with pytest.raises(BotError) as refused:
            await rep.call(event, {"meeting_id": meeting})
        assert refused.value.code == "not_chair"
    with pytest.raises(BotError) as refused:
        await chair.call("recording_stop", {"meeting_id": meeting})
    assert refused.value.code == "not_recording"
    for bad in ({"meeting_id": meeting, "consent_notice": ""}, {"meeting_id": meeting, "extra": 1},
                {"meeting_id": meeting, "consent_notice": "x" * 501}):
        with pytest.raises(BotError) as refused:
            await chair.call("recording_start", bad)
        assert refused.value.code == "invalid_payload"
    key, _ = await start_recording(chair, consent_notice="本次会议录音录像。")
    with pytest.raises(BotError) as refused:
        await chair.call("recording_start", {"meeting_id": meeting})
    assert refused.value.code == "recording_active"
    await media_for(chair, rep, 1)
    await chair.call("recording_stop", {"meeting_id": meeting})
    await live.settle()
    started = [e.payload for e in await live.events() if e.type == "recording_started"]
    assert started == [{"schema_version": 1, "recording_key": key, "consent_notice": "本次会议录音录像。"}]
    assert len([p for p in (recordings_root(live.settings.data_dir) / str(meeting)).iterdir()]) == 1


async def test_disk_floor_refuses_a_start_and_stops_a_running_recording(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a", publish=("audio",))
    desk = live.recording
    floor = live.settings.recording.min_free_mb
    free = {"mb": floor - 1}
    desk.free_mb = lambda _path: free["mb"]  # the disk is nearly full
    with pytest.raises(BotError) as refused:
        await chair.call("recording_start", {"meeting_id": live.world.meeting_x})
    assert refused.value.code == "disk_low"
    assert not recordings_root(live.settings.data_dir).joinpath(str(live.world.meeting_x)).exists() or \
        not any(recordings_root(live.settings.data_dir).joinpath(str(live.world.meeting_x)).iterdir())

    free["mb"] = floor + 100
    desk.check_interval_s = 0.2
    key, _ = await start_recording(chair)
    await media_for(chair, rep, 2)
    free["mb"] = floor - 1  # the disk fills during the meeting
    _, alert = await chair.wait_event(lambda n, d: n == "error" and d["code"] == "recording_disk_low", 10)
    assert alert["details"]["recording_key"] == key and alert["event"] == "recording"
    _, changed = await rep.wait_event(lambda n, d: n == "recording_changed" and not d["recording"])
    assert changed["reason"] == "disk_low"
    assert rep.seen("error") == []  # only the chair is told why
    manifest = verified(recording_dir(live, key))
    assert {t.kind for t in manifest.tracks} == {"audio", "video"} and manifest.status == "complete"
    await live.settle()
    assert [e.actor_id for e in await live.events() if e.type == "recording_stopped"] == [None]


@pytest.fixture
def auto_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANSHEN_RECORDING_AUTO_START", "1")


async def test_auto_start_records_from_the_first_join_until_the_meeting_empties(
        auto_start: None, live: LiveServer) -> None:
    assert live.settings.recording.auto_start
    rep = await live.bot("rep_a")
    _, changed = await rep.wait_event("recording_changed")
    key = changed["recording_key"]
    assert rep.joined["review"]["recording"] is True  # on from the first join ack
    chair = await live.bot("chair")
    assert chair.joined["review"]["recording"] is True
    with pytest.raises(BotError) as refused:  # already on: the chair cannot start a second one
        await chair.call("recording_start", {"meeting_id": live.world.meeting_x})
    assert refused.value.code == "recording_active"
    await media_for(chair, rep, 2)
    for bot in (rep, chair):
        await bot.close()
    directory = recording_dir(live, key)
    await asyncio.wait_for(_until(lambda: (directory / MANIFEST_NAME).exists()), 20)
    manifest = verified(directory)
    assert len(manifest.tracks) == 4
    events = [(e.type, e.actor_id) for e in await live.events() if e.type.startswith("recording_")]
    assert events == [("recording_started", None), ("recording_stopped", None)]


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.05)
