"""Who may upload, list and fetch case materials (the applicant side of the case and the chair
upload; everyone who may see the case reads)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.settings import Settings
from tests.api.materials_support import seed_material
from tests.api.matrix import Probe, expect, run_probes
from tests.world import build_world

UPLOAD = "/api/v1/cases/{case_x}/materials"

PROBES = [
    # no multipart body: whoever gets past role and scope is told to send multipart (415)
    Probe("POST", UPLOAD, expect(403, chair=415, chair_other=415, applicant=415, agent=415, applicant_other=404)),
    Probe("POST", "/api/v1/cases/999999/materials",
          expect(403, chair=404, chair_other=404, applicant=404, agent=404, applicant_other=404)),
    Probe("GET", UPLOAD, expect(200, chair_other=200, rep_other=404, applicant_other=404)),
    Probe("GET", "/api/v1/cases/{case_y}/materials", expect(200, chair_other=200, rep_a=404, rep_b=404,
                                                            applicant=404, agent=404)),
    Probe("GET", "/api/v1/materials/{material_x}/file", expect(200, chair_other=200, rep_other=404,
                                                               applicant_other=404)),
    Probe("GET", "/api/v1/materials/999999/file", expect(404, chair_other=404)),
    # nothing is being presented (no live meeting here): nobody gets it; tests/browser test the live case
    Probe("GET", "/api/v1/meetings/{meeting_x}/presentation/{material_x}", expect(404, chair_other=404),
          anonymous=404),
]


async def test_materials_matrix(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    world.material_x = await seed_material(db_sessions, settings, world)  # type: ignore[attr-defined]
    await run_probes(client, world, PROBES)
