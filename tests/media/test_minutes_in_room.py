"""Minutes that are ready when the meeting ends (issue 13): the room shows the draft minutes as they
build from the record, departments confirm their opinions in the room as they will print, and
sending the draft after the meeting counts those confirmations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from record.reducer import fold
from server.db.models import Invitation, MinutesConfirmation
from server.services.eventlog import read_record
from server.services.minutes_state import load_state

from .review_support import Seat, seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401
from .test_minutes_live import api

pytestmark = pytest.mark.timeout(120)

CONDITION = "开工前取得取水许可批复（预览测试）"


async def _invite_zrj(live: LiveServer) -> None:
    """自然资源局 sits at meeting_x's table too (as a member), so two departments give opinions."""
    async with live.sessions() as db:
        db.add(Invitation(meeting_id=live.world.meeting_x, capacity="member", department_id=live.world.dept_zrj))
        await db.commit()


async def fresh_draft(seat: Seat, fmt: str = "html") -> dict[str, Any]:
    """The draft of everything on record now: asked again once the room is told a newer draft is
    ready, when the first answer was one built before (within the rebuild interval)."""
    ack = await seat.do("minutes_preview", format=fmt)
    if ack["stale"]:
        wanted = ack["events"]
        await seat.bot.wait_event(
            lambda name, data: name == "minutes_changed" and (data["draft"] or 0) > wanted, 10)
        ack = await seat.do("minutes_preview", format=fmt)
    assert not ack["stale"], ack
    return ack


async def test_the_draft_in_the_room_shows_an_opinion_given_a_moment_ago(live: LiveServer) -> None:
    chair, rep, applicant = await seats(live, "chair", "rep_a", "applicant")
    item = live.world.item_x
    await chair.do("meeting_start")
    await chair.do("agenda_open", item_id=item)
    before = await fresh_draft(applicant)  # anyone in the meeting reads the draft
    assert "征求意见稿" in before["html"] and "（散会后编号）" in before["html"]
    assert CONDITION not in before["html"]

    await rep.do("opinion_submit", item_id=item, kind="conditional", text="原则同意", conditions=[CONDITION])
    after = await fresh_draft(chair)
    assert after["events"] > before["events"]
    assert CONDITION in after["html"] and "凤庆县发展和改革局" in after["html"]
    model = (await fresh_draft(rep, "json"))["minutes"]
    [opinion] = model["items"][0]["opinions"]
    assert (opinion["department_code"], opinion["conditions"], opinion["revision"]) == ("FQ-FGJ", [CONDITION], 1)

    # the same builder and renderer as the minutes the end of the meeting drafts
    await chair.do("agenda_close", item_id=item, outcome="附条件通过")
    await chair.do("meeting_end", note="")
    last = await fresh_draft(chair, "json")
    async with api(live, "chair") as chair_api:
        drafted = await (await chair_api.get(f"/meetings/{live.world.meeting_x}/minutes")).json()
    content = drafted["current"]["content"]
    assert last["minutes"]["items"] == content["items"]
    assert last["minutes"]["attendance"] == content["attendance"]


async def test_only_the_departments_representative_confirms_its_opinion(live: LiveServer) -> None:
    await _invite_zrj(live)
    chair, rep_a, rep_other, applicant = await seats(live, "chair", "rep_a", "rep_other", "applicant")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    mine = await rep_a.do("opinion_submit", item_id=item, kind="agree", text="同意")
    await rep_other.do("opinion_submit", item_id=item, kind="agree", text="无意见")
    op = mine["opinion_id"]

    await rep_other.refused("opinion_confirm", "not_your_opinion", opinion_id=op, revision=1)
    await applicant.refused("opinion_confirm", "forbidden", opinion_id=op, revision=1)
    await chair.refused("opinion_confirm", "forbidden", opinion_id=op, revision=1)
    await rep_a.refused("opinion_confirm", "unknown_opinion", opinion_id="op-99", revision=1)
    await rep_a.refused("opinion_confirm", "stale_revision", opinion_id=op, revision=2)
    rep_b = (await seats(live, "rep_b"))[0]  # B while A is in the room: A's to confirm
    await rep_b.refused("opinion_confirm", "a_post_present", opinion_id=op, revision=1)

    await rep_a.do("opinion_confirm", opinion_id=op, revision=1)
    state = await chair.state_where(lambda s: any(o["confirmed"] for o in s["opinions"][str(item)]))
    confirmed = {o["department_code"]: o["confirmed"] for o in state["opinions"][str(item)]}
    assert confirmed["FQ-ZRJ"] is None
    assert confirmed["FQ-FGJ"] | {"revision": 1, "post": "A", "by": "王发改"} == confirmed["FQ-FGJ"]
    await live.settle()
    logged = [e for e in await live.events() if e.type == "opinion_confirmed"]
    assert [(e.payload["opinion_id"], e.payload["revision"], e.payload["department_code"], e.payload["post"],
             e.actor_id) for e in logged] == [(op, 1, "FQ-FGJ", "A", live.world.user_ids["rep_a"])]

    await rep_a.bot.leave()  # A away: B stands in, but does not replace A's confirmation
    await rep_b.refused("opinion_confirm", "a_post_confirmed", opinion_id=op, revision=1)
    await live.assert_chain_intact()


async def test_an_amendment_after_the_confirmation_voids_it(live: LiveServer) -> None:
    chair, rep = await seats(live, "chair", "rep_a")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    op = (await rep.do("opinion_submit", item_id=item, kind="agree", text="同意"))["opinion_id"]
    await rep.do("opinion_confirm", opinion_id=op, revision=1)
    await chair.state_where(lambda s: any(o["confirmed"] for o in s["opinions"][str(item)]))

    await rep.do("opinion_submit", item_id=item, kind="conditional", text="附条件同意", conditions=["先取得环评"],
                 amendment_reason="补充条件")
    state = await chair.state_where(lambda s: [o["revision"] for o in s["opinions"][str(item)]] == [2])
    assert state["opinions"][str(item)][0]["confirmed"] is None
    await rep.refused("opinion_confirm", "stale_revision", opinion_id=op, revision=1)

    await live.settle()
    async with live.sessions() as db:  # the record says the same when replayed
        replayed = fold(await read_record(db, live.world.meeting_x))
    assert replayed.opinions[op].confirmation is None
    assert [c.event.revision for c in replayed.opinions[op].confirmations] == [1]


async def test_sending_the_draft_counts_the_confirmations_of_the_current_text(live: LiveServer) -> None:
    await _invite_zrj(live)
    chair, rep_a, rep_other = await seats(live, "chair", "rep_a", "rep_other")
    item, meeting = live.world.item_x, live.world.meeting_x
    await chair.do("meeting_start")
    await chair.do("agenda_open", item_id=item)
    fgj = (await rep_a.do("opinion_submit", item_id=item, kind="agree", text="同意"))["opinion_id"]
    zrj = (await rep_other.do("opinion_submit", item_id=item, kind="agree", text="同意"))["opinion_id"]
    await rep_a.do("opinion_confirm", opinion_id=fgj, revision=1)
    await rep_other.do("opinion_confirm", opinion_id=zrj, revision=1)
    await rep_other.do("opinion_submit", item_id=item, kind="disagree", text="不同意", reasons="占用基本农田",
                       legal_basis="《土地管理法》第三十五条", amendment_reason="核查后发现占用基本农田")
    await chair.do("agenda_close", item_id=item, outcome="不予通过")
    await chair.do("meeting_end", note="")

    async with api(live, "chair") as chair_api:
        await chair_api.post(f"/meetings/{meeting}/minutes/send", {})
    async with live.sessions() as db:
        state = await load_state(db, meeting)
        assert state is not None
        answers = {a.department.code: a.answer for a in state.answers}
        rows = list(await db.scalars(select(MinutesConfirmation)))
    assert set(answers) == {"FQ-FGJ", "FQ-ZRJ"}
    assert answers["FQ-ZRJ"] is None  # amended after confirming: asked again
    fgj_answer = answers["FQ-FGJ"]
    assert fgj_answer is not None
    assert (fgj_answer.verdict, fgj_answer.comment, fgj_answer.post, fgj_answer.person_id) == (
        "confirm", "会中已确认", "A", live.world.user_ids["rep_a"])
    assert len(rows) == 1

    async with api(live, "rep_b") as rep_b_api:  # B cannot replace A's answer, given in the room
        async with rep_b_api.http.post(f"{rep_b_api.base}/meetings/{meeting}/minutes/answers",
                                       json={"verdict": "object", "version": 1, "comment": "再议"},
                                       headers={"X-CSRF-Token": rep_b_api.csrf}) as refused:
            assert refused.status == 409 and "a_post_answered" in await refused.text()
    async with api(live, "rep_other") as zrj_api:
        await zrj_api.post(f"/meetings/{meeting}/minutes/answers", {"verdict": "confirm", "version": 1})
    async with api(live, "chair") as chair_api:  # every department has confirmed: no note needed
        final = await chair_api.post(f"/meetings/{meeting}/minutes/finalise", {"note": ""})
    assert final["current"]["status"] == "final"
    confirmations = {c["department"]: c for c in final["current"]["content"]["confirmations"]}
    assert confirmations["凤庆县发展和改革局"]["note"] == "会中已确认"
