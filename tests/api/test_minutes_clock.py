"""One clock in the minutes (issue 12): the case's and each item's clock printed in the minutes are
the figures of server.services.clock.case_clocks on the meeting's date (the computation behind the
case list, the case page, the API and the archive); the meeting's date and start come from the
record, else from the plan, said to be planned; and the working-day table the minutes count due
dates on keeps the statutory holidays of a year without a stored table, marked provisional."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from minutes.build import build_minutes
from minutes.model import Minutes
from minutes.render.layout import Para, clock_figures, minutes_blocks
from server.db.models import InvestmentCase, Meeting
from server.domain.cases import ManagementCategory
from server.services.calendar import load_calendar, seed_calendar
from server.services.clock import case_clocks, promised_limit
from server.services.minutes_source import load_minutes_source
from tests.api import minutes_script
from tests.world import build_world

NUMBER = "凤联审纪〔2026〕21号"


def _text(minutes: Minutes) -> str:
    return "\n".join(f"{b.label}{b.text}" for b in minutes_blocks(minutes) if isinstance(b, Para))


async def test_the_minutes_print_the_clocks_of_the_one_clock_computation(db_sessions, settings) -> None:
    world = await build_world(db_sessions)
    await minutes_script.arrange(db_sessions, world)
    await minutes_script.run_meeting(db_sessions, world)
    async with db_sessions() as db:
        source = await load_minutes_source(db, world.meeting_x, settings)
        case = await db.get(InvestmentCase, world.case_x)
        assert case is not None
        limit = promised_limit(settings.centre.promised_limits, ManagementCategory(case.category))
        # the meeting went live at 09:30 on 8 December in Fengqing (minutes_script.START)
        expected, expected_items = case_clocks(await load_calendar(db), limit, case.items, date(2026, 12, 8))
        names = [item.name for item in case.items]
    minutes = build_minutes(source, number=NUMBER)
    clock = minutes.cases[0].clock
    assert clock is not None and expected.start is not None and expected.deadline is not None
    assert (clock.state, clock.state_label, clock.limit_wd, clock.start, clock.used, clock.left, clock.deadline,
            clock.overdue, clock.suspended, clock.provisional) == (
        expected.state.value, expected.state.label_zh, expected.limit_wd, expected.start.isoformat(),
        expected.used, expected.left, expected.deadline.isoformat(), expected.overdue, expected.suspended,
        expected.provisional)
    by_name = dict(zip(names, expected_items, strict=True))
    for item in minutes.items:
        want, got = by_name[item.name], item.clock
        assert got is not None
        assert (got.state, got.used, got.left, got.overdue, got.statutory_overdue, got.suspended, got.provisional,
                got.promised_deadline, got.statutory_deadline) == (
            want.state.value, want.used, want.left, want.overdue, want.statutory_overdue, want.suspended,
            want.provisional, want.promised_deadline.isoformat() if want.promised_deadline else None,
            want.statutory_deadline.isoformat() if want.statutory_deadline else None)
    text = _text(minutes)
    assert expected.left is not None and expected.left < 0  # the test world's filing is long overdue
    assert f"已用{expected.used}个工作日，超期{-expected.left}个工作日" in text
    assert all(f"截至会议当日{clock_figures(item.clock)}" in text for item in minutes.items if item.clock)


async def test_a_meeting_never_opened_is_dated_and_clocked_as_planned(db_sessions, settings) -> None:
    world = await build_world(db_sessions)
    async with db_sessions() as db:
        await seed_calendar(db)
        meeting = await db.get(Meeting, world.meeting_y)
        assert meeting is not None
        meeting.scheduled_start = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)  # 3:30 on 2 December in Beijing
        meeting.scheduled_end = meeting.scheduled_start + timedelta(hours=1)
        await db.commit()
    async with db_sessions() as db:
        minutes = build_minutes(await load_minutes_source(db, world.meeting_y, settings), number=NUMBER)
        case = await db.get(InvestmentCase, world.case_y)
        assert case is not None
        limit = promised_limit(settings.centre.promised_limits, ManagementCategory(case.category))
        expected, _ = case_clocks(await load_calendar(db), limit, case.items, date(2026, 12, 2))
    assert (minutes.date, minutes.start, minutes.start_planned, minutes.end) == (
        "2026-12-02", "2026-12-02T03:30", True, None)
    assert minutes.cases[0].clock is not None and minutes.cases[0].clock.used == expected.used
    assert _text(minutes).startswith("2026年12月2日3时30分（计划时间），")
    assert [i.reviewed for i in minutes.items] == [False]


async def test_a_year_without_a_stored_table_keeps_its_statutory_holidays_and_is_provisional(
        db_sessions, settings) -> None:
    world = await build_world(db_sessions)
    async with db_sessions() as db:
        await seed_calendar(db)  # the library's years; 2028 and 2029 have no table
        meeting = await db.get(Meeting, world.meeting_y)
        assert meeting is not None
        meeting.scheduled_start = datetime(2028, 12, 29, 1, 30, tzinfo=UTC)  # a Friday
        meeting.scheduled_end = meeting.scheduled_start + timedelta(hours=1)
        await db.commit()
    async with db_sessions() as db:
        source = await load_minutes_source(db, world.meeting_y, settings)
        server_calendar = await load_calendar(db)
    calendar = source.calendar
    assert not calendar.is_working_day(date(2029, 1, 1))  # 元旦, a Monday
    assert not calendar.is_working_day(date(2028, 10, 2))  # 国庆节, a Monday
    assert calendar.add_working_days(date(2028, 12, 29), 1) == date(2029, 1, 2)
    assert calendar.provisional(date(2028, 12, 29), date(2029, 1, 2))
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(3 * 366)]
    assert [calendar.is_working_day(d) for d in days] == [server_calendar.is_working_day(d) for d in days]
