"""Who may search the archive, open a dossier, download its files and read the access log:
everyone searches and opens dossiers within their scope (server.auth.policy); only the admin
reads the access log."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.api.matrix import Probe, expect, run_probes
from tests.world import build_world

# what the case's items and meetings make visible: 发改局 (rep_a, rep_b) has an item of case X,
# 自然资源局 (rep_other) of case Y; applicants and the agent see their organisation's case only
SCOPE_X = {"chair_other": 200, "rep_other": 404, "applicant_other": 404}
SCOPE_Y = {"chair_other": 200, "rep_a": 404, "rep_b": 404, "applicant": 404, "agent": 404}

PROBES = [
    Probe("GET", "/api/v1/archive/search?q=污水处理", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/archive/search?q=x&unknown=1", expect(422, chair_other=422)),
    Probe("GET", "/api/v1/archive/cases/{case_x}/dossier", expect(200, **SCOPE_X)),
    Probe("GET", "/api/v1/archive/cases/{case_y}/dossier", expect(200, **SCOPE_Y)),
    Probe("GET", "/api/v1/archive/cases/999999/dossier", expect(404, chair_other=404)),
    Probe("GET", "/api/v1/archive/cases/{case_x}/file?name=case/clock.json", expect(200, **SCOPE_X)),
    Probe("GET", "/api/v1/archive/cases/{case_x}/file?name=../clock.json", expect(404, chair_other=404)),
    Probe("GET", "/api/v1/archive/cases/{case_y}/file?name=case/clock.json", expect(200, **SCOPE_Y)),
    Probe("GET", "/api/v1/archive/access-log", expect(403, admin=200, chair_other=403)),
]


async def test_archive_matrix(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await run_probes(client, world, PROBES)
