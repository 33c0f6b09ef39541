"""Who may list, read, compose and download a meeting's recordings: everyone who sees the meeting
reads (others: 404); only the meeting's chair, the archive and administrators start a composition
(the chair of another meeting: 403)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.settings import Settings
from tests.api.matrix import Probe, expect, run_probes
from tests.api.recordings_support import place_recording, recording_key
from tests.world import build_world

SEES_X = expect(200, chair_other=200, rep_other=404, applicant_other=404)
REC_X = "/api/v1/meetings/{meeting_x}/recordings/{rec_x}"
COMPOSERS_409 = expect(403, admin=409, chair=409, chair_other=403, archivist=409)  # already composed, no force

PROBES = [
    Probe("GET", "/api/v1/meetings/{meeting_x}/recordings", SEES_X),
    Probe("GET", "/api/v1/meetings/{meeting_y}/recordings", expect(200, chair_other=200, rep_a=404, rep_b=404,
                                                                    applicant=404, agent=404)),
    Probe("GET", "/api/v1/meetings/999999/recordings", expect(404, chair_other=404)),
    Probe("GET", REC_X, SEES_X),
    Probe("GET", "/api/v1/meetings/{meeting_y}/recordings/{rec_x}",
          expect(404, chair_other=404)),  # key of another meeting
    Probe("POST", REC_X + "/compose", COMPOSERS_409, body={"force": False}),
    Probe("POST", "/api/v1/meetings/{meeting_x}/recordings/M1-20261129-R9/compose",
          expect(403, admin=404, chair=404, chair_other=404, archivist=404), body={}),  # no such recording
    Probe("GET", REC_X + "/compose", SEES_X),
    Probe("GET", REC_X + "/video", SEES_X),
    Probe("GET", REC_X + "/tracks/{track_x}", SEES_X),
    Probe("GET", REC_X + "/tracks/..%2Fmanifest.json",
          expect(404, chair_other=404, rep_other=404, applicant_other=404)),
]


async def test_recordings_matrix(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    place_recording(settings, world.meeting_x, composed=True)
    world.rec_x = recording_key(world.meeting_x)  # type: ignore[attr-defined]
    world.track_x = "p1-video-0"  # type: ignore[attr-defined]
    await run_probes(client, world, PROBES)
