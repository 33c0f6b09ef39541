"""Authorisation matrix for the reference data: every signed-in role reads it."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.api.matrix import Probe, expect, run_probes
from tests.world import build_world

PROBES = [
    Probe("GET", "/api/v1/divisions", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/departments?level=county", expect(200, chair_other=200)),
]


async def test_meta_matrix(client: TestClient, db_sessions) -> None:
    await run_probes(client, await build_world(db_sessions), PROBES)
