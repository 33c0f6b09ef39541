"""Authorisation matrix for the meeting endpoints.

meeting_x invites 发改局 (rep_a, rep_b) and organisation X (applicant, agent); meeting_y invites
自然资源局 (rep_other) and organisation Y (applicant_other); `chair` chairs both, `chair_other`
neither: it reads like a chair and changes nothing (403). Accounts run in order on one
database, so writes are designed to succeed once (only the chair may make them) or to succeed
again consistently (an excuse replaces its reason; the admin reassigns the chair it already has).
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import Invitation
from tests.api.matrix import Probe, expect, run_probes
from tests.world import World, build_world

SEES_X = expect(200, chair_other=200, rep_other=404, applicant_other=404)
SEES_Y = expect(200, chair_other=200, rep_a=404, rep_b=404, applicant=404, agent=404)


def _new_meeting(world: World) -> dict:
    return {"title": "矩阵测试会议", "scheduled_start": "2026-12-09T09:00:00+08:00",
            "scheduled_end": "2026-12-09T10:00:00+08:00", "lead_department_id": world.dept_fgj,
            "agenda_item_ids": [world.item_x]}


PROBES = [
    Probe("GET", "/api/v1/meetings", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/meetings?status=scheduled&case_id={case_x}", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/meetings/{meeting_x}", SEES_X),
    Probe("GET", "/api/v1/meetings/{meeting_y}", SEES_Y),
    Probe("GET", "/api/v1/meetings/999999", expect(404, chair_other=404)),
    Probe("GET", "/api/v1/meetings/{meeting_x}/events", SEES_X),
    Probe("GET", "/api/v1/meetings/{meeting_x}/events/verify",
          expect(403, admin=200, chair=200, chair_other=200, archivist=200)),
    Probe("GET", "/api/v1/meetings/{meeting_y}/events/verify",
          expect(403, admin=200, chair=200, chair_other=200, archivist=200)),
    Probe("POST", "/api/v1/meetings", expect(403, chair=201, chair_other=201), body=_new_meeting),
    # only the meeting's chair changes it; an admin may only reassign the chair
    Probe("PATCH", "/api/v1/meetings/{meeting_x}", expect(403, chair=200, chair_other=403),
          body={"place": "二楼会商室"}),
    Probe("PATCH", "/api/v1/meetings/{meeting_x}", expect(403, admin=200, chair=200, chair_other=403),
          body=lambda w: {"chair_id": w.user_ids["chair"]}),
    # rep_a and rep_b excuse their own department (again replaces the reason); rep_other cannot see it.
    Probe("POST", "/api/v1/meetings/{meeting_x}/invitations/{invitation_x_fgj}/excuse",
          expect(403, chair=200, chair_other=403, rep_a=200, rep_b=200, rep_other=404),
          body={"reason": "参加县委常委会"}),
    # An applicant's invitation cannot be excused; a representative may not touch it at all.
    Probe("POST", "/api/v1/meetings/{meeting_x}/invitations/{invitation_x_org}/excuse",
          expect(403, chair=422, chair_other=403, rep_other=404), body={"reason": "外出"}),
    Probe("POST", "/api/v1/meetings/{meeting_x}/status", expect(403, chair=409, chair_other=403),
          body={"status": "minutes_final"}),
    Probe("POST", "/api/v1/meetings/{meeting_y}/status", expect(403, chair=200, chair_other=403),
          body={"status": "cancelled"}),
]


async def _with_invitations(db_sessions, world: World) -> World:
    """The matrix paths name meeting_x's two invitations; tests/world.py does not keep their ids."""
    async with db_sessions() as db:
        rows = list(await db.scalars(select(Invitation).where(Invitation.meeting_id == world.meeting_x)))
    world.invitation_x_fgj = next(i.id for i in rows if i.department_id == world.dept_fgj)
    world.invitation_x_org = next(i.id for i in rows if i.organisation_id == world.org_x)
    return world


async def test_meetings_matrix(client: TestClient, db_sessions) -> None:
    world = await _with_invitations(db_sessions, await build_world(db_sessions))
    await run_probes(client, world, PROBES)
