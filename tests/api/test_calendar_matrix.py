"""Authorisation matrix for the calendar: everyone signed in reads, only admins enter years."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp.test_utils import TestClient

from tests.api.case_world import world_with_calendar
from tests.api.matrix import Probe, expect, run_probes
from tests.world import World


@dataclass
class CalendarWorld(World):
    known_year: int = 2026  # seeded from the library
    entered_year: int = 2030  # entered by the admin probe


# Replacing a year with the same table is idempotent, so the admin's success repeats cleanly.
YEAR_2030 = {"confirmed": False, "source": "test: not yet announced",
             "holidays": [{"day": "2030-01-01", "name": "元旦"}], "workdays": []}

PROBES = [
    Probe("GET", "/api/v1/calendar/deadline?start=2026-02-13&days=20", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/calendar/years", expect(200, chair_other=200)),
    Probe("GET", "/api/v1/calendar/years/{known_year}", expect(200, chair_other=200)),
    Probe("PUT", "/api/v1/calendar/years/{entered_year}", expect(403, admin=200, chair_other=403), body=YEAR_2030),
]


async def test_calendar_matrix(client: TestClient, db_sessions) -> None:
    world = CalendarWorld(**vars(await world_with_calendar(db_sessions)))
    await run_probes(client, world, PROBES)
