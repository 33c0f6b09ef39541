"""``layer_hint``: a client says how large it shows a video; bad hints get a clear error event."""

from __future__ import annotations

import pytest

from server.bot.signaling import BotClient

from .signaling_harness import FRAMES, LiveServer, issue_join_token, live, signaling_overrides  # noqa: F401
from .test_signaling_bad_input import refused

pytestmark = pytest.mark.timeout(120)


async def received_video(bot: BotClient, publisher_id: str) -> str:
    """The id of the producer carrying ``publisher_id``'s camera to ``bot``."""
    for offer in reversed(bot.seen("subscribe_offer")):
        for track in offer["tracks"].values():
            if track["participant_id"] == publisher_id and track["kind"] == "video":
                return str(track["id"])
    raise AssertionError(f"no video of {publisher_id} offered")


async def test_layer_hints_are_taken_for_received_videos_and_refused_otherwise(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "video") >= FRAMES, 20)
    meeting_id = live.world.meeting_x
    video = await received_video(chair, rep.participant_id)

    hint = {"meeting_id": meeting_id, "producer_id": video, "width": 320, "height": 180, "visible": True}
    assert (await chair.call("layer_hint", hint))["ok"] is True
    assert (await chair.call("layer_hint", {**hint, "visible": False}))["ok"] is True
    # not something this connection receives (its own camera, or nothing at all)
    own = await received_video(rep, chair.participant_id)
    assert await refused(chair, "layer_hint", {**hint, "producer_id": own}) == "unknown_producer"
    assert await refused(chair, "layer_hint", {**hint, "producer_id": "ab" * 16}) == "unknown_producer"
    # malformed hints
    assert await refused(chair, "layer_hint", {**hint, "width": -1}) == "invalid_payload"
    assert await refused(chair, "layer_hint", {**hint, "visible": "yes"}) == "invalid_payload"
    assert await refused(chair, "layer_hint", {**hint, "producer_id": "../x"}) == "invalid_payload"
    # and the media carried on
    before = chair.frames(rep.participant_id, "video")
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "video") >= before + FRAMES, 20)
