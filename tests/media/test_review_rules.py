"""The rules the live review enforces where an act is accepted (issue 12, "Truthful rules"), through
real socket.io participants: the B post acts only while the A post is away, 需转报上级 names the
higher authority, and the chair opens and ends the meeting from the room, which the record (and
so the minutes) takes its start and end from."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from server.db.models import Meeting, MinutesDocument, MinutesVersion
from server.services.clock import CENTRE_TZ

from .review_support import seat, seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(120)


async def test_b_post_is_refused_while_a_is_present_and_acts_once_a_has_left(live: LiveServer) -> None:
    chair, rep_a, rep_b = await seats(live, "chair", "rep_a", "rep_b")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    await rep_a.do("opinion_submit", item_id=item, kind="agree", text="同意备案")

    # A gave the opinion in person and is still here: B can neither amend it nor give another
    refusal = await rep_b.refused("opinion_submit", "a_post_present", item_id=item, kind="disagree",
                                  reasons="用地手续不全", legal_basis="《土地管理法》第四十四条",
                                  amendment_reason="改为不同意")
    assert "王发改" in refusal["message"] and "post A" in refusal["message"]
    assert refusal["details"] == {"a_post": "王发改"}
    error = await rep_b.bot.wait_event(lambda n, d: n == "error" and d.get("event") == "opinion_submit")
    assert error[1]["code"] == "a_post_present"

    await rep_a.bot.leave()  # A is away now: B stands in with A's authority
    ack = await rep_b.do("opinion_submit", item_id=item, kind="agree_in_principle", text="原则同意",
                         amendment_reason="A岗离会后补充意见")
    assert (ack["opinion_id"], ack["revision"]) == ("op-01", 2)
    state = await chair.state_where(lambda s: [o["revision"] for o in s["opinions"][str(item)]] == [2])
    [opinion] = state["opinions"][str(item)]
    assert (opinion["by"], opinion["post"], opinion["stands_in_for"]) == ("赵发改", "B", "rep_a")

    await live.settle()
    log = [(e.type, e.actor_id, e.payload["post"], e.payload["kind"]) for e in await live.events()
           if e.type.startswith("opinion_")]
    ids = live.world.user_ids
    assert log == [("opinion_submitted", ids["rep_a"], "A", "agree"),
                   ("opinion_amended", ids["rep_b"], "B", "agree_in_principle")]
    await live.assert_chain_intact()


async def test_a_post_returning_takes_the_department_back_from_b(live: LiveServer) -> None:
    chair, rep_b = await seats(live, "chair", "rep_b")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    await rep_b.do("opinion_submit", item_id=item, kind="agree", text="同意")  # A is away
    rep_a = await seat(live, "rep_a")
    await rep_b.refused("opinion_submit", "a_post_present", item_id=item, kind="agree", text="仍同意",
                        amendment_reason="再次确认")
    ack = await rep_a.do("opinion_submit", item_id=item, kind="agree", text="同意，A岗确认",
                         amendment_reason="A岗到会确认")
    assert ack["revision"] == 2
    state = await chair.state_where(lambda s: [o["revision"] for o in s["opinions"][str(item)]] == [2])
    assert [(o["by"], o["post"]) for o in state["opinions"][str(item)]] == [("王发改", "A")]


async def test_refer_upward_must_name_the_higher_authority(live: LiveServer) -> None:
    chair, rep = await seats(live, "chair", "rep_a")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    for missing in ({}, {"refer_to": None}, {"refer_to": "   "}):
        refusal = await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="refer_upward",
                                    text="超出县级权限", **missing)
        assert refusal["details"] == {"field": "refer_to"}
        assert "上级机关" in refusal["message"] and "higher authority" in refusal["message"]
    refusal = await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="agree_in_principle",
                                refer_to="LC-FGW")
    assert refusal["details"] == {"field": "refer_to"}

    await rep.do("opinion_submit", item_id=item, kind="refer_upward", text="超出县级权限", refer_to=" LC-FGW ")
    state = await chair.state_where(lambda s: s["opinions"][str(item)])
    assert state["opinions"][str(item)][0]["refer_to"] == "LC-FGW"
    await live.settle()
    [event] = [e for e in await live.events() if e.type == "opinion_submitted"]
    assert (event.payload["kind"], event.payload["refer_to"]) == ("refer_upward", "LC-FGW")


async def _meeting_row(live: LiveServer) -> Meeting:
    async with live.sessions() as db:
        meeting = await db.get(Meeting, live.world.meeting_x)
        assert meeting is not None
        return meeting


async def test_the_chair_opens_and_ends_the_meeting_and_the_minutes_take_both_from_the_record(
        live: LiveServer) -> None:
    chair, rep = await seats(live, "chair", "rep_a")
    item = live.world.item_x
    assert chair.review["meeting_status"] is None  # nothing in the record yet: not started
    await rep.refused("meeting_start", "not_chair")
    await rep.refused("meeting_end", "not_chair", note="")
    assert (await _meeting_row(live)).status == "scheduled"

    assert (await chair.do("meeting_start"))["status"] == "live"
    seen = await rep.state_where(lambda s: s["meeting_status"] == "live")
    assert seen["meeting_status"] == "live"
    assert (await _meeting_row(live)).status == "live"
    refusal = await chair.refused("meeting_start", "bad_transition")
    assert refusal["details"] == {"field": "status"} and "进行中" in refusal["message"]

    await chair.do("agenda_open", item_id=item)
    await rep.do("opinion_submit", item_id=item, kind="agree", text="同意备案")
    await chair.refused("meeting_end", "item_open", note="")  # an item under review is not left open
    await chair.do("agenda_close", item_id=item, outcome="同意")
    await chair.refused("meeting_end", "text_too_long", note="长" * 501)
    assert (await chair.do("meeting_end", note="会议审议1个事项，同意备案。"))["status"] == "ended"
    await rep.state_where(lambda s: s["meeting_status"] == "ended")
    refusal = await rep.refused("opinion_submit", "meeting_ended", item_id=item, kind="agree",
                                amendment_reason="会后再改")
    assert "minutes" in refusal["message"]
    await chair.refused("decision_record", "meeting_ended", item_id=None, text="会后决定")
    await chair.refused("meeting_end", "bad_transition", note="")

    await live.settle()
    changes = [e for e in await live.events() if e.type == "meeting_status_changed"]
    assert [(e.payload["from"], e.payload["to"], e.payload["note"], e.actor_id) for e in changes] == [
        ("scheduled", "live", "", live.world.user_ids["chair"]),
        ("live", "ended", "会议审议1个事项，同意备案。", live.world.user_ids["chair"]),
        ("ended", "minutes_draft", changes[-1].payload["note"], live.world.user_ids["chair"]),
    ]  # each once: the room's through its log, the draft's by the minutes workflow
    await live.assert_chain_intact()

    # ending in the room drafts the minutes, whose start and end are the record's
    assert (await _meeting_row(live)).status == "minutes_draft"
    async with live.sessions() as db:
        content = await db.scalar(select(MinutesVersion.content).join(MinutesDocument).where(
            MinutesDocument.meeting_id == live.world.meeting_x))
    assert content is not None and content["start_planned"] is False
    assert (content["start"], content["end"]) == (_beijing(changes[0].ts), _beijing(changes[1].ts))


def _beijing(moment: datetime) -> str:
    """A stored moment as the minutes print it: Beijing time, to the minute."""
    return moment.astimezone(CENTRE_TZ).replace(tzinfo=None).isoformat(timespec="minutes")
