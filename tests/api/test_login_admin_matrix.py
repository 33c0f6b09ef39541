"""Authorisation matrix for the sign-in administration: locked accounts, unlocking, the audit log.

Only administrators see who is locked out, lift locks and read what was done to accounts.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.domain.roles import Role
from server.services.people import NewPerson, create_person
from server.settings import Settings
from tests.api.matrix import Probe, expect, run_probes
from tests.world import PASSWORD, build_world

ADMIN_ONLY = expect(403, admin=200)

PROBES = [
    Probe("GET", "/api/v1/login-locks", ADMIN_ONLY),
    Probe("GET", "/api/v1/account-audit", ADMIN_ONLY),
    Probe("GET", "/api/v1/account-audit?subject_id={locked_person}&limit=5", ADMIN_ONLY),
    Probe("POST", "/api/v1/people/{locked_person}/unlock", expect(403, admin=204)),
    # Nothing to forgive: the archivist has no failed sign-ins on record.
    Probe("POST", "/api/v1/people/{user_ids[archivist]}/unlock", expect(403, admin=409)),
    Probe("POST", "/api/v1/people/999999/unlock", expect(403, admin=404)),
]


async def test_login_admin_matrix(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    async with db_sessions() as db:  # someone outside the matrix's accounts, to be locked out
        world.locked_person = (await create_person(db, NewPerson("locked_one", "郑锁定", Role.ARCHIVIST,
                                                                 PASSWORD))).id
        await db.commit()
    for _ in range(settings.auth.login_max_failures):
        await client.post("/api/v1/auth/login", json={"username": "locked_one", "password": "wrong-password"})
    locked = await client.post("/api/v1/auth/login", json={"username": "locked_one", "password": PASSWORD})
    assert locked.status == 429
    await run_probes(client, world, PROBES)
