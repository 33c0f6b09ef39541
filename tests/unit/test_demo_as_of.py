"""Moving the demo to the day it is loaded (server.demo.as_of): whole weeks, everything dated moves."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

from server.demo import data
from server.demo.as_of import demo_world, shift_for
from server.domain.workcalendar import CalendarYear, WorkCalendar, library_years, seed_years_from_library


def _dates(value: object) -> list[date]:
    """Every date and datetime in a record tree, in order."""
    if isinstance(value, date):
        return [value]
    if isinstance(value, (tuple, list)):
        return [d for v in value for d in _dates(v)]
    if isinstance(value, dict):
        return [d for v in value.values() for d in _dates(v)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [d for f in dataclasses.fields(value) for d in _dates(getattr(value, f.name))]
    return []


MONDAY_TO_FRIDAY = WorkCalendar([])  # less the holidays fixed by date (1 January, 1-3 October, ...)


def _meeting_days(world_shift: timedelta) -> list[date]:
    moments = [m for meeting in demo_world(world_shift).meetings
               for m in (meeting.scheduled_start, meeting.scheduled_end, meeting.actual_start, meeting.actual_end)]
    return [moment.date() for moment in moments if moment is not None]


@pytest.mark.parametrize(("days", "weeks"), [(0, 0), (3, 0), (4, 1), (-4, -1), (5, 1), (24, 3), (-365, -52)])
def test_the_shift_is_the_nearest_whole_number_of_weeks(days: int, weeks: int) -> None:
    assert shift_for(data.DATA_AS_OF + timedelta(days=days), MONDAY_TO_FRIDAY) == timedelta(weeks=weeks)


def test_a_meeting_is_not_moved_onto_a_public_holiday() -> None:
    """Six weeks on, the held meeting (a Friday) would fall on New Year's Day: the demo moves a
    week further, and both meetings are on working days."""
    today = data.DATA_AS_OF + timedelta(weeks=6)
    assert not MONDAY_TO_FRIDAY.is_working_day(data.MEETINGS[0].scheduled_start.date() + timedelta(weeks=6))
    shift = shift_for(today, MONDAY_TO_FRIDAY)
    assert shift == timedelta(weeks=7)
    assert all(MONDAY_TO_FRIDAY.is_working_day(day) for day in _meeting_days(shift))


def test_on_the_real_calendar_every_week_of_the_years_puts_the_meetings_on_working_days() -> None:
    """Loaded on any day of the years chinesecalendar covers (Spring Festival, National Day and
    their make-up days included), the demo's meetings are on working days, at most a week or two
    from the nearest shift."""
    years = [year for year in library_years() if year >= data.DATA_AS_OF.year - 2]
    calendar = WorkCalendar(seed_years_from_library(years))
    day, last = date(years[0], 1, 1), date(years[-1], 12, 31) - timedelta(weeks=4)
    moved = 0
    while day <= last:
        nearest = timedelta(weeks=round((day - data.DATA_AS_OF).days / 7))
        shift = shift_for(day, calendar)
        assert abs(shift - nearest) <= timedelta(weeks=2), day
        assert all(calendar.is_working_day(d) for d in _meeting_days(shift)), day
        moved += shift != nearest
        day += timedelta(days=7)
    assert moved > 0  # some week would have put a meeting on a holiday: the check can fail


def _every_day_of(year: int) -> frozenset[date]:
    return frozenset(date.fromordinal(n) for n in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()))


def test_no_working_shift_is_refused() -> None:
    everything_off = WorkCalendar(CalendarYear(year=year, holidays=_every_day_of(year), workdays=frozenset(),
                                               confirmed=True, source="test: all holidays") for year in (2026, 2027))
    with pytest.raises(ValueError, match="working days"):
        shift_for(data.DATA_AS_OF, everything_off)


def test_unmoved_is_the_reference_data() -> None:
    world = demo_world(timedelta(0))
    assert (world.cases, world.commissions, world.meetings) == (data.CASES, data.COMMISSIONS, data.MEETINGS)
    assert world.as_of == data.DATA_AS_OF


def test_only_whole_weeks() -> None:
    with pytest.raises(ValueError, match="whole weeks"):
        demo_world(timedelta(days=3))


@pytest.mark.parametrize("weeks", [-3, 5, 52])
def test_every_date_moves_by_the_shift_and_keeps_its_weekday(weeks: int) -> None:
    shift = timedelta(weeks=weeks)
    world = demo_world(shift)
    reference = _dates((data.CASES, data.COMMISSIONS, data.MEETINGS))
    moved = _dates((world.cases, world.commissions, world.meetings))
    assert len(moved) == len(reference) > 50
    pairs = list(zip(reference, moved, strict=True))
    assert all(new - old == shift and new.weekday() == old.weekday() for old, new in pairs)
    assert all(isinstance(new, datetime) == isinstance(old, datetime) for old, new in pairs)


def test_calendar_references_in_text_move_with_the_dates() -> None:
    world = demo_world(timedelta(weeks=6))  # the held meeting moves from 2026-11-20 to 2027-01-01
    held = world.meetings[0]
    assert held.actual_start is not None and held.actual_start.date() == date(2027, 1, 1)
    assert held.key == "FQ-20270101"
    payloads = [e.payload for e in held.events]
    assert {p["effective_date"] for p in payloads if "effective_date" in p} == {"2027-01-01"}
    assert {p["recording_key"] for p in payloads if "recording_key" in p} == {"FQ-20270101-R1"}
    text = repr(payloads)
    assert "2026年11月20日" not in text and "2027年1月1日" in text
    assert "2026年11月19日" not in text and "2026年12月31日" in text
    assert "计划2027年4月开工" in text  # 2027年3月 moved as its first day does (2027-04-12)


def test_dated_identifiers_follow_their_documents() -> None:
    world = demo_world(timedelta(weeks=6))
    fish = world.cases[0]
    # issued with the filing (2026-10-12, now 2026-11-23); the code is quoted in the filing's result
    assert fish.project_code == "2611" + data.FISH[4:]
    assert fish.project_code in fish.items[0].result
    assert world.meetings[0].agenda[0].project_code == fish.project_code
    # decided 2026-11-30, now 2027-01-11: numbered in 2027; one decided in October stays in 2026
    land, eia = fish.items[1], fish.items[2]
    assert land.document_no == "用字第530921202700058号" and eia.document_no == "临环凤审〔2027〕41号"
    assert fish.items[0].document_no == "凤发改备〔2026〕86号"
    assert world.cases[3].project_code == data.SEWAGE  # old format: the year of the project reserve


def test_reference_codes_are_issued_in_the_month_of_the_first_acceptance() -> None:
    """The premise of moving a code with its case: the issue month is the first acceptance's."""
    for case in data.CASES:
        if case.project_code[:4] > "2020":
            first = min(item.accepted_on for item in case.items if item.accepted_on is not None)
            assert case.project_code[:4] == f"{first:%y%m}", case.name
