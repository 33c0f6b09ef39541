"""Through the real path (issue 12, "Truthful rules"): a meeting held live with signaling clients,
one agenda item opened and one never opened, a member department that never came. The minutes the
ended meeting yields say 视为同意 for the absent department on the reviewed item only, and list the
other item as 未审议 with nobody deemed to have agreed to it."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from server.db.models import AgendaEntry, ApprovalItem, Invitation
from server.services.calendar import seed_calendar

from .review_support import seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401
from .test_minutes_live import api

pytestmark = pytest.mark.timeout(180)

FILING = "企业投资项目备案"
LAND = "建设项目用地预审与选址意见书核发"
CITY = "临沧市发展和改革委员会"


def _text(document: bytes) -> str:
    """The words of the HTML document, without markup or white space."""
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", document.decode("utf-8"))))


async def test_the_absent_department_is_deemed_to_agree_only_on_the_item_reviewed(
        live: LiveServer) -> None:  # noqa: F811 (the fixture imported above)
    world = live.world
    meeting = world.meeting_x
    async with live.sessions() as db:  # a second item (自然资源局) and two more member departments
        await seed_calendar(db)
        land = ApprovalItem(case_id=world.case_x, name=LAND, department_id=world.dept_zrj, level="county",
                            accepted_on=date(2026, 12, 1), statutory_limit_wd=20, promised_limit_wd=12,
                            status="in_review")
        db.add(land)
        await db.flush()
        db.add_all([AgendaEntry(meeting_id=meeting, item_id=land.id, position=2),
                    Invitation(meeting_id=meeting, capacity="member", department_id=world.dept_zrj),
                    Invitation(meeting_id=meeting, capacity="member", department_id=world.dept_city)])
        await db.commit()

    async with api(live, "chair") as chair_api:
        await chair_api.post(f"/meetings/{meeting}/status", {"status": "live", "note": ""})
        chair, rep_a, rep_other = await seats(live, "chair", "rep_a", "rep_other")
        await chair.do("agenda_open", item_id=world.item_x)
        await rep_a.do("opinion_submit", item_id=world.item_x, kind="agree", text="同意备案")
        await rep_other.do("opinion_submit", item_id=world.item_x, kind="agree_in_principle", text="原则同意")
        await chair.do("agenda_close", item_id=world.item_x, outcome="通过")
        await live.settle()
        ended = await chair_api.post(f"/meetings/{meeting}/status", {"status": "ended", "note": ""})
        assert ended["status"] == "minutes_draft"
        minutes = (await (await chair_api.get(f"/meetings/{meeting}/minutes")).json())["current"]["content"]
        document = await (await chair_api.get(
            f"/meetings/{meeting}/minutes/versions/1/document?format=html")).read()
    await live.assert_chain_intact()

    filing, land_item = minutes["items"]
    assert (filing["name"], filing["reviewed"], land_item["name"], land_item["reviewed"]) == (
        FILING, True, LAND, False)
    assert [(a["department"], a["status"]) for a in filing["absent"]] == [(CITY, "deemed_accept")]
    assert land_item["absent"] == [] and land_item["opinions"] == []
    [absent] = minutes["attendance"]["absent"]
    assert absent["statement"] == f"{CITY}未出席会议，对{FILING}视为同意会议议定事项。"
    assert not minutes["start_planned"] and minutes["end"]

    text = _text(document)
    assert f"{CITY}：未出席，视为同意会议议定事项。" in text
    assert f"对{FILING}视为同意会议议定事项" in text
    assert f"{LAND}视为同意" not in text and f"、{LAND}" not in text
    not_reviewed = text[text.index("未审议事项"):]
    assert f"（一）{LAND}" in not_reviewed and "本次会议未审议，未形成会议意见，转会后跟进办理。" in not_reviewed
    between = not_reviewed[:not_reviewed.index("转会后跟进办理")]
    assert "视为同意" not in between and CITY not in between
