"""Authorisation matrix for the session endpoints."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.api.matrix import Probe, expect, run_probes
from tests.world import build_world

PROBES = [
    Probe("GET", "/api/v1/me", expect(200, chair_other=200)),
    Probe("POST", "/api/v1/auth/login", expect(422, chair_other=422), body={"username": ""}, anonymous=422),
]
# Logout is probed last by design elsewhere: it ends the session the matrix runner uses.
LOGOUT = Probe("POST", "/api/v1/auth/logout", expect(204, chair_other=204), anonymous=401)


async def test_session_matrix(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await run_probes(client, world, PROBES + [LOGOUT])
