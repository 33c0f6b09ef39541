"""The demo's clocks on the day its data describes (DATA_AS_OF): realistic, not all overdue.

Before one clock, every demo case was overdue on the centre's promise because the promise ran
from the first acceptance to today through the applicant's supplementation and the months between
stages. Counted as the centre's days only, and stopped by the stored decision dates, two cases are
over (the 核桃 case and the year-long sewage works) and three are not.
"""

from __future__ import annotations

from server.auth.principal import Principal
from server.demo import data
from server.demo.seed import seed_demo
from server.domain.roles import Role
from server.services.calendar import seed_calendar
from server.services.case_schemas import CaseQuery
from server.services.cases import CaseDesk

# project code: (state, used, limit, overdue), as of 2026-12-01
EXPECTED = {
    data.FISH: ("suspended", 17, 34, False),  # 水土保持 waits for supplementation; the rest decided
    data.TEA: ("running", 33, 34, False),
    data.WALNUT: ("running", 42, 34, True),
    data.SEWAGE: ("running", 62, 37, True),  # 审批制: six stages since January
    data.WIND: ("running", 25, 36, False),
}


async def test_demo_cases_are_not_all_overdue_on_their_own_date(db_sessions, settings) -> None:
    async with db_sessions() as db:
        await seed_calendar(db)
        await seed_demo(db, settings)
        await db.commit()
    admin = Principal(user_id=0, username="clock-test", display_name="clock test", role=Role.ADMIN)
    async with db_sessions() as db:
        desk = CaseDesk(db, admin, settings.centre.promised_limits, today=data.DATA_AS_OF)
        page = await desk.page(CaseQuery(limit=200))
        clocks = {case.project_code: case.clock for case in page.items}
        decided = {(case.project_code, item.name): item.decided_on for case in page.items
                   for item in (await desk.detail(case.id)).items}
    assert {code: (c.state.value, c.used, c.limit_wd, c.overdue) for code, c in clocks.items()} == EXPECTED
    assert decided == {(case.project_code, item.name): item.decided_on for case in data.CASES for item in case.items}
