"""The meeting room's pages: who gets them, what they carry, and the browser libraries they load."""

from __future__ import annotations

import json
import re

import pytest
from aiohttp.test_utils import TestClient

from server.db.models import Meeting
from server.services.eventlog import append_event
from server.web.pages.room import VENDOR
from tests.api.meetings_support import sign_in
from tests.test_app_core import login
from tests.world import build_world

CONFIG = re.compile(r'<script type="application/json" id="room-config">(.*?)</script>', re.S)


def _config(html: str) -> dict:
    match = CONFIG.search(html)
    assert match, "the page carries no room configuration"
    return json.loads(match.group(1))


@pytest.mark.parametrize("page", ["check", "room"])
async def test_anonymous_people_are_sent_to_sign_in(client: TestClient, db_sessions, page: str) -> None:
    world = await build_world(db_sessions)
    response = await client.get(f"/meetings/{world.meeting_x}/{page}", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("page", ["check", "room"])
@pytest.mark.parametrize(("username", "status"), [
    ("chair", 200), ("rep_a", 200), ("rep_b", 200), ("applicant", 200), ("agent", 200),
    ("applicant_other", 404), ("rep_other", 404),
])
async def test_only_people_who_may_see_the_meeting_get_its_room(
        client: TestClient, db_sessions, page: str, username: str, status: int) -> None:
    world = await build_world(db_sessions)
    await login(client, username)
    response = await client.get(f"/meetings/{world.meeting_x}/{page}")
    assert response.status == status, username


async def test_room_page_carries_labels_in_the_chosen_language(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await login(client, "rep_a")
    html = await (await client.get(f"/meetings/{world.meeting_x}/room")).text()
    config = _config(html)
    assert config["meeting_id"] == world.meeting_x
    assert config["me"] == {"user_id": world.user_ids["rep_a"], "role": "chief_rep",
                            "department_id": world.dept_fgj, "post": "A"}
    assert config["departments"][str(world.dept_fgj)]["level_label"] == "县"
    assert config["departments"][str(world.dept_city)]["level_label"] == "市"
    assert config["catalog"]["room.connection.reconnecting"] == "正在重新连接…"
    assert all(key.startswith(("room.", "app.", "punct.")) for key in config["catalog"])
    english = _config(await (await client.get(f"/meetings/{world.meeting_x}/room?lang=en")).text())
    assert english["catalog"]["room.connection.reconnecting"] == "Reconnecting…"
    # the scripts' punctuation is the language's too: "：" in Chinese, ": " in English
    assert (config["catalog"]["punct.colon"], english["catalog"]["punct.colon"]) == ("：", ": ")
    assert english["departments"][str(world.dept_fgj)]["level_label"] == "county"


async def test_meeting_page_links_to_the_device_check(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await login(client, "rep_a")
    html = await (await client.get(f"/meetings/{world.meeting_x}")).text()
    assert f'href="/meetings/{world.meeting_x}/check"' in html and "进入会议室" in html


@pytest.mark.skipif(not all(f.is_dir() for f in VENDOR.values()), reason="npm install has not run")
async def test_browser_libraries_are_served_from_node_modules(client: TestClient) -> None:
    response = await client.get("/vendor/socket.io/socket.io.esm.min.js")
    assert response.status == 200
    assert "javascript" in response.headers["Content-Type"]
    assert (await client.get("/vendor/pdfjs/pdf.min.mjs")).status == 200
    assert (await client.get("/vendor/socket.io/../package.json")).status in (403, 404)


async def test_a_person_the_chair_removed_is_told_so_before_any_device_check(client: TestClient,
                                                                            db_sessions) -> None:
    """The record says the chair removed rep_b from meeting X: reopening its room shows why and the
    way back, with no device check (the signaling server would refuse only after it); others still
    get the room, and rep_b still gets other meetings' rooms."""
    world = await build_world(db_sessions)
    rep_b = world.user_ids["rep_b"]
    async with db_sessions() as db:
        await append_event(db, world.meeting_x, world.user_ids["chair"], "meeting_status_changed",
                           {"from": "scheduled", "to": "live", "note": ""})
        await append_event(db, world.meeting_x, rep_b, "participant_joined", {
            "participant_id": "p7", "user_id": rep_b, "display_name": "赵发改", "unit": "", "capacity": "member",
            "department_id": world.dept_fgj, "post": "B", "token_id": None, "via": "session"})
        await append_event(db, world.meeting_x, world.user_ids["chair"], "participant_removed",
                           {"participant_id": "p7", "user_id": rep_b, "display_name": "赵发改"})
        meeting = await db.get(Meeting, world.meeting_x)
        assert meeting is not None
        meeting.status = "live"
        await db.commit()

    await sign_in(client, "rep_b")
    response = await client.get(f"/meetings/{world.meeting_x}/room")
    html = await response.text()
    assert response.status == 403 and "您已被移出本次会议" in html and "您已被主持人移出本次会议" in html
    assert 'href="/meetings"' in html and 'id="prejoin"' not in html and 'id="room-config"' not in html
    english = await (await client.get(f"/meetings/{world.meeting_x}/room?lang=en")).text()
    assert "You were removed from this meeting" in english
    check = await client.get(f"/meetings/{world.meeting_x}/check", allow_redirects=True)
    assert check.status == 403  # the old device-check link lands on the same page

    await sign_in(client, "rep_a")
    assert 'id="prejoin"' in await (await client.get(f"/meetings/{world.meeting_x}/room")).text()
