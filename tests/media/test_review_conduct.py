"""Conduct of the review over socket.io: agenda, hands and the floor, chat, decisions and tasks."""

from __future__ import annotations

import pytest

from .review_support import seat, seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


async def test_only_the_chair_opens_and_closes_items(live: LiveServer) -> None:
    chair, rep = await seat(live, "chair"), await seat(live, "rep_a")
    item = live.world.item_x
    assert chair.review["items"][0]["status"] == "pending" and chair.review["open_item_id"] is None
    await rep.refused("agenda_open", "not_chair", item_id=item)
    await chair.refused("agenda_open", "unknown_item", item_id=item + 1000)
    await chair.refused("agenda_close", "item_not_open", item_id=item)

    await chair.do("agenda_open", item_id=item)
    state = await rep.state_where(lambda s: s["open_item_id"] == item)
    assert state["items"][0] | {"status": "open"} == state["items"][0]
    assert state["items"][0]["project_code"] == "2603-530921-04-01-512345"
    await rep.refused("agenda_close", "not_chair", item_id=item)
    await chair.do("agenda_close", item_id=item, outcome="原则同意，按意见补正材料")
    await rep.state_where(lambda s: s["items"][0]["status"] == "closed" and s["open_item_id"] is None)
    await chair.refused("agenda_open", "item_closed", item_id=item)

    await live.settle()
    logged = [(e.type, e.payload, e.actor_id) for e in await live.events()
              if e.type.startswith("agenda_item")]
    common = {"schema_version": 1, "project_code": "2603-530921-04-01-512345", "item_name": "企业投资项目备案",
              "position": 1}
    chair_id = live.world.user_ids["chair"]
    assert logged == [("agenda_item_opened", common, chair_id),
                      ("agenda_item_closed", common | {"outcome": "原则同意，按意见补正材料"}, chair_id)]
    await live.assert_chain_intact()


async def test_hands_queue_in_order_and_the_chair_gives_the_floor(live: LiveServer) -> None:
    chair, rep, applicant = await seats(live, "chair", "rep_a", "applicant")
    await chair.refused("hand_next", "no_hands")
    assert (await applicant.do("hand_raise", purpose="补充说明用地情况"))["position"] == 1
    assert (await rep.do("hand_raise"))["position"] == 2
    assert (await applicant.do("hand_raise"))["position"] == 1  # raising again keeps the place
    await chair.state_where(lambda s: s["hands"] == [applicant.id, rep.id])
    await rep.refused("hand_next", "not_chair")

    assert (await chair.do("hand_next"))["floor"] == applicant.id
    await rep.state_where(lambda s: s["floor"] == applicant.id and s["hands"] == [rep.id])
    await rep.do("hand_lower")
    await chair.state_where(lambda s: s["hands"] == [] and s["floor"] == applicant.id)
    await chair.refused("hand_next", "no_hands")

    await live.settle()
    raised = [e.payload for e in await live.events() if e.type == "hand_raised"]
    assert raised == [{"schema_version": 1, "purpose": "补充说明用地情况"}, {"schema_version": 1, "purpose": ""}]


async def test_chat_round_trip_and_the_chair_turns_it_off(live: LiveServer) -> None:
    chair, rep, applicant = await seats(live, "chair", "rep_a", "applicant")
    sent = await rep.do("chat_send", text="  请申请人说明排污口位置 ")
    _, message = await applicant.bot.wait_event(lambda n, d: n == "chat_message" and d["id"] == sent["id"])
    assert message["participant_id"] == rep.id and message["display_name"] == "王发改"
    assert message["text"] == "请申请人说明排污口位置" and message["ts"]
    await rep.refused("chat_send", "invalid_payload", text="   ")
    await rep.refused("chat_send", "text_too_long", text="x" * 2001)

    await applicant.refused("chat_enable", "not_chair", enabled=False)
    await chair.do("chat_enable", enabled=False)
    await rep.state_where(lambda s: s["chat_enabled"] is False)
    refusal = await applicant.refused("chat_send", "chat_disabled", text="还能发吗")
    assert "chat" in refusal["message"]
    _, error = await applicant.bot.wait_event(lambda n, d: n == "error" and d["event"] == "chat_send")
    assert error["code"] == "chat_disabled"  # refusals also arrive as error events
    await chair.do("chat_send", text="请大家暂停文字交流")  # the chair always may
    await chair.do("chat_enable", enabled=True)
    await applicant.do("chat_send", text="好的")

    await live.settle()
    chats = [(e.payload, e.actor_id) for e in await live.events() if e.type == "chat_message"]
    ids = live.world.user_ids
    chat = {"schema_version": 1, "to": None}
    assert chats == [({**chat, "text": "请申请人说明排污口位置"}, ids["rep_a"]),
                     ({**chat, "text": "请大家暂停文字交流"}, ids["chair"]),
                     ({**chat, "text": "好的"}, ids["applicant"])]


async def test_chair_records_decisions_and_tasks(live: LiveServer) -> None:
    chair, rep = await seat(live, "chair"), await seat(live, "rep_a")
    item = live.world.item_x
    await rep.refused("decision_record", "not_chair", item_id=None, text="同意")
    await rep.refused("task_assign", "not_chair", department_code="FQ-FGJ", item_id=None, text="x",
                      due_working_days=3)
    assert (await chair.do("decision_record", item_id=None, text="项目符合产业政策，原则同意建设"))[
        "decision_id"] == "d-01"
    assert (await chair.do("decision_record", item_id=item, text="备案事项当场办结"))["decision_id"] == "d-02"
    await chair.refused("decision_record", "unknown_item", item_id=item + 99, text="x")
    await chair.refused("task_assign", "unknown_department", department_code="NOPE", item_id=None,
                        text="x", due_working_days=3)
    await chair.refused("task_assign", "invalid_payload", department_code="FQ-ZRJ", item_id=None,
                        text="x", due_working_days=0)
    task = await chair.do("task_assign", department_code="FQ-ZRJ", item_id=item,
                          text="协助申请人办理用地手续", due_working_days=5)
    assert task["task_id"] == "t-01"
    state = await rep.state_where(lambda s: len(s["tasks"]) == 1)
    assert [d["text"] for d in state["decisions"]] == ["项目符合产业政策，原则同意建设", "备案事项当场办结"]
    assert state["tasks"][0]["department_name"] == "凤庆县自然资源局"
    assert state["tasks"][0]["item_id"] == item

    await live.settle()
    events = {e.type: [] for e in await live.events()}
    for e in await live.events():
        events[e.type].append(e.payload)
    assert events["decision_recorded"] == [
        {"schema_version": 1, "decision_id": "d-01", "project_code": "2603-530921-04-01-512345", "item_name": None,
         "text": "项目符合产业政策，原则同意建设"},
        {"schema_version": 1, "decision_id": "d-02", "project_code": "2603-530921-04-01-512345", "item_name": "企业投资项目备案",
         "text": "备案事项当场办结"}]
    assert events["task_assigned"] == [
        {"schema_version": 1, "task_id": "t-01", "department_code": "FQ-ZRJ", "project_code": "2603-530921-04-01-512345",
         "item_name": "企业投资项目备案", "text": "协助申请人办理用地手续", "due_working_days": 5}]
    await live.assert_chain_intact()
