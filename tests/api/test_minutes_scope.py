"""Hostile requests against the minutes beyond the role matrix: the right role without the
ownership (another chair, a representative who sees the case but not the meeting, an applicant
invited to a meeting about someone else's case). Each is refused and changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import ApprovalItem, Invitation, MinutesCaseLink
from server.domain.roles import Role
from server.services.people import NewPerson, create_person
from tests.api.meetings_support import count_rows, error_of, sign_in
from tests.api.minutes_support import (
    MINUTES_TABLES,
    end_through_api,
    finalised_minutes_y,
    hold_meeting,
)
from tests.world import PASSWORD, World, build_world


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)



async def test_a_chair_of_another_meeting_and_the_archivist_change_nothing(client: TestClient, world: World,
                                                                           db_sessions) -> None:
    async with db_sessions() as db:
        await create_person(db, NewPerson("chair_2", "陈主任", Role.CHAIR, PASSWORD))
        await db.commit()
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    base = f"/api/v1/meetings/{world.meeting_x}/minutes"
    writes = [("", None), ("/edits", {"edits": [{"path": "summary", "text": "代改"}], "reason": "代改"}),
              ("/send", None), ("/finalise", {"note": "代为定稿"}), ("/versions", {"reason": "代改"})]
    before = await count_rows(db_sessions, *MINUTES_TABLES)
    other_chair = await sign_in(client, "chair_2")
    assert (await client.get(base)).status == 200  # chairs read every meeting's minutes...
    for rest, body in writes:  # ...but change only their own meeting's
        response = await client.post(base + rest, json=body, headers=other_chair)
        assert response.status == 403, (rest, await response.text())
        assert (await error_of(response))["code"] == "not_the_chair", rest
    page = await client.post(f"/meetings/{world.meeting_x}/minutes/edits", allow_redirects=False,
                             data={"csrf_token": other_chair["X-CSRF-Token"], "path": "summary", "text": "代改",
                                   "reason": "代改"})
    assert page.status == 403
    archivist = await sign_in(client, "archivist")
    for rest, body in writes:
        assert (await client.post(base + rest, json=body, headers=archivist)).status == 403, rest
    page = await client.post(f"/meetings/{world.meeting_x}/minutes/send", allow_redirects=False,
                             data={"csrf_token": archivist["X-CSRF-Token"]})
    assert page.status == 403
    assert await count_rows(db_sessions, *MINUTES_TABLES) == before


async def test_a_representative_sees_the_case_but_not_minutes_of_meetings_they_were_not_in(
        client: TestClient, world: World, db_sessions, settings) -> None:
    async with db_sessions() as db:  # 发改局 gets an item of case Y; meeting_y invites 自然资源局 only
        db.add(ApprovalItem(case_id=world.case_y, name="企业投资项目备案", department_id=world.dept_fgj,
                            level="county", accepted_on=date(2026, 4, 2), statutory_limit_wd=20,
                            promised_limit_wd=5, status="accepted"))
        await db.commit()
    await finalised_minutes_y(db_sessions, world, settings)
    async with db_sessions() as db:
        assert list(await db.scalars(select(MinutesCaseLink.case_id))) == [world.case_y]
    await sign_in(client, "rep_a")  # 发改局: sees case Y through its item, was not invited to meeting_y
    page = await client.get(f"/cases/{world.case_y}")
    html = await page.text()
    assert page.status == 200, html[:800]
    assert f"/meetings/{world.meeting_y}/minutes" not in html and "<strong>凤联审纪" not in html
    assert (await client.get(f"/api/v1/meetings/{world.meeting_y}/minutes")).status == 404


async def test_an_applicant_invited_to_a_meeting_about_another_case_gets_neither_minutes_nor_notice(
        client: TestClient, world: World, db_sessions, settings) -> None:
    async with db_sessions() as db:  # organisation X invited to the meeting that reviews case Y only
        db.add(Invitation(meeting_id=world.meeting_y, capacity="applicant", organisation_id=world.org_x))
        await db.commit()
    await finalised_minutes_y(db_sessions, world, settings)
    base = f"/api/v1/meetings/{world.meeting_y}/minutes"
    for account in ("applicant", "agent"):
        await sign_in(client, account)
        for rest in ("", "/versions/1", "/versions/1/document?format=json"):
            response = await client.get(base + rest)
            assert response.status == 403 and (await error_of(response))["code"] == "not_your_cases", (account, rest)
        notice = await client.get(base + "/notice?format=html")
        assert notice.status == 404 and (await error_of(notice))["code"] == "not_your_cases", account
        page = await client.get(f"/meetings/{world.meeting_y}/minutes")
        assert page.status == 403 and "凤庆县滇红茶业" not in await page.text()
    await sign_in(client, "applicant_other")  # the case's own applicant reads both
    assert (await client.get(base)).status == 200
    assert (await client.get(base + "/notice?format=html")).status == 200
