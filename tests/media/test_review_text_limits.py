"""Long text in the live review is refused, saying which field and what limit, and never cut: a text
at its limit is logged exactly as written (only trimmed at both ends, the documented rule)."""

from __future__ import annotations

from typing import Any

import pytest

from server.signaling.review_messages import TEXT_LIMITS

from .review_support import Seat, seat, seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def writing(length: int) -> str:
    """``length`` characters (code points) of Chinese prose with a character outside the BMP, which
    a browser's maxlength counts twice but the server counts once; it ends in a full stop so a cut
    shows."""
    body = ("申请人应在开工前取得环境影响评价批复𠀀并落实各项污染防治措施" * (length // 20 + 1))[:length - 1]
    return body + "。"


async def refused_too_long(person: Seat, event: str, field: str, limit: int, length: int,
                           **payload: Any) -> None:
    """``event`` is refused as ``text_too_long`` naming ``field`` and its limit, in the ack and as an
    ``error`` event, with a bilingual message."""
    error = await person.refused(event, "text_too_long", **payload)
    assert error["details"] == {"field": field, "limit": limit, "length": length}
    assert str(limit) in error["message"] and " / " in error["message"]
    assert any("\u4e00" <= c <= "\u9fff" for c in error["message"].split(" / ")[0])
    _, sent = await person.bot.wait_event(lambda n, d: n == "error" and d["event"] == event
                                          and d["code"] == "text_too_long" and d["details"]["field"] == field)
    assert sent == error


async def test_chat_over_the_limit_is_refused_and_a_full_one_is_logged_exactly(live: LiveServer) -> None:
    rep, applicant = await seats(live, "rep_a", "applicant")
    limit = TEXT_LIMITS["chat"]
    assert limit == 2000
    await refused_too_long(rep, "chat_send", "text", limit, limit + 1, text=writing(limit + 1))

    full = writing(limit)
    sent = await rep.do("chat_send", text=full)
    _, message = await applicant.bot.wait_event(lambda n, d: n == "chat_message" and d["id"] == sent["id"])
    assert message["text"] == full

    await live.settle()
    chats = [e.payload for e in await live.events() if e.type == "chat_message"]
    assert chats == [{"schema_version": 1, "text": full, "to": None}]  # nothing of the refused ones
    assert chats[0]["text"].encode() == full.encode()
    await live.assert_chain_intact()


async def test_opinion_texts_over_their_limits_are_refused_naming_the_field(live: LiveServer) -> None:
    chair, rep = await seats(live, "chair", "rep_a")
    item = live.world.item_x
    await chair.do("agenda_open", item_id=item)
    within = {"item_id": item, "kind": "disagree", "reasons": "不符合产业政策", "legal_basis": "《行政许可法》第三十八条"}
    for field, limit in (("reasons", 4000), ("legal_basis", 2000), ("text", 4000)):
        assert TEXT_LIMITS[{"text": "opinion_text"}.get(field, field)] == limit
        await refused_too_long(rep, "opinion_submit", field, limit, limit + 1,
                               **(within | {field: writing(limit + 1)}))
    conditional = {"item_id": item, "kind": "conditional", "conditions": ["开工前取得环评批复", writing(1001)]}
    await refused_too_long(rep, "opinion_submit", "conditions.1", 1000, 1001, **conditional)
    material = {"material": "环境影响登记表", "detail": writing(1001), "due_working_days": 5}
    await refused_too_long(rep, "opinion_submit", "materials.0.detail", 1000, 1001,
                           **within | {"materials": [material]})

    await live.settle()
    assert not [t for t in await live.event_types() if t.startswith(("opinion_", "material_"))]

    reasons, basis = writing(4000), writing(2000)
    await rep.do("opinion_submit", **within | {"reasons": reasons, "legal_basis": basis})
    shown = await chair.state_where(lambda s: s["opinions"][str(item)])
    assert shown["opinions"][str(item)][0]["reasons"] == reasons
    await live.settle()
    [logged] = [e.payload for e in await live.events() if e.type == "opinion_submitted"]
    assert (logged["reasons"].encode(), logged["legal_basis"].encode()) == (reasons.encode(), basis.encode())
    await live.assert_chain_intact()


async def test_chair_texts_over_their_limits_are_refused(live: LiveServer) -> None:
    chair = await seat(live, "chair")
    item = live.world.item_x
    await refused_too_long(chair, "decision_record", "text", 4000, 4001, item_id=None, text=writing(4001))
    await refused_too_long(chair, "task_assign", "text", 4000, 4001, department_code="FQ-ZRJ", item_id=None,
                           text=writing(4001), due_working_days=5)
    await refused_too_long(chair, "hand_raise", "purpose", 200, 201, purpose=writing(201))
    await chair.do("agenda_open", item_id=item)
    await refused_too_long(chair, "agenda_close", "outcome", 500, 501, item_id=item, outcome=writing(501))

    decision = writing(4000)
    await chair.do("decision_record", item_id=None, text=decision)
    await live.settle()
    logged = [(e.type, e.payload.get("text")) for e in await live.events()
              if e.type in ("decision_recorded", "task_assigned", "hand_raised", "agenda_item_closed")]
    assert logged == [("decision_recorded", decision)]


async def test_rest_text_over_its_limit_is_a_422_naming_the_field(live: LiveServer) -> None:
    """The HTTP side already refuses long text by field (pydantic bodies); a 请假 reason stands for it."""
    import aiohttp

    from tests.world import PASSWORD

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = await http.post(f"{live.url}/api/v1/auth/login", json={"username": "rep_a", "password": PASSWORD})
        headers = {"X-CSRF-Token": (await login.json())["csrf_token"]}
        meeting = await (await http.get(f"{live.url}/api/v1/meetings/{live.world.meeting_x}")).json()
        [invitation] = [i for i in meeting["invitations"]
                        if i["department"] and i["department"]["id"] == live.world.dept_fgj]
        url = f"{live.url}/api/v1/meetings/{live.world.meeting_x}/invitations/{invitation['id']}/excuse"
        refused = await http.post(url, json={"reason": writing(501)}, headers=headers)
        assert refused.status == 422
        error = (await refused.json())["error"]
        assert "reason" in str(error["details"]) and " / " in error["message"]
        reason = writing(500)
        accepted = await http.post(url, json={"reason": reason}, headers=headers)
        assert accepted.status == 200, await accepted.text()
        [kept] = [i for i in (await accepted.json())["invitations"] if i["id"] == invitation["id"]]
        assert kept["excused_reason"] == reason
