"""The chair's moderation, applied in the SFU, told to the people concerned, logged."""

from __future__ import annotations

import pytest

from server.bot.signaling import BotClient

from .signaling_harness import FRAMES, LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(300)
WAIT_S = 60.0  # generous: frames and events come late on a loaded two-core machine
DRAIN_WINDOWS = 5  # spans of 30 video frames that audio already in flight may take to drain


async def test_muted_participants_audio_stops_reaching_others(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    applicant = await live.bot("applicant")
    rep_id, meeting = rep.participant_id, live.world.meeting_x
    await applicant.wait_frames(lambda b: b.frames(rep_id, "audio") >= 25, WAIT_S)

    await chair.call("moderate", {"meeting_id": meeting, "action": "mute", "participant_id": rep_id})
    _, told = await rep.wait_event("muted", WAIT_S)
    assert told["kind"] == "audio" and told["muted"] and told["by"] == chair.participant_id
    await applicant.wait_event(lambda n, d: n == "producer_updated" and d["producer"]["muted"], WAIT_S)
    # audio sent before the mute may still be in flight or being decoded (longer on a busy machine):
    # wait until 30 frames of rep's video pass with no audio, then no audio may arrive in 30 more
    audio = await _audio_stopped(applicant, (chair, applicant), rep_id)
    video = applicant.frames(rep_id, "video")
    await applicant.wait_frames(lambda b: b.frames(rep_id, "video") >= video + 30, WAIT_S)
    assert {bot: bot.frames(rep_id, "audio") for bot in audio} == audio
    await chair.call("moderate", {"meeting_id": meeting, "action": "unmute", "participant_id": rep_id})
    count = applicant.frames(rep_id, "audio")
    await applicant.wait_frames(lambda b: b.frames(rep_id, "audio") >= count + 25, WAIT_S)
    await live.settle()
    rows = [(e.type, e.actor_id, e.payload["participant_id"]) for e in await live.events()
            if e.type in ("participant_muted", "participant_unmuted")]
    chair_user = live.world.user_ids["chair"]
    assert rows == [("participant_muted", chair_user, rep_id), ("participant_unmuted", chair_user, rep_id)]


async def _audio_stopped(watcher: BotClient, bots: tuple[BotClient, ...], source: str) -> dict[BotClient, int]:
    """Each bot's count of ``source``'s audio frames once 30 frames of its video (as ``watcher``
    receives it) went by without any; fails if audio still arrives after DRAIN_WINDOWS such spans."""
    for _ in range(DRAIN_WINDOWS):
        before = {bot: bot.frames(source, "audio") for bot in bots}
        target = watcher.frames(source, "video") + 30
        await watcher.wait_frames(lambda b, target=target: b.frames(source, "video") >= target, WAIT_S)
        if {bot: bot.frames(source, "audio") for bot in bots} == before:
            return before
    raise AssertionError(f"audio of {source} still arrives {DRAIN_WINDOWS} x 30 video frames after the mute")


async def test_chair_stops_a_screen_share(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a", publish=("video", "audio", "screen"))
    rep_id = rep.participant_id
    await chair.wait_frames(lambda b: b.frames(rep_id, "screen") >= 10, 20)

    await chair.call("moderate", {"meeting_id": live.world.meeting_x, "action": "stop_screen_share",
                                  "participant_id": rep_id})
    await rep.wait_event("screen_share_stopped")
    await chair.wait_event(lambda n, d: n == "producer_removed" and d["producer"]["kind"] == "screen")
    video = chair.frames(rep_id, "video")
    await chair.wait_frames(lambda b: b.frames(rep_id, "video") >= video + FRAMES, 10)  # camera stays
    refused = await chair.sio.call("moderate", {"meeting_id": live.world.meeting_x,
                                                "action": "stop_screen_share", "participant_id": rep_id})
    assert refused["error"]["code"] == "not_sharing"
    await live.settle()
    types = await live.event_types()
    assert types.index("screen_share_stopped") < len(types) - 1
    unpublished = [e.payload["kind"] for e in await live.events() if e.type == "producer_unpublished"]
    assert unpublished == ["screen"]


async def test_chair_removes_a_participant(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    applicant = await live.bot("applicant")
    rep_id = rep.participant_id
    await chair.call("moderate", {"meeting_id": live.world.meeting_x, "action": "remove",
                                  "participant_id": rep_id})
    _, told = await rep.wait_event("removed")
    assert told["reason"] == "removed"
    _, left = await applicant.wait_event("participant_left")
    assert left["participant_id"] == rep_id and left["reason"] == "removed"
    again = await live.client("rep_a")
    refused = await again.sio.call("join", {"meeting_id": live.world.meeting_x})
    assert refused["error"]["code"] == "removed"
    count = applicant.frames(chair.participant_id, "video")
    await applicant.wait_frames(lambda b: b.frames(chair.participant_id, "video") >= count + FRAMES, 10)
    await live.settle()
    events = await live.events()
    removed = [e for e in events if e.type == "participant_removed"]
    assert [(e.actor_id, e.payload["participant_id"]) for e in removed] == [
        (live.world.user_ids["chair"], rep_id)]
    left_rows = [e for e in events if e.type == "participant_left"]
    assert [(e.actor_id, e.payload["reason"]) for e in left_rows] == [(live.world.user_ids["chair"], "removed")]
    await live.assert_chain_intact()
