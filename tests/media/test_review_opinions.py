"""Departments' opinions in the live review: who may give them, what they must contain, amendments,
and what lands in the event log (the record's payload keys exactly)."""

from __future__ import annotations

import pytest

from record.events import payload_keys
from server.db.models import Invitation
from server.domain.opinions import REMEDY_NOTICE_ZH

from .review_support import CONDITIONAL, seat, seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


async def test_chief_rep_gives_a_conditional_opinion_the_chair_sees_it_and_the_log_keeps_it(
        live: LiveServer) -> None:
    chair, rep = await seats(live, "chair", "rep_a")
    item = live.world.item_x
    await rep.refused("opinion_submit", "item_not_open", item_id=item, **CONDITIONAL)
    await chair.do("agenda_open", item_id=item)

    ack = await rep.do("opinion_submit", item_id=item, **CONDITIONAL)
    assert (ack["opinion_id"], ack["revision"]) == ("op-01", 1)
    state = await chair.state_where(lambda s: s["opinions"][str(item)])
    [opinion] = state["opinions"][str(item)]
    assert opinion | {
        "opinion_id": "op-01", "department_code": "FQ-FGJ", "department_name": "凤庆县发展和改革局",
        "post": "A", "stands_in_for": None, "by": "王发改", "kind": "conditional",
        "kind_label": "附条件同意", "conditions": ["开工前取得环评批复"], "revision": 1,
    } == opinion
    assert [(m["material"], m["detail"], m["due_working_days"]) for m in opinion["materials"]] == [
        ("环境影响登记表", "盖章版", 5)]

    await live.settle()
    events = [e for e in await live.events() if e.type in ("opinion_submitted", "material_requested")]
    assert [e.type for e in events] == ["opinion_submitted", "material_requested"]
    for event in events:
        assert set(event.payload) == payload_keys(event.type)
        assert event.actor_id == live.world.user_ids["rep_a"]
    assert events[0].payload == {
        "schema_version": 1, "opinion_id": "op-01", "revision": 1, "project_code": "2603-530921-04-01-512345",
        "item_name": "企业投资项目备案", "department_code": "FQ-FGJ", "post": "A", "kind": "conditional",
        "text": "原则支持项目建设", "conditions": ["开工前取得环评批复"], "reasons": "", "legal_basis": "",
        "remedy_notice": "", "refer_to": None}
    assert events[1].payload | {"request_id": "mr-01", "opinion_id": "op-01", "material": "环境影响登记表",
                                "due_working_days": 5} == events[1].payload
    await live.assert_chain_intact()


async def test_b_post_stands_in_and_amends_until_the_item_closes(live: LiveServer) -> None:
    chair, rep_b = await seats(live, "chair", "rep_b")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    await rep_b.do("opinion_submit", item_id=item, kind="agree", text="同意备案")
    first = (await chair.state_where(lambda s: s["opinions"][str(item)]))["opinions"][str(item)][0]
    assert (first["post"], first["stands_in_for"], first["by"]) == ("B", "rep_a", "赵发改")

    refusal = await rep_b.refused("opinion_submit", "invalid_opinion", item_id=item, **CONDITIONAL)
    assert refusal["details"]["field"] == "amendment_reason"
    ack = await rep_b.do("opinion_submit", item_id=item, **CONDITIONAL, amendment_reason="补充环评条件")
    assert (ack["opinion_id"], ack["revision"]) == ("op-01", 2)
    amended = await chair.state_where(lambda s: [o["revision"] for o in s["opinions"][str(item)]] == [2])
    assert [o["kind"] for o in amended["opinions"][str(item)]] == ["conditional"]  # one per department

    await chair.do("agenda_close", item_id=item)
    await rep_b.refused("opinion_submit", "item_not_open", item_id=item, kind="agree",
                        amendment_reason="再改")
    await live.settle()
    log = [(e.type, e.payload["revision"], e.payload["post"]) for e in await live.events()
           if e.type.startswith("opinion_")]
    assert log == [("opinion_submitted", 1, "B"), ("opinion_amended", 2, "B")]
    amended_event = [e for e in await live.events() if e.type == "opinion_amended"][0]
    assert set(amended_event.payload) == payload_keys("opinion_amended")
    assert amended_event.payload["amendment_reason"] == "补充环评条件"
    await live.assert_chain_intact()


async def test_opinions_refused_from_everyone_else_and_when_incomplete(live: LiveServer) -> None:
    async with live.sessions() as db:  # 自然资源局 attends meeting X, but only as an observer (列席)
        db.add(Invitation(meeting_id=live.world.meeting_x, capacity="observer",
                          department_id=live.world.dept_zrj))
        await db.commit()
    chair, rep, applicant, observer = await seats(live, "chair", "rep_a", "applicant", "rep_other")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    for who in (applicant, chair, observer):
        await who.refused("opinion_submit", "forbidden", item_id=item, kind="agree")

    refusal = await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="disagree",
                                legal_basis="《行政许可法》第三十八条")
    assert refusal["details"]["field"] == "reasons" and "理由" in refusal["message"]
    assert "reasons" in refusal["message"]
    refusal = await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="disagree",
                                reasons="选址位于饮用水源保护区")
    assert refusal["details"]["field"] == "legal_basis"
    refusal = await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="conditional",
                                conditions=["  "])
    assert refusal["details"]["field"] == "conditions"
    await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="agree", refer_to="LC-FGW")
    await rep.refused("opinion_submit", "invalid_opinion", item_id=item, kind="agree",
                      materials=[{"material": "图纸", "due_working_days": 0}])
    await rep.refused("opinion_submit", "invalid_payload", item_id=item, kind="maybe")
    await rep.refused("opinion_submit", "invalid_payload", item_id=item, kind="agree", text="a\u0000b")

    ack = await rep.do("opinion_submit", item_id=item, kind="disagree", reasons="选址位于饮用水源保护区",
                       legal_basis="《水污染防治法》第六十五条")
    assert ack["revision"] == 1
    await live.settle()
    [event] = [e for e in await live.events() if e.type.startswith("opinion_")]
    assert event.payload["remedy_notice"] == REMEDY_NOTICE_ZH  # 行政许可法 §38: the refusal tells the remedy
    await live.assert_chain_intact()


async def test_review_rebuilds_from_the_log_when_the_meeting_resumes(live: LiveServer) -> None:
    chair, rep = await seats(live, "chair", "rep_a")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    await rep.do("opinion_submit", item_id=item, **CONDITIONAL)
    await chair.do("decision_record", item_id=None, text="原则同意")
    await chair.do("task_assign", department_code="FQ-FGJ", item_id=None, text="跟踪办理", due_working_days=3)
    before = await chair.state_where(lambda s: len(s["tasks"]) == 1)
    for participant in (rep, chair):
        await participant.bot.close()
    assert live.world.meeting_x not in live.signaling.meetings or \
        not live.signaling.meetings[live.world.meeting_x].participants

    again = await seat(live, "chair")
    after = again.review
    assert after["open_item_id"] == item
    assert after["opinions"] == before["opinions"]
    assert after["decisions"] == before["decisions"] and after["tasks"] == before["tasks"]
    assert (await again.do("decision_record", item_id=None, text="再议"))["decision_id"] == "d-02"
    await live.assert_chain_intact()
