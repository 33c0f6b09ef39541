"""The chair's moderation, applied in the SFU, told to the people concerned, logged."""

from __future__ import annotations

import pytest

from .signaling_harness import FRAMES, LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


async def test_muted_participants_audio_stops_reaching_others(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    applicant = await live.bot("applicant")
    rep_id, meeting = rep.participant_id, live.world.meeting_x
    await applicant.wait_frames(lambda b: b.frames(rep_id, "audio") >= 25, 20)

    await chair.call("moderate", {"meeting_id": meeting, "action": "mute", "participant_id": rep_id})
    _, told = await rep.wait_event("muted")
    assert told["kind"] == "audio" and told["muted"] and told["by"] == chair.participant_id
    await applicant.wait_event(lambda n, d: n == "producer_updated" and d["producer"]["muted"])
    # let frames already queued or in flight drain (one second of video), then a second more:
    # no audio may arrive in it
    video = applicant.frames(rep_id, "video")
    await applicant.wait_frames(lambda b: b.frames(rep_id, "video") >= video + 30, 10)
    audio = {bot: bot.frames(rep_id, "audio") for bot in (chair, applicant)}
    await applicant.wait_frames(lambda b: b.frames(rep_id, "video") >= video + 60, 10)
    assert {bot: bot.frames(rep_id, "audio") for bot in audio} == audio
    await chair.call("moderate", {"meeting_id": meeting, "action": "unmute", "participant_id": rep_id})
    count = applicant.frames(rep_id, "audio")
    await applicant.wait_frames(lambda b: b.frames(rep_id, "audio") >= count + 25, 10)
    await live.settle()
    rows = [(e.type, e.actor_id, e.payload["participant_id"]) for e in await live.events()
            if e.type in ("participant_muted", "participant_unmuted")]
    chair_user = live.world.user_ids["chair"]
    assert rows == [("participant_muted", chair_user, rep_id), ("participant_unmuted", chair_user, rep_id)]


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
