"""A muted participant's raised hand asks to speak; the chair's unmute answers it (issue 14): the
hand comes down for everyone, while muting, or unmuting someone whose hand is not up, leaves the
queue alone. Real socket.io participants."""

from __future__ import annotations

import pytest

from .review_support import seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(120)


async def test_the_chairs_unmute_lowers_the_muted_persons_hand(live: LiveServer) -> None:  # noqa: F811
    chair, rep_a, rep_b = await seats(live, "chair", "rep_a", "rep_b")
    await chair.do("moderate", action="mute", participant_id=rep_a.id, kind="audio")
    await rep_a.do("hand_raise", purpose="")
    await rep_b.do("hand_raise", purpose="")
    await chair.state_where(lambda s: s["hands"] == [rep_a.id, rep_b.id])

    await chair.do("moderate", action="unmute", participant_id=rep_b.id, kind="audio")  # not muted: hand stays
    await chair.do("moderate", action="mute", participant_id=rep_b.id, kind="video")
    await chair.do("moderate", action="unmute", participant_id=rep_b.id, kind="video")  # the camera answers nothing
    assert live.signaling.review.review(live.signaling.meetings[live.world.meeting_x]).hands == [rep_a.id, rep_b.id]

    await chair.do("moderate", action="unmute", participant_id=rep_a.id, kind="audio")
    state = await rep_b.state_where(lambda s: s["hands"] == [rep_b.id])
    assert state["floor"] is None  # answered, not given the floor: the chair still calls the next speaker
    assert live.signaling.meetings[live.world.meeting_x].participants[rep_a.id].muted == set()
