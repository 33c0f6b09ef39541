"""Authorisation matrix for people, commissions and organisations.

Administrators manage people; chairs read the directory and register applicant organisations.
Bodies that create things draw fresh names and codes on every call, so a write may succeed for
each account allowed to make it.
"""

from __future__ import annotations

import itertools
from datetime import date

from aiohttp.test_utils import TestClient

from server.db.models import AgentCommission, Organisation
from tests.api.matrix import Probe, expect, run_probes
from tests.world import PASSWORD, World, build_world, credit_code, org_code

_serial = itertools.count(1)
DIRECTORY = expect(403, admin=200, chair=200, chair_other=200)


def fresh_credit_code() -> str:
    """A valid 统一社会信用代码 not used before in this process."""
    return credit_code("91530921" + org_code(f"MA{next(_serial):06d}"))


def _new_person(_world: World) -> dict:
    return {"username": f"matrix_{next(_serial)}", "display_name": "矩阵", "role": "archivist",
            "password": PASSWORD}


def _new_organisation(_world: World) -> dict:
    return {"credit_code": fresh_credit_code(), "name": f"矩阵测试公司{next(_serial)}"}


PROBES = [
    Probe("GET", "/api/v1/people", DIRECTORY),
    Probe("GET", "/api/v1/people?role=chief_rep&department_id={dept_fgj}", DIRECTORY),
    Probe("GET", "/api/v1/people/{user_ids[rep_a]}", DIRECTORY),
    Probe("GET", "/api/v1/people/999999", expect(403, admin=404, chair=404, chair_other=404)),
    Probe("POST", "/api/v1/people", expect(403, admin=201, chair_other=403), body=_new_person),
    Probe("PATCH", "/api/v1/people/{user_ids[agent]}", expect(403, admin=200, chair_other=403),
          body={"title": "村级代办员"}),
    # The same password again: the agent's sessions end, but it signs in later as usual.
    Probe("POST", "/api/v1/people/{user_ids[agent]}/password", expect(403, admin=204, chair_other=403),
          body={"password": PASSWORD}),
    Probe("POST", "/api/v1/people/{user_ids[agent]}/commissions", expect(403, admin=201, chair_other=403),
          body=lambda w: {"organisation_id": w.org_y, "document_no": "凤代办委〔2026〕9号", "granted_on": "2026-05-01"}),
    Probe("POST", "/api/v1/commissions/{commission_z}/revoke", expect(403, admin=200, chair_other=403)),
    Probe("GET", "/api/v1/organisations", DIRECTORY),
    Probe("POST", "/api/v1/organisations", expect(403, admin=201, chair=201, chair_other=201),
          body=_new_organisation),
]


async def test_people_matrix(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    async with db_sessions() as db:  # a third organisation's commission, for the revoke probe
        organisation = Organisation(credit_code=fresh_credit_code(), name="凤庆县核桃深加工有限公司")
        db.add(organisation)
        await db.flush()
        commission = AgentCommission(agent_id=world.user_ids["agent"], organisation_id=organisation.id,
                                     document_no="凤代办委〔2026〕8号", granted_on=date(2026, 4, 1))
        db.add(commission)
        await db.commit()
    world.commission_z = commission.id
    await run_probes(client, world, PROBES)
