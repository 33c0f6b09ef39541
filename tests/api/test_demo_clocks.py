"""The demo's clocks on the day it describes: realistic, not all overdue, and the same when the
demo is loaded weeks later (server.demo.as_of moves the whole world by whole weeks).

Before one clock, every demo case was overdue on the centre's promise because the promise ran
from the first acceptance to today through the applicant's supplementation and the months between
stages. Counted as the centre's days only, and stopped by the stored decision dates, two cases are
over (the 核桃 case and the year-long sewage works) and three are not.

Loaded on another day, the moved dates cross other holidays and make-up working weekends, so the
real calendar's figures move by a few days (three weeks later: 茶 28 instead of 33, the National
Day week now falls inside its review). On a calendar of plain Monday-to-Friday weeks a shift by
whole weeks changes nothing, which is what the second test holds the loader to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.auth.principal import Principal
from server.db.models import CalendarYear
from server.demo import data
from server.demo.as_of import demo_world, shift_for
from server.demo.seed import seed_demo
from server.domain.roles import Role
from server.services.calendar import load_calendar, seed_calendar
from server.services.case_schemas import CaseQuery
from server.services.cases import CaseDesk

Figures = dict[str, tuple[str, int | None, int | None, bool]]

# reference project code: (state, used, limit, overdue), as of DATA_AS_OF (2026-12-01)
EXPECTED: Figures = {
    data.FISH: ("suspended", 17, 34, False),  # 水土保持 waits for supplementation; the rest decided
    data.TEA: ("running", 33, 34, False),
    data.WALNUT: ("running", 42, 34, True),
    data.SEWAGE: ("running", 62, 37, True),  # 审批制: six stages since January
    data.WIND: ("running", 25, 36, False),
}
# The same on a calendar without holidays or make-up days (every Monday to Friday a working day).
EXPECTED_MONDAY_TO_FRIDAY: Figures = {
    data.FISH: ("suspended", 17, 34, False),
    data.TEA: ("running", 32, 34, False),
    data.WALNUT: ("running", 43, 34, True),
    data.SEWAGE: ("running", 62, 37, True),
    data.WIND: ("running", 30, 36, False),
}


async def _clocks(db_sessions, settings, today: date) -> Figures:
    """Load the demo as of ``today`` and read each case's clock on the day its world describes,
    keyed by the reference (unmoved) project code; checks the stored decision dates too."""
    async with db_sessions() as db:
        world = demo_world(shift_for(today, await load_calendar(db)))
        summary = await seed_demo(db, settings, today=today)
        await db.commit()
    assert summary["as_of"] == world.as_of.isoformat()
    admin = Principal(user_id=0, username="clock-test", display_name="clock test", role=Role.ADMIN)
    async with db_sessions() as db:
        desk = CaseDesk(db, admin, settings.centre.promised_limits, today=world.as_of)
        page = await desk.page(CaseQuery(limit=200))
        clocks = {case.project_code: case.clock for case in page.items}
        decided = {(case.project_code, item.name): item.decided_on for case in page.items
                   for item in (await desk.detail(case.id)).items}
    assert decided == {(case.project_code, item.name): item.decided_on for case in world.cases
                       for item in case.items}
    reference = {case.project_code: unmoved.project_code for case, unmoved in zip(world.cases, data.CASES,
                                                                                  strict=True)}
    return {reference[code]: (c.state.value, c.used, c.limit_wd, c.overdue) for code, c in clocks.items()}


async def test_demo_cases_are_not_all_overdue_on_their_own_date(db_sessions, settings) -> None:
    async with db_sessions() as db:
        await seed_calendar(db)
        await db.commit()
    assert await _clocks(db_sessions, settings, data.DATA_AS_OF) == EXPECTED


@pytest.mark.parametrize("today", [data.DATA_AS_OF, data.DATA_AS_OF + timedelta(weeks=3, days=2),
                                   data.DATA_AS_OF + timedelta(weeks=52)],
                         ids=["as-of", "three-weeks-later", "a-year-later"])
async def test_a_demo_loaded_later_reads_the_same_clocks(db_sessions, settings, today: date) -> None:
    async with db_sessions() as db:
        db.add_all(CalendarYear(year=year, confirmed=True, source="test: Monday to Friday",
                                updated_at=datetime.now(UTC)) for year in range(2025, 2029))
        await db.commit()
    assert await _clocks(db_sessions, settings, today) == EXPECTED_MONDAY_TO_FRIDAY
