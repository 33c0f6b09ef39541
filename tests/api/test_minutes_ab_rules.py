"""The truthful rules of the minutes over the API (issue 12): a post-meeting amendment to 需转报上级
names the higher authority, and the B post confirms with the A post's authority only while A has
not answered: it cannot replace A's answer, and A's answer replaces B's."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import MeetingEvent
from tests.api.meetings_support import error_of, sign_in
from tests.api.minutes_support import OPINION_ID, end_through_api, hold_meeting
from tests.world import World, build_world

from .test_minutes_workflow import minutes, post, snapshot, url


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def test_a_referral_amended_after_the_meeting_names_the_higher_authority(
        client: TestClient, world: World, db_sessions) -> None:
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    rep_a = await sign_in(client, "rep_a")
    amend = url(world, f"/opinions/{OPINION_ID}/amendments")
    before = await snapshot(db_sessions, world)
    for body in ({"kind": "refer_upward", "text": "超出县级权限", "reason": "会后核实"},
                 {"kind": "refer_upward", "refer_to": "  ", "reason": "会后核实"},
                 {"kind": "agree", "refer_to": "LC-FGW", "reason": "会后核实"}):
        response = await client.post(amend, json=body, headers=rep_a)
        assert response.status == 422, body
        error = await error_of(response)
        assert [d["field"] for d in error["details"]] == ["refer_to"], body
    assert "上级机关" in error["message"] or "需转报上级" in error["message"]
    assert await snapshot(db_sessions, world) == before  # refused: nothing written

    amended = await post(client, world, f"/opinions/{OPINION_ID}/amendments", rep_a, {
        "kind": "refer_upward", "text": "用地规模超出县级权限", "refer_to": " LC-FGW ", "reason": "会后核实"})
    [opinion] = amended["current"]["content"]["items"][0]["opinions"]
    assert (opinion["kind"], opinion["refer_to"]) == ("refer_upward", "LC-FGW")
    async with db_sessions() as db:
        last = await db.scalar(select(MeetingEvent).where(MeetingEvent.meeting_id == world.meeting_x)
                               .order_by(MeetingEvent.seq.desc()).limit(1))
    assert (last.type, last.payload["refer_to"], last.payload["post"]) == ("opinion_amended", "LC-FGW", "A")
    assert last.actor_id == world.user_ids["rep_a"]  # the person, not the department


async def test_the_b_post_cannot_replace_the_a_posts_confirmation(client: TestClient, world: World,
                                                                  db_sessions) -> None:
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    await post(client, world, "/send", await sign_in(client, "chair"))

    # B answers while A has not; A's answer then replaces it
    await post(client, world, "/answers", await sign_in(client, "rep_b"),
               {"verdict": "object", "version": 1, "comment": "意见表述不全"})
    answered = await post(client, world, "/answers", await sign_in(client, "rep_a"),
                          {"verdict": "confirm", "version": 1, "comment": "无意见"})
    assert [(a["verdict"], a["person"], a["post"]) for a in answered["answers"]] == [("confirm", "王发改", "A")]

    # B cannot replace A's answer, whichever way it answers; nothing is written
    rep_b = await sign_in(client, "rep_b")
    before = await snapshot(db_sessions, world)
    for body in ({"verdict": "object", "version": 1, "comment": "仍有异议"}, {"verdict": "confirm", "version": 1}):
        response = await client.post(url(world, "/answers"), json=body, headers=rep_b)
        assert response.status == 409, await response.text()
        error = await error_of(response)
        assert error["code"] == "a_post_answered" and "王发改" in error["message"]
    assert await snapshot(db_sessions, world) == before
    assert [(a["verdict"], a["post"]) for a in (await minutes(client, world))["answers"]] == [("confirm", "A")]

    # A changes its own answer freely; once the content changes, A's answer no longer counts and B may answer
    rep_a = await sign_in(client, "rep_a")
    await post(client, world, "/answers", rep_a, {"verdict": "object", "version": 1, "comment": "决定事项需修改"})
    await post(client, world, "/edits", await sign_in(client, "chair"),
               {"edits": [{"path": "summary", "text": "会议审查了备案事项。"}], "reason": "按意见修改"})
    changed = await post(client, world, "/answers", await sign_in(client, "rep_b"),
                         {"verdict": "confirm", "version": 1})
    assert [(a["verdict"], a["person"], a["post"]) for a in changed["answers"]] == [("confirm", "赵发改", "B")]
    final = await post(client, world, "/finalise", await sign_in(client, "chair"), {})
    assert final["current"]["content"]["confirmations"][0]["person"] == "赵发改（B岗）"
