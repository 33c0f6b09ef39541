"""A meeting held live (real server, real socket.io participants, the review handlers) and ended
through the meetings API yields its draft minutes, with what was said in it (issue 6).

The times are live, so this compares content; the golden comparison of a fixed-time meeting is
tests/api/test_minutes_scripted.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import aiohttp
import pytest

from server.db.models import Invitation
from server.domain.workcalendar import deadline
from server.services.calendar import load_calendar, seed_calendar
from tests.minutes_checks import check_pdf
from tests.world import PASSWORD

from .review_support import seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(180)

CONDITION = "开工前取得环境影响评价批复"
REASONS = "拟建厂房西侧部分位于永久基本农田保护范围内"
LEGAL_BASIS = "《中华人民共和国土地管理法》第三十五条"
MATERIAL = "环境影响登记表"
DECISION = "项目备案原则同意，环评批复取得后出具备案证明"
TASK = "跟踪环评批复办理进度"
OUTCOME = "附条件通过，补正材料一次性告知申请人"
SUMMARY = "会议审查1个事项：附条件通过。"


class Api:
    """A signed-in browser-like HTTP client of the live server (session cookie plus CSRF token)."""

    def __init__(self, live: LiveServer, http: aiohttp.ClientSession, csrf: str) -> None:
        self.base = f"{live.url}/api/v1"
        self.http = http
        self.csrf = csrf

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}) as response:
            assert response.status in (200, 201), (path, response.status, await response.text())
            return await response.json()

    async def get(self, path: str) -> aiohttp.ClientResponse:
        response = await self.http.get(self.base + path)
        await response.read()
        assert response.status == 200, (path, response.status, await response.text())
        return response


@asynccontextmanager
async def api(live: LiveServer, username: str) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{live.url}/api/v1/auth/login",
                             json={"username": username, "password": PASSWORD}) as login:
            assert login.status == 200, await login.text()
            yield Api(live, http, (await login.json())["csrf_token"])


async def test_a_live_meeting_ends_with_draft_minutes_of_what_was_said(live: LiveServer) -> None:
    world = live.world
    meeting, item = world.meeting_x, world.item_x
    async with live.sessions() as db:  # 自然资源局 is invited as a member too, so that it can refuse
        await seed_calendar(db)
        db.add(Invitation(meeting_id=meeting, capacity="member", department_id=world.dept_zrj))
        await db.commit()

    async with api(live, "chair") as chair_api:
        await chair_api.post(f"/meetings/{meeting}/status", {"status": "live", "note": ""})
        chair, rep_a, rep_other, _applicant = await seats(live, "chair", "rep_a", "rep_other", "applicant")
        await chair.do("agenda_open", item_id=item)
        await rep_a.do("opinion_submit", item_id=item, kind="conditional", text="原则支持项目建设",
                       conditions=[CONDITION],
                       materials=[{"material": MATERIAL, "detail": "加盖建设单位公章", "due_working_days": 5}])
        await rep_other.do("opinion_submit", item_id=item, kind="disagree", text="不同意现选址方案",
                           reasons=REASONS, legal_basis=LEGAL_BASIS)
        await chair.do("decision_record", item_id=item, text=DECISION)
        await chair.do("task_assign", department_code="FQ-FGJ", item_id=item, text=TASK, due_working_days=3)
        await chair.do("agenda_close", item_id=item, outcome=OUTCOME)
        await live.settle()
        ended = await chair_api.post(f"/meetings/{meeting}/status", {"status": "ended", "note": SUMMARY})
        assert ended["status"] == "minutes_draft"  # ending the meeting made the draft

        state = await (await chair_api.get(f"/meetings/{meeting}/minutes")).json()
        assert state["current"]["version"] == 1 and state["current"]["status"] == "draft"
        assert state["number"] == f"凤联审纪〔{state['year']}〕1号"
        minutes = state["current"]["content"]
        pdf = await (await chair_api.get(f"/meetings/{meeting}/minutes/versions/1/document?format=pdf")).read()
    await live.assert_chain_intact()

    assert minutes["summary"] == SUMMARY
    assert [u["code"] for u in minutes["attendance"]["present"]] == ["FQ-FGJ", "FQ-ZRJ"]
    assert minutes["attendance"]["absent"] == []
    [reviewed] = minutes["items"]
    assert (reviewed["name"], reviewed["outcome"]) == ("企业投资项目备案", OUTCOME)
    opinions = {o["department_code"]: o for o in reviewed["opinions"]}
    assert opinions["FQ-FGJ"] | {"department": "凤庆县发展和改革局", "kind": "conditional",
                                  "kind_label": "附条件同意", "conditions": [CONDITION], "given_by": "王发改",
                                  "revision": 1} == opinions["FQ-FGJ"]
    assert opinions["FQ-ZRJ"] | {"department": "凤庆县自然资源局", "kind": "disagree", "kind_label": "不同意",
                                  "reasons": REASONS, "legal_basis": LEGAL_BASIS,
                                  "given_by": "钱自然"} == opinions["FQ-ZRJ"]
    assert opinions["FQ-ZRJ"]["remedy_notice"]  # 行政许可法 §38: a refusal tells the remedy

    [material] = minutes["materials"]
    assert (material["material"], material["department"], material["due_working_days"]) == (
        MATERIAL, "凤庆县发展和改革局", 5)
    async with live.sessions() as db:  # the due date on the centre's calendar, the meeting day excluded
        calendar = await load_calendar(db)
    assert material["due_date"] == deadline(calendar, date.fromisoformat(minutes["date"]), 5).date.isoformat()
    assert [d["text"] for d in minutes["decisions"]] == [DECISION]
    [group] = minutes["tasks"]
    assert (group["department"], [t["text"] for t in group["tasks"]]) == ("凤庆县发展和改革局", [TASK])
    assert group["tasks"][0]["due_working_days"] == 3

    due = date.fromisoformat(material["due_date"])
    check_pdf(pdf, [state["number"], "凤庆县发展和改革局", "凤庆县自然资源局", "附条件同意", "不同意", CONDITION,
                    REASONS, LEGAL_BASIS, MATERIAL, DECISION, TASK, OUTCOME,
                    f"5个工作日内（{due.year}年{due.month}月{due.day}日前）"])
