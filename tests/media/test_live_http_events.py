"""Events written over HTTP while the meeting is live reach its room without a reload: the live
review takes them through the one reducer like the room's own events (its log stays the stored
log), the room is told (``review_state``, ``minutes_changed``), and the draft minutes in the room
follow, facts included (server/services/log_hub.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models import Invitation

from .review_support import seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401
from .test_minutes_in_room import fresh_draft
from .test_minutes_live import api

pytestmark = pytest.mark.timeout(120)


async def assert_live_log_is_the_stored_log(live: LiveServer) -> None:  # noqa: F811
    """Every event once, HTTP-written ones included, and the live review in the stored order."""
    await live.settle()
    meeting = live.signaling.meetings[live.world.meeting_x]
    review = live.signaling.review.review(meeting)
    assert [logged.event.type for logged in review.log] == await live.event_types()
    await live.assert_chain_intact()


async def test_a_status_change_over_the_api_reaches_the_room(live: LiveServer) -> None:  # noqa: F811
    chair, rep = await seats(live, "chair", "rep_a")
    meeting, item = live.world.meeting_x, live.world.item_x
    async with api(live, "chair") as chair_api:
        await chair_api.post(f"/meetings/{meeting}/status", {"status": "live", "note": ""})
        await rep.state_where(lambda s: s["meeting_status"] == "live")
        await rep.bot.wait_event("minutes_changed")  # the start is in the minutes

        await chair.do("agenda_open", item_id=item)
        await rep.do("opinion_submit", item_id=item, kind="agree", text="同意备案")
        await chair.do("agenda_close", item_id=item, outcome="同意")
        await chair_api.post(f"/meetings/{meeting}/status", {"status": "ended", "note": "审议1个事项"})
    await rep.state_where(lambda s: s["meeting_status"] == "minutes_draft")  # ended, then drafted
    # the room goes by the record: the meeting has ended, so opinions are amended in the minutes
    await rep.refused("opinion_submit", "meeting_ended", item_id=item, kind="conditional", text="附条件同意",
                      conditions=["开工前取得环评批复"], amendment_reason="会后补充")
    await assert_live_log_is_the_stored_log(live)


async def test_an_amendment_in_the_minutes_reaches_the_room_and_its_draft(live: LiveServer) -> None:  # noqa: F811
    chair, rep = await seats(live, "chair", "rep_a")
    meeting, item = live.world.meeting_x, live.world.item_x
    await chair.do("meeting_start")
    await chair.do("agenda_open", item_id=item)
    opinion_id = (await rep.do("opinion_submit", item_id=item, kind="agree", text="同意备案"))["opinion_id"]
    await chair.do("agenda_close", item_id=item, outcome="同意")
    await chair.do("meeting_end", note="")  # drafts the minutes; everyone is still in the room
    before = await fresh_draft(chair, "json")

    async with api(live, "rep_a") as rep_api:
        await rep_api.post(f"/meetings/{meeting}/minutes/opinions/{opinion_id}/amendments", {
            "kind": "conditional", "text": "同意备案", "conditions": ["开工前取得节能审查意见"],
            "reason": "会后核实节能要求"})
    state = await chair.state_where(lambda s: [o["revision"] for o in s["opinions"][str(item)]] == [2])
    [opinion] = state["opinions"][str(item)]
    assert (opinion["kind"], opinion["conditions"]) == ("conditional", ["开工前取得节能审查意见"])

    after = await fresh_draft(chair, "json")
    assert after["events"] == before["events"] + 1
    [drafted] = after["minutes"]["items"][0]["opinions"]
    assert (drafted["revision"], drafted["conditions"]) == (2, ["开工前取得节能审查意见"])
    await assert_live_log_is_the_stored_log(live)


async def test_an_excuse_reaches_the_draft_minutes_in_the_room(live: LiveServer) -> None:  # noqa: F811
    """An excuse changes the meeting's facts, not only its log: the draft reads them again."""
    [chair] = await seats(live, "chair")
    meeting = live.world.meeting_x
    before = await fresh_draft(chair, "json")
    assert [(a["code"], a["reason"]) for a in before["minutes"]["attendance"]["absent"]] == [("FQ-FGJ", "未出席")]
    async with live.sessions() as db:
        invitation = await db.scalar(select(Invitation.id).where(
            Invitation.meeting_id == meeting, Invitation.department_id == live.world.dept_fgj))

    async with api(live, "rep_a") as rep_api:
        await rep_api.post(f"/meetings/{meeting}/invitations/{invitation}/excuse", {"reason": "赴省里参加培训"})
    await chair.bot.wait_event(lambda n, d: n == "minutes_changed" and d["events"] > before["events"])
    after = await fresh_draft(chair, "json")
    assert [(a["code"], a["reason"]) for a in after["minutes"]["attendance"]["absent"]] == [
        ("FQ-FGJ", "赴省里参加培训")]
    await assert_live_log_is_the_stored_log(live)
