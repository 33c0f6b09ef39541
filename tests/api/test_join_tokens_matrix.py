"""Join tokens over the API: only the meeting's chair issues them (another chair: 403); bad requests
are refused whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from server.db.models import JoinToken, Meeting, MeetingEvent
from server.settings import Settings
from server.signaling import tokens
from tests.api.matrix import Probe, expect, run_probes
from tests.test_app_core import login
from tests.world import build_world

GUEST = {"guest_name": "临沧市发改委会商点", "guest_unit": "市发改委", "ttl_minutes": 30}
PATH = "/api/v1/meetings/{meeting_x}/join-tokens"

PROBES = [
    Probe("POST", PATH, expect(403, chair=201, chair_other=403), body=GUEST),
    Probe("POST", "/api/v1/meetings/{meeting_y}/join-tokens", expect(403, chair=201, chair_other=403),
          body=lambda w: {"user_id": w.user_ids["rep_other"]}),
    Probe("POST", "/api/v1/meetings/999999/join-tokens", expect(403, chair=404, chair_other=404), body=GUEST),
    # the body is checked before anyone's ownership (pydantic, as for every endpoint)
    Probe("POST", PATH, expect(403, chair=422, chair_other=422), body={"guest_unit": "市发改委"}),
]


async def test_join_tokens_matrix(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await run_probes(client, world, PROBES)


async def post(client: TestClient, csrf: str, meeting_id: int, body: dict) -> tuple[int, dict]:
    response = await client.post(f"/api/v1/meetings/{meeting_id}/join-tokens", json=body,
                                 headers={"X-CSRF-Token": csrf})
    return response.status, await response.json()


async def test_issued_token_verifies_and_is_logged(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "chair")
    status, body = await post(client, csrf, world.meeting_x, GUEST)
    assert status == 201, body
    claims = tokens.verify(tokens.token_secret(settings), body["token"])
    assert claims.meeting_id == world.meeting_x and claims.token_id == body["id"]
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    async with db_sessions() as db:
        row = await db.get(JoinToken, body["id"])
        assert row is not None and row.used_at is None and row.capacity == "observer"
        event = await db.scalar(select(MeetingEvent).where(MeetingEvent.type == "join_token_issued"))
        assert event is not None and event.payload["token_id"] == body["id"]
        assert event.actor_id == world.user_ids["chair"]
    assert (settings.data_dir / tokens.SECRET_FILE).stat().st_mode & 0o777 == 0o600


async def test_refusals_name_the_problem_and_write_nothing(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "chair")
    cases = [
        ({"user_id": world.user_ids["rep_a"], "guest_name": "两者"}, 422, "user_id"),
        ({"user_id": 999999}, 422, "user_id"),
        ({"user_id": "7"}, 422, "user_id"),
        ({"guest_name": "x", "ttl_minutes": 10**6}, 422, "ttl_minutes"),
        ({"guest_name": "x", "capacity": "member"}, 422, "capacity"),
        ({"guest_name": "a\nb"}, 422, "guest_name"),
    ]
    for body, status, field in cases:
        got, answer = await post(client, csrf, world.meeting_x, body)
        assert got == status and field in answer["error"]["message"] + str(answer["error"]["details"]), answer
    async with db_sessions() as db:
        await db.execute(update(Meeting).where(Meeting.id == world.meeting_y).values(status="cancelled"))
        await db.commit()
    got, answer = await post(client, csrf, world.meeting_y, GUEST)
    assert (got, answer["error"]["code"]) == (409, "meeting_not_open")

    client.session.cookie_jar.clear()
    csrf = await login(client, "chair_other")
    got, answer = await post(client, csrf, world.meeting_x, GUEST)
    assert (got, answer["error"]["code"]) == (403, "not_the_chair")
    async with db_sessions() as db:
        assert list(await db.scalars(select(JoinToken))) == []
        assert list(await db.scalars(select(MeetingEvent).where(MeetingEvent.type == "join_token_issued"))) == []
