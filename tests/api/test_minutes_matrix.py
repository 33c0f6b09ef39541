"""Authorisation matrix for the minutes endpoints.

meeting_x (发改局: rep_a, rep_b; organisation X: applicant, agent) has a draft awaiting
confirmation; meeting_y (自然资源局: rep_other; organisation Y: applicant_other) has final minutes.
`chair` chairs both; `chair_other` reads them like a chair and may change neither (403).
Accounts run in order on one database: the chair's writes either succeed once or are refused by
the state (409), the representatives' answers and amendments may be repeated.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.services.minutes_workflow import answer, finalise, send_for_confirmation
from server.auth.principal import Principal
from server.domain.roles import Role
from tests.api.matrix import Probe, expect, run_probes
from tests.api.minutes_support import OPINION_ID, chair_of, ended_with_draft
from tests.world import World, build_world

X = "/api/v1/meetings/{meeting_x}/minutes"
Y = "/api/v1/meetings/{meeting_y}/minutes"
DRAFT_X = expect(200, chair_other=200, rep_other=404, applicant=404, agent=404, applicant_other=404)
FINAL_Y = expect(200, chair_other=200, rep_a=404, rep_b=404, applicant=404, agent=404)
REPS_OF_X = expect(403, chair_other=403, rep_a=200, rep_b=200, rep_other=404)

PROBES = [
    Probe("GET", X, DRAFT_X),
    Probe("GET", X + "/versions/{version_1}", DRAFT_X),
    Probe("GET", X + "/versions/{version_9}", expect(404, chair_other=404)),
    Probe("GET", X + "/versions/{version_1}/document?format=json", DRAFT_X),
    Probe("GET", X + "/notice?format=html", expect(404, chair_other=404)),  # not final: no notice yet
    Probe("GET", "/api/v1/meetings/999999/minutes", expect(404, chair_other=404)),
    Probe("GET", Y, FINAL_Y),
    Probe("GET", Y + "/versions/{version_1}/document?format=html", FINAL_Y),
    Probe("GET", Y + "/notice?format=html", FINAL_Y),
    # the chair's acts: another chair is refused whatever state the minutes are in
    Probe("POST", X, expect(403, chair=409, chair_other=403)),
    Probe("POST", X + "/edits", expect(403, chair=200, chair_other=403),
          body={"edits": [{"path": "summary", "text": "矩阵测试总结。"}], "reason": "矩阵测试"}),
    Probe("POST", X + "/opinions/{opinion_x}/amendments", REPS_OF_X,
          body={"kind": "agree", "text": "同意", "reason": "会后核实"}),
    Probe("POST", X + "/send", expect(403, chair=409, chair_other=403)),
    Probe("POST", X + "/answers", REPS_OF_X, body={"verdict": "confirm", "version": 1}),
    Probe("POST", X + "/finalise", expect(403, chair=409, chair_other=403), body={}),
    Probe("POST", X + "/versions", expect(403, chair=409, chair_other=403), body={"reason": "更正"}),
    Probe("POST", Y + "/edits", expect(403, chair=409, chair_other=403),
          body={"edits": [{"path": "summary", "text": "改"}], "reason": "改"}),
    Probe("POST", Y + "/versions", expect(403, chair=201, chair_other=403), body={"reason": "更正文字"}),
]


async def test_minutes_matrix(client: TestClient, db_sessions, settings) -> None:
    world: World = await build_world(db_sessions)
    chair = chair_of(world)
    rep_other = Principal(user_id=world.user_ids["rep_other"], username="rep_other", display_name="钱自然",
                          role=Role.CHIEF_REP, department_id=world.dept_zrj, post="A")
    for meeting_id in (world.meeting_x, world.meeting_y):
        await ended_with_draft(db_sessions, world, meeting_id, settings)
        async with db_sessions() as db:
            await send_for_confirmation(db, chair, meeting_id)
            await db.commit()
    async with db_sessions() as db:
        await answer(db, rep_other, world.meeting_y, verdict="confirm", comment="", version=1)
        await finalise(db, chair, world.meeting_y, "", settings)
        await db.commit()
    world.version_1, world.version_9, world.opinion_x = 1, 9, OPINION_ID  # path parameters of the probes
    await run_probes(client, world, PROBES)
