"""Who reads a meeting's link state (GET /api/v1/meetings/{id}/links) and /metrics.

The live numbers themselves are checked with real peers in tests/media/test_link_state.py; here the
meetings are not live, so the endpoint answers ``live: false`` with no peers.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import build_app
from server.settings import Settings
from tests.api.matrix import Probe, expect, run_probes
from tests.world import PASSWORD, World, build_world

PROBES = [
    # only meeting_x's own chair and administrators; other chairs see the meeting but not this
    Probe("GET", "/api/v1/meetings/{meeting_x}/links", expect(403, admin=200, chair=200, chair_other=403)),
    Probe("GET", "/api/v1/meetings/999999/links", expect(403, admin=404, chair=404, chair_other=404)),
]


async def _sign_in(client: TestClient, username: str) -> None:
    client.session.cookie_jar.clear()
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()


async def test_links_matrix(client: TestClient, db_sessions) -> None:
    await run_probes(client, await build_world(db_sessions), PROBES)


async def test_meeting_not_live_has_no_peers(client: TestClient, db_sessions) -> None:
    world: World = await build_world(db_sessions)
    await _sign_in(client, "chair")
    response = await client.get(f"/api/v1/meetings/{world.meeting_x}/links")
    assert response.status == 200
    assert await response.json() == {"meeting_id": world.meeting_x, "live": False, "taken_at": None,
                                     "peers": [], "totals": None}


async def test_metrics_for_administrators_only(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    client.session.cookie_jar.clear()
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer "})).status == 401
    await _sign_in(client, "chair")
    assert (await client.get("/metrics")).status == 403
    await _sign_in(client, "admin")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert "# TYPE lianshen_meeting_peers gauge" in text
    assert "lianshen_meeting_peers{" not in text  # nothing is live


@pytest.fixture
async def token_client(settings: Settings) -> TestClient:
    configured = settings.model_copy(update={"server": settings.server.model_copy(update={"metrics_token": "s3cret"})})
    async with TestClient(TestServer(build_app(configured), host="127.0.0.1")) as test_client:
        yield test_client


async def test_metrics_token(token_client: TestClient, db_sessions) -> None:
    assert (await token_client.get("/metrics", headers={"Authorization": "Bearer s3cret"})).status == 200
    assert (await token_client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await token_client.get("/metrics")).status == 401
