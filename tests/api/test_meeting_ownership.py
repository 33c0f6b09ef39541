"""A chair acts only on the meetings they chair: another chair sees the meeting but every change
(its plan, chair, status, 请假, join links, recordings) is refused with 403 and leaves the meeting
and its event log exactly as they were. An administrator may hand a scheduled meeting to another
chair, and nothing else; the handover is in the log with who did it.
(The minutes' acts in every state: here; with the rest of the minutes' scope: test_minutes_scope.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from record.events import payload_keys
from recorder.compose import read_status
from server.db.models import JoinToken
from server.settings import Settings
from tests.api.meetings_support import count_rows, error_of, sign_in
from tests.api.minutes_support import MINUTES_TABLES, finalised_minutes_y
from tests.api.recordings_support import place_recording, recording_key
from tests.world import World, build_world


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def _state(client: TestClient, meeting_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The meeting and its whole event log as the API shows them (read as the signed-in user)."""
    meeting = await client.get(f"/api/v1/meetings/{meeting_id}")
    events = await client.get(f"/api/v1/meetings/{meeting_id}/events")
    assert meeting.status == events.status == 200
    return await meeting.json(), (await events.json())["events"]


def _plan(meeting: dict[str, Any]) -> dict[str, Any]:
    """A meeting without its chair, and its sites without their row ids (a change rewrites them)."""
    return {**{k: v for k, v in meeting.items() if k != "chair"},
            "sites": [{k: v for k, v in site.items() if k != "id"} for site in meeting["sites"]]}


def _writes(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    """Every state-changing request on meeting_x a chair could make (all valid for its own chair)."""
    base = f"/api/v1/meetings/{world.meeting_x}"
    return [
        ("PATCH", base, {"title": "改由他人主持的会议"}),
        ("PATCH", base, {"agenda_item_ids": [world.item_x, world.item_y]}),
        ("PATCH", base, {"chair_id": world.user_ids["chair_other"]}),
        ("PATCH", base, {"scheduled_start": "2026-12-08T08:00:00+08:00"}),
        ("POST", f"{base}/status", {"status": "cancelled", "note": "不开了"}),
        ("POST", f"{base}/status", {"status": "live"}),
        ("POST", f"{base}/invitations/{{inv}}/excuse", {"reason": "代为请假"}),
        ("POST", f"{base}/join-tokens", {"guest_name": "不速之客", "ttl_minutes": 10}),
    ]


async def test_another_chair_changes_nothing_of_a_meeting(client: TestClient, world: World,
                                                          db_sessions) -> None:
    await sign_in(client, "chair")
    before = await _state(client, world.meeting_x)
    invitation = next(i["id"] for i in before[0]["invitations"] if i["department"])
    tokens_before = await count_rows(db_sessions, JoinToken)
    other = await sign_in(client, "chair_other")
    assert (await _state(client, world.meeting_x)) == before  # chairs read every meeting...
    for method, path, body in _writes(world):  # ...and change only their own
        response = await client.request(method, path.format(inv=invitation), json=body, headers=other)
        error = await error_of(response)
        assert (response.status, error["code"]) == (403, "not_the_chair"), (method, path, body, error)
        assert "主持人" in error["message"] and "chair of this meeting" in error["message"]
    await sign_in(client, "chair")
    assert await _state(client, world.meeting_x) == before
    assert await count_rows(db_sessions, JoinToken) == tokens_before


async def test_another_chair_is_refused_the_minutes_whatever_their_state(client: TestClient, world: World,
                                                                          db_sessions, settings: Settings) -> None:
    """Final minutes would answer their own chair 409; another chair learns only that it is not theirs."""
    await finalised_minutes_y(db_sessions, world, settings)
    base = f"/api/v1/meetings/{world.meeting_y}/minutes"
    before = await count_rows(db_sessions, *MINUTES_TABLES)
    other = await sign_in(client, "chair_other")
    for rest, body in (("", None), ("/edits", {"edits": [{"path": "summary", "text": "代改"}], "reason": "代改"}),
                       ("/send", None), ("/finalise", {"note": "代为定稿"}), ("/versions", {"reason": "代改"})):
        response = await client.post(base + rest, json=body, headers=other)
        assert (response.status, (await error_of(response))["code"]) == (403, "not_the_chair"), rest
    assert await count_rows(db_sessions, *MINUTES_TABLES) == before


async def test_another_chair_cannot_compose_a_recording(client: TestClient, world: World, db_sessions,
                                                        settings: Settings) -> None:
    directory = place_recording(settings, world.meeting_x)
    url = f"/api/v1/meetings/{world.meeting_x}/recordings/{recording_key(world.meeting_x)}/compose"
    headers = await sign_in(client, "chair_other")
    response = await client.post(url, json={"force": True}, headers=headers)
    assert (response.status, (await error_of(response))["code"]) == (403, "not_the_chair")
    assert read_status(directory)["state"] == "none"  # no job was queued
    page = await client.get(f"/meetings/{world.meeting_x}/recordings/{recording_key(world.meeting_x)}")
    assert page.status == 200 and 'id="compose-button"' not in await page.text()
    await sign_in(client, "archivist")  # the archive composes any meeting's recording
    page = await client.get(f"/meetings/{world.meeting_x}/recordings/{recording_key(world.meeting_x)}")
    assert 'id="compose-button"' in await page.text()


async def test_admin_reassigns_the_chair_and_the_log_says_so(client: TestClient, world: World) -> None:
    admin = await sign_in(client, "admin")
    url = f"/api/v1/meetings/{world.meeting_x}"
    before = await _state(client, world.meeting_x)
    for body in ({"title": "管理员改的标题"}, {"chair_id": world.user_ids["chair_other"], "place": "别处"}):
        refused = await client.patch(url, json=body, headers=admin)
        error = await error_of(refused)
        assert (refused.status, error["code"]) == (403, "admin_reassigns_only"), error
    assert await _state(client, world.meeting_x) == before
    refused = await client.patch(url, json={"chair_id": world.user_ids["rep_a"]}, headers=admin)
    assert refused.status == 422 and "chair" in (await error_of(refused))["message"]  # not a chair account

    response = await client.patch(url, json={"chair_id": world.user_ids["chair_other"]}, headers=admin)
    assert response.status == 200, await response.text()
    assert (await response.json())["chair"]["id"] == world.user_ids["chair_other"]
    meeting, events = await _state(client, world.meeting_x)
    assert events[:-1] == before[1]
    logged = events[-1]
    assert (logged["type"], logged["actor_id"]) == ("meeting_updated", world.user_ids["admin"])
    assert set(logged["payload"]) == payload_keys("meeting_updated")
    assert logged["payload"]["changed"] == ["chair_id"]
    assert (logged["payload"]["previous_chair_id"], logged["payload"]["chair_id"]) == (
        world.user_ids["chair"], world.user_ids["chair_other"])
    assert _plan(meeting) == _plan(before[0])  # nothing but the chair changed

    old = await sign_in(client, "chair")  # the former chair is now just another chair
    refused = await client.patch(url, json={"place": "二楼会商室"}, headers=old)
    assert (refused.status, (await error_of(refused))["code"]) == (403, "not_the_chair")
    new = await sign_in(client, "chair_other")
    changed = await client.patch(url, json={"place": "二楼会商室"}, headers=new)
    assert changed.status == 200 and (await changed.json())["place"] == "二楼会商室"


async def test_the_chair_hands_the_meeting_over(client: TestClient, world: World) -> None:
    chair = await sign_in(client, "chair")
    url = f"/api/v1/meetings/{world.meeting_y}"
    response = await client.patch(url, json={"chair_id": world.user_ids["chair_other"]}, headers=chair)
    assert response.status == 200, await response.text()
    _, events = await _state(client, world.meeting_y)
    assert (events[-1]["actor_id"], events[-1]["payload"]["previous_chair_id"]) == (
        world.user_ids["chair"], world.user_ids["chair"])
    again = await client.post(f"{url}/status", json={"status": "cancelled"}, headers=chair)
    assert again.status == 403  # handed over: no longer theirs
