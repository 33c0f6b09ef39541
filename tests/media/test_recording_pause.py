"""Camera off in a recorded meeting: the owner's `pause` is in the event log, the recording has a
gap there although media keeps flowing (a browser sends black frames), and the composed layout
leaves that tile out meanwhile."""

from __future__ import annotations

import asyncio
import time

import pytest

from recorder.compose.timeline import layout
from server.bot.media import audio_clip, video_clip
from record.events import payload_keys

from .recording_support import verified
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401
from .test_recording_live import at, media_for, recording_dir, start_recording

pytestmark = pytest.mark.timeout(150)


async def test_camera_off_is_logged_and_is_a_gap_in_the_recording_and_the_layout(live: LiveServer) -> None:
    await asyncio.to_thread(lambda: (video_clip(), audio_clip()))  # not on the loop while connected
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "video") >= 15, 20)
    key, started = await start_recording(chair)
    pause = {"meeting_id": rep.meeting_id, "kind": "video"}

    await media_for(chair, rep, 2)
    off_at = time.monotonic()
    await rep.call("pause", {**pause, "paused": True})
    await rep.call("pause", {**pause, "paused": True})  # already off: nothing new
    video_before = chair.frames(rep.participant_id, "video")
    await media_for(chair, rep, 2.5)
    # the bot's camera keeps sending, as a browser's disabled track does: only the pause makes a gap
    assert chair.frames(rep.participant_id, "video") > video_before + 20
    on_at = time.monotonic()
    await rep.call("pause", {**pause, "paused": False})
    await media_for(chair, rep, 2)
    await chair.call("recording_stop", {"meeting_id": chair.meeting_id})

    manifest = verified(recording_dir(live, key))
    tracks = {(t.participant_id, t.kind): t for t in manifest.tracks}
    camera = tracks[(rep.participant_id, "video")]
    (gap,) = camera.gaps
    assert at(gap.start_ms, off_at, started) and at(gap.end_ms, on_at, started), gap
    assert tracks[(rep.participant_id, "audio")].gaps == []  # the microphone stayed on
    assert tracks[(chair.participant_id, "video")].gaps == []

    rep_user = live.world.user_ids["rep_a"]
    expected = {"schema_version": 1, "participant_id": rep.participant_id, "user_id": rep_user, "kind": "video"}
    placed = [(e.type, e.payload) for e in manifest.events
              if e.type in ("participant_paused", "participant_resumed")]
    assert placed == [("participant_paused", expected), ("participant_resumed", expected)]

    await live.settle()
    logged = [e for e in await live.events() if e.type in ("participant_paused", "participant_resumed")]
    assert [(e.type, e.actor_id, e.payload) for e in logged] == [
        ("participant_paused", rep_user, expected), ("participant_resumed", rep_user, expected)]
    assert all(set(e.payload) == payload_keys(e.type) for e in logged)
    await live.assert_chain_intact()

    spans = layout(manifest.tracks, manifest.events, manifest.duration_ms)

    def tiles_at(ms: int) -> tuple[str, ...]:
        return next(s.tiles for s in spans if s.start_ms <= ms < s.end_ms)

    middle = (gap.start_ms + gap.end_ms) // 2
    assert camera.track_id in tiles_at(gap.start_ms - 300) and camera.track_id in tiles_at(gap.end_ms + 300)
    assert tiles_at(middle) == (tracks[(chair.participant_id, "video")].track_id,)
