"""The pages of a meeting for a chair who does not chair it: everything to read, no form to change
it, and a form posted anyway is refused by the same service check as the API."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient

from server.db.models import Invitation, Meeting, MeetingEvent
from tests.api.meetings_support import count_rows, sign_in
from tests.api.minutes_support import MINUTES_TABLES, end_through_api, hold_meeting
from tests.world import World, build_world

FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def _forms(client: TestClient, path: str) -> list[str]:
    """Where the page's forms about meetings post to."""
    response = await client.get(path, allow_redirects=False)
    html = await response.text()
    assert response.status == 200, html[:500]
    return [action for action in FORM_ACTION.findall(html) if action.startswith("/meetings/")]  # not /logout


async def test_another_chair_gets_no_meeting_forms_and_posting_them_is_refused(
        client: TestClient, world: World, db_sessions) -> None:
    page = f"/meetings/{world.meeting_x}"
    await sign_in(client, "chair")
    own = await _forms(client, page)
    assert f"{page}/status" in own and any(action.endswith("/excuse") for action in own)
    excuse = next(action for action in own if action.endswith("/excuse"))

    other = await sign_in(client, "chair_other")
    assert await _forms(client, page) == []
    before = await count_rows(db_sessions, Meeting, Invitation, MeetingEvent)
    for action, fields in ((f"{page}/status", {"status": "cancelled"}), (f"{page}/status", {"status": "live"}),
                           (excuse, {"reason": "代为请假"})):
        response = await client.post(action, data={"csrf_token": other["X-CSRF-Token"], **fields},
                                     allow_redirects=False)
        html = await response.text()
        assert response.status == 403 and "只有本次会议的主持人可以执行此操作" in html, (action, html[:500])
    assert await count_rows(db_sessions, Meeting, Invitation, MeetingEvent) == before
    async with db_sessions() as db:
        meeting = await db.get(Meeting, world.meeting_x)
        assert meeting is not None and meeting.status == "scheduled"
        assert all(not i.excused_reason for i in meeting.invitations)


async def test_another_chair_gets_no_minutes_forms(client: TestClient, world: World, db_sessions) -> None:
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)  # as the chair: the draft is generated
    page = f"/meetings/{world.meeting_x}/minutes"
    own = await _forms(client, page)
    assert f"{page}/edits" in own and f"{page}/send" in own
    other = await sign_in(client, "chair_other")
    assert await _forms(client, page) == []
    before = await count_rows(db_sessions, *MINUTES_TABLES)
    response = await client.post(f"{page}/send", data={"csrf_token": other["X-CSRF-Token"]},
                                 allow_redirects=False)
    assert response.status == 403
    assert await count_rows(db_sessions, *MINUTES_TABLES) == before
