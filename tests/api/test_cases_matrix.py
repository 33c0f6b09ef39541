"""Authorisation matrix for cases, items and suspensions: exact codes for every account.

The probes run account by account on one database (admin first), so writes are designed to
succeed repeatedly: each case creation sends a fresh project code, item creation adds another item
of the department that already handles case X (so no one's visibility changes), and changes
rewrite the same value. Suspending and resuming are one-shot by nature (an item cannot be
suspended twice, a suspension not resumed twice): the admin's request succeeds and the other
roles allowed to act get 409, which they can only reach after passing the role and ownership
checks (those answer 403/404 first). Their success is shown in tests/api/test_cases_items.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import count
from typing import Any

from aiohttp.test_utils import TestClient

from server.db.models import ApprovalItem, ClockSuspension
from tests.api.case_world import new_case, new_item, world_with_calendar
from tests.api.matrix import Probe, expect, run_probes
from tests.world import World

_serial = count(1)


@dataclass
class CaseWorld(World):
    """tests.world plus two items of case X (发改局) for the suspension probes."""

    item_s: int = 0  # accepted, running: to be suspended
    item_r: int = 0  # suspended: to be resumed
    suspension_r: int = 0


async def case_world(sessions: Any) -> CaseWorld:
    world = CaseWorld(**vars(await world_with_calendar(sessions)))
    async with sessions() as db:
        rows = [ApprovalItem(case_id=world.case_x, name=name, department_id=world.dept_fgj, level="county",
                             accepted_on=date(2026, 3, 10), statutory_limit_wd=20, promised_limit_wd=10,
                             status=status)
                for name, status in (("节能审查", "in_review"), ("初步设计审批", "suspended"))]
        db.add_all(rows)
        await db.flush()
        suspension = ClockSuspension(item_id=rows[1].id, start=date(2026, 3, 12), reason="补正材料",
                                     suspend_notice_no="凤发改中止〔2026〕9号")
        db.add(suspension)
        await db.commit()
        world.item_s, world.item_r, world.suspension_r = rows[0].id, rows[1].id, suspension.id
    return world


def _fresh_case(world: World) -> dict[str, Any]:
    return new_case(world, code=f"2611-530921-04-01-8{next(_serial):05d}")


# Cases belong to the office, not to one chair: chair_other manages them like chair.
CASE_X_READERS = expect(200, chair_other=200, rep_other=404, applicant_other=404)
ONE_SHOT = expect(403, admin=None, chair=409, chair_other=409, rep_a=409, rep_b=409, rep_other=404)

PROBES = [
    Probe("GET", "/api/v1/cases", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/cases?overdue=true&limit=5", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/cases/{case_x}", CASE_X_READERS),
    Probe("GET", "/api/v1/cases/{case_y}", expect(200, chair_other=200, rep_a=404, rep_b=404, applicant=404,
                                                   agent=404)),
    Probe("POST", "/api/v1/cases", expect(403, admin=201, chair=201, chair_other=201), body=_fresh_case),
    Probe("PATCH", "/api/v1/cases/{case_x}", expect(403, admin=200, chair=200, chair_other=200),
          body={"funding_source": "企业自筹"}),
    Probe("POST", "/api/v1/cases/{case_x}/items", expect(403, admin=201, chair=201, chair_other=201),
          body=lambda world: new_item(world.dept_fgj)),
    Probe("PATCH", "/api/v1/items/{item_x}", expect(403, admin=200, chair=200, chair_other=200, rep_a=200,
                                                    rep_b=200, rep_other=404),
          body={"result": "审查中"}),
    Probe("POST", "/api/v1/items/{item_s}/suspensions", {**ONE_SHOT, "admin": 201},
          body={"start": "2026-03-20", "notice_no": "凤发改中止〔2026〕10号", "reason": "补正材料"}),
    Probe("POST", "/api/v1/items/{item_r}/suspensions/{suspension_r}/resume", {**ONE_SHOT, "admin": 200},
          body={"end": "2026-03-16", "notice_no": "凤发改恢复〔2026〕9号"}),
]


async def test_cases_matrix(client: TestClient, db_sessions) -> None:
    await run_probes(client, await case_world(db_sessions), PROBES)
