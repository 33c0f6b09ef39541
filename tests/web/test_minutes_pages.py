"""The minutes page: what each person sees and may do, the forms working end to end, and the case page
listing the final minutes with the notice."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import MinutesVersion
from tests.api.meetings_support import count_rows, sign_in
from tests.api.minutes_support import MINUTES_TABLES, OPINION_ID, end_through_api, hold_meeting
from tests.world import World, build_world


@pytest.fixture
async def world(db_sessions) -> World:
    world = await build_world(db_sessions)
    await hold_meeting(db_sessions, world, world.meeting_x)
    return world


async def _page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text[:800]
    return text


async def _submit(client: TestClient, headers: dict[str, str], action: str, status: int = 302, **fields: object) -> str:
    response = await client.post(action, data={"csrf_token": headers["X-CSRF-Token"], **fields},
                                 allow_redirects=False)
    assert response.status == status, (await response.text())[:800]
    return await response.text()


async def test_minutes_page_through_the_workflow(client: TestClient, world: World, db_sessions) -> None:
    base = f"/meetings/{world.meeting_x}/minutes"
    await sign_in(client, "chair")
    assert 'href="/meetings/%d/minutes"' % world.meeting_x not in await _page(client, f"/meetings/{world.meeting_x}")
    await end_through_api(client, world.meeting_x)
    chair = await sign_in(client, "chair")
    assert f'href="{base}"' in await _page(client, f"/meetings/{world.meeting_x}")
    html = await _page(client, base)
    assert "凤联审纪" in html and "草稿" in html and 'name="edit:summary"' in html
    assert "送交各部门确认" in html and 'for="edit-1"' in html  # labelled editor fields
    await _submit(client, chair, f"{base}/edits", status=302, reason="页面测试", **{"edit:summary": "页面修改的总结。"})
    before = await count_rows(db_sessions, *MINUTES_TABLES)
    refused = await _submit(client, chair, f"{base}/edits", 422, reason="r", **{"edit:items/1/opinions": "x"})
    assert "不是可编辑的内容" in refused
    assert await count_rows(db_sessions, *MINUTES_TABLES) == before
    await _submit(client, chair, f"{base}/send")

    rep_b = await sign_in(client, "rep_b")
    html = await _page(client, base)
    assert 'name="verdict" value="confirm"' in html and f'value="{OPINION_ID}"' in html
    assert "送交各部门确认" not in html and 'name="edit:' not in html  # no chair forms
    await _submit(client, rep_b, f"{base}/amendments", opinion_id=OPINION_ID, kind="agree", text="同意备案",
                  conditions="", reasons="", legal_basis="", refer_to="", reason="会后核实")
    await _submit(client, rep_b, f"{base}/answers", verdict="object", comment="", version="1", status=422)
    await _submit(client, rep_b, f"{base}/answers", verdict="confirm", comment="", version="1")
    html = await _page(client, base)
    assert "赵发改" in html and "意见修改" in html

    applicant = await sign_in(client, "applicant")
    assert "纪要尚未定稿" in await _page(client, base, 404)
    assert applicant

    chair = await sign_in(client, "chair")
    await _submit(client, chair, f"{base}/finalise", note="")
    html = await _page(client, base)
    assert "已定稿" in html and "SHA-256" in html and "生成新版本" in html
    await sign_in(client, "applicant")
    html = await _page(client, base)
    assert "已定稿" in html and "一次性告知书" in html and 'name="verdict"' not in html
    case_html = await _page(client, f"/cases/{world.case_x}")
    assert "凤联审纪" in case_html and f"/api/v1/meetings/{world.meeting_x}/minutes/notice?format=pdf" in case_html
    assert "补正节能报告后办理。" in case_html  # the decision on the case's item
    async with db_sessions() as db:
        assert [v.status for v in await db.scalars(select(MinutesVersion))] == ["final"]
    await sign_in(client, "applicant_other")
    await _page(client, base, 404)


async def test_english_page_and_chair_generates_when_missing(client: TestClient, world: World) -> None:
    chair = await sign_in(client, "chair")
    base = f"/meetings/{world.meeting_y}/minutes"
    html = await _page(client, base + "?lang=en")
    assert "This meeting has no minutes yet." in html
    await _submit(client, chair, base + "/generate", status=409)  # the meeting has not ended
