"""Working-day calendar, suspensions and the item clock (brief §3)."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from server.domain.workcalendar import (
    STATUTORY_LIMITS,
    CalendarYear,
    Deadline,
    LimitBasis,
    Span,
    Suspension,
    WorkCalendar,
    clock_status,
    deadline,
    library_years,
    run_clock,
    seed_years_from_library,
    statutory_holidays,
)

ACCEPTED = date(2026, 2, 13)  # Friday before the 2026 Spring Festival break
DUE = date(2026, 3, 19)  # ACCEPTED + 20 working days (brief check vector)


def final(day: date) -> Deadline:
    """A deadline that is neither provisional nor moving."""
    return Deadline(date=day, provisional=False, suspended=False)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    """The library's confirmed years only: 2027 is absent, hence unconfirmed."""
    return WorkCalendar(seed_years_from_library(library_years()))


# --- the calendar itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "working_days", "expected"),
    [
        (date(2026, 2, 13), 20, date(2026, 3, 19)),
        (date(2026, 4, 30), 20, date(2026, 6, 1)),
        (date(2026, 9, 21), 20, date(2026, 10, 26)),
        (date(2026, 1, 1), 37, date(2026, 2, 28)),  # a Saturday make-up working day
    ],
)
def test_brief_check_vectors(
    cal: WorkCalendar, start: date, working_days: int, expected: date
) -> None:
    assert cal.add_working_days(start, working_days) == expected
    assert deadline(cal, start, working_days) == final(expected)
    assert cal.working_days_between(start, expected) == working_days


def test_start_on_a_holiday_counts_from_the_next_working_day(cal: WorkCalendar) -> None:
    # chinesecalendar.find_workday(1, 2026-10-03) answers 2026-10-09, one day late: not used.
    assert cal.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)
    assert chinese_calendar.find_workday(1, date(2026, 10, 3)) == date(2026, 10, 9)


def test_seeded_calendar_agrees_with_the_library_on_every_day(cal: WorkCalendar) -> None:
    day = date(library_years().start, 1, 1)
    last = date(library_years().stop - 1, 12, 31)
    while day <= last:
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_seeded_years_are_confirmed_and_name_their_source() -> None:
    (year,) = seed_years_from_library([2026])
    assert year.year == 2026
    assert year.confirmed
    assert year.source == f"chinesecalendar {chinese_calendar.__version__}"
    assert date(2026, 2, 28) in year.workdays
    assert date(2026, 10, 1) in year.holidays


def test_library_years_cover_2004_through_2026() -> None:
    assert library_years() == range(2004, 2027)


def test_seeding_a_year_the_library_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="2027"):
        seed_years_from_library([2026, 2027])


def test_a_year_without_a_table_is_unconfirmed_and_keeps_the_fixed_date_holidays(
    cal: WorkCalendar,
) -> None:
    assert not cal.is_confirmed(2027)
    assert not cal.is_working_day(date(2027, 1, 1))  # 元旦, a Friday
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert cal.is_working_day(date(2027, 1, 4))  # Monday
    # 清明 (the solar term, 5 April 2027, a Monday), 劳动节 1-2 May, 国庆节 1-3 October.
    assert not cal.is_working_day(date(2027, 4, 5)) and cal.is_working_day(date(2027, 4, 6))
    assert not cal.is_working_day(date(2028, 5, 1)) and not cal.is_working_day(date(2028, 5, 2))
    assert cal.is_working_day(date(2028, 5, 3))
    # 1 October 2027 is a Friday and 2-3 a weekend; no 调休 is guessed, so Monday the 4th works.
    assert not cal.is_working_day(date(2027, 10, 1)) and cal.is_working_day(date(2027, 10, 4))


@pytest.mark.parametrize("year", [2027, 2030, 2045, 2099])
def test_fixed_date_holidays_of_years_beyond_the_library(year: int) -> None:
    assert year not in library_years()
    days = statutory_holidays(year)
    fixed = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2), date(year, 10, 1), date(year, 10, 2),
             date(year, 10, 3)}
    (qingming,) = days - fixed
    assert qingming.month == 4 and 4 <= qingming.day <= 6
    assert fixed < days


def test_the_fixed_date_rules_agree_with_the_confirmed_years() -> None:
    """Since the 2024 amendment (in force 2025) every fixed-date holiday is a day off in the
    official tables, and the solar-term 清明 has been one every year since 2008."""
    for year in (2025, 2026):
        assert statutory_holidays(year) <= {d for d in chinese_calendar.holidays if d.year == year}, year
    for year in range(2008, library_years().stop):
        (qingming,) = {d for d in statutory_holidays(year) if d.month == 4}
        assert chinese_calendar.is_holiday(qingming), year


def test_a_deadline_across_new_year_in_an_unconfirmed_year_skips_it_and_is_provisional(
    cal: WorkCalendar,
) -> None:
    # 2026-12-30 (Wed) + 2 WD: 31 Dec, then 1 Jan 2027 is 元旦 (a Friday): Monday 4 January.
    result = deadline(cal, date(2026, 12, 30), 2)
    assert result == Deadline(date=date(2027, 1, 4), provisional=True, suspended=False)
    # 2027-09-30 (Thu) + 1 WD: 1 October (Fri) is 国庆节, the weekend follows: Monday 4 October.
    assert cal.add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 4)


def test_an_unconfirmed_table_is_used_but_not_trusted() -> None:
    draft = CalendarYear(
        year=2027,
        holidays=frozenset({date(2027, 1, 1)}),
        workdays=frozenset(),
        confirmed=False,
        source="draft",
    )
    cal = WorkCalendar([draft])
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_confirmed(2027)
    assert deadline(cal, date(2026, 12, 31), 1).provisional


def test_working_days_between_excludes_start_and_includes_end(cal: WorkCalendar) -> None:
    assert cal.working_days_between(ACCEPTED, ACCEPTED) == 0
    assert cal.working_days_between(ACCEPTED, date(2026, 2, 14)) == 1  # make-up Saturday
    assert cal.working_days_between(ACCEPTED, date(2026, 2, 23)) == 1  # festival in between
    with pytest.raises(ValueError, match="end date before start date"):
        cal.working_days_between(ACCEPTED, ACCEPTED - timedelta(days=1))


def test_non_positive_working_days_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        cal.add_working_days(ACCEPTED, 0)
    with pytest.raises(ValueError, match="must be positive"):
        deadline(cal, ACCEPTED, -1)


@pytest.mark.parametrize(
    ("holidays", "workdays", "message"),
    [
        ({date(2025, 12, 31)}, set(), "another year"),
        ({date(2026, 2, 14)}, {date(2026, 2, 14)}, "both a holiday and a make-up"),
        (set(), {date(2026, 2, 16)}, "must be a weekend day"),  # a Monday
    ],
)
def test_inconsistent_calendar_years_are_refused(
    holidays: set[date], workdays: set[date], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CalendarYear(2026, frozenset(holidays), frozenset(workdays), True, "manual")


def test_a_year_given_twice_is_refused() -> None:
    years = seed_years_from_library([2026]) * 2
    with pytest.raises(ValueError, match="given twice"):
        WorkCalendar(years)


# --- provisional deadlines -----------------------------------------------------------------


def test_deadline_within_confirmed_years_is_final(cal: WorkCalendar) -> None:
    assert not deadline(cal, ACCEPTED, 20).provisional


def test_deadline_crossing_into_an_unconfirmed_year_is_provisional(cal: WorkCalendar) -> None:
    result = deadline(cal, date(2026, 12, 10), 20)
    assert result.date.year == 2027
    assert result.provisional


def test_deadline_starting_in_an_unconfirmed_year_is_provisional(cal: WorkCalendar) -> None:
    assert deadline(cal, date(2003, 12, 1), 5).provisional


# --- suspensions (中止/恢复) ------------------------------------------------------------------


def test_suspension_excludes_its_first_and_last_day(cal: WorkCalendar) -> None:
    # Suspended and resumed on the same Monday: exactly that one working day is lost.
    one_day = Suspension(date(2026, 3, 2), date(2026, 3, 2))
    assert deadline(cal, ACCEPTED, 20, [one_day]).date == date(2026, 3, 20)


def test_counting_resumes_the_day_after_resumption(cal: WorkCalendar) -> None:
    resumed = Suspension(date(2026, 3, 2), date(2026, 3, 4))
    on_resumption = clock_status(cal, ACCEPTED, 20, [resumed], date(2026, 3, 4))
    next_day = clock_status(cal, ACCEPTED, 20, [resumed], date(2026, 3, 5))
    assert next_day.used == on_resumption.used + 1


def test_closed_suspension_moves_the_deadline_by_its_working_days(cal: WorkCalendar) -> None:
    week = Suspension(date(2026, 3, 2), date(2026, 3, 6))  # Monday to Friday: 5 WD
    result = deadline(cal, ACCEPTED, 20, [week])
    assert result == final(date(2026, 3, 26))


def test_suspension_over_a_weekend_only_changes_nothing(cal: WorkCalendar) -> None:
    weekend = Suspension(date(2026, 3, 7), date(2026, 3, 8))
    assert deadline(cal, ACCEPTED, 20, [weekend]).date == DUE


def test_two_suspensions_add_up(cal: WorkCalendar) -> None:
    first = Suspension(date(2026, 3, 2), date(2026, 3, 3))  # 2 WD
    second = Suspension(date(2026, 3, 10), date(2026, 3, 12))  # 3 WD
    assert deadline(cal, ACCEPTED, 20, [second, first]).date == date(2026, 3, 26)


def test_open_suspension_gives_the_deadline_if_resumed_today(cal: WorkCalendar) -> None:
    still_open = Suspension(date(2026, 3, 2))
    result = deadline(cal, ACCEPTED, 20, [still_open], today=date(2026, 3, 4))
    closed_today = deadline(cal, ACCEPTED, 20, [Suspension(date(2026, 3, 2), date(2026, 3, 4))])
    assert result == Deadline(date=closed_today.date, provisional=False, suspended=True)
    assert result.date == date(2026, 3, 24)
    later = deadline(cal, ACCEPTED, 20, [still_open], today=date(2026, 3, 5))
    assert later.date == date(2026, 3, 25)


def test_open_suspension_without_today_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="needs today's date"):
        deadline(cal, ACCEPTED, 20, [Suspension(date(2026, 3, 2))])


@pytest.mark.parametrize(
    ("suspensions", "message"),
    [
        ([Suspension(date(2026, 2, 12), date(2026, 2, 24))], "before acceptance"),
        (
            [
                Suspension(date(2026, 3, 2), date(2026, 3, 5)),
                Suspension(date(2026, 3, 5), date(2026, 3, 6)),
            ],
            "overlap",
        ),
        (
            [Suspension(date(2026, 3, 2)), Suspension(date(2026, 3, 9), date(2026, 3, 10))],
            "overlap",
        ),
        ([Suspension(date(2026, 3, 2), date(2026, 4, 1))], "in the future"),
    ],
)
def test_impossible_suspensions_are_refused(
    cal: WorkCalendar, suspensions: list[Suspension], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        deadline(cal, ACCEPTED, 20, suspensions, today=date(2026, 3, 20))


def test_resumption_before_suspension_is_refused() -> None:
    with pytest.raises(ValueError, match="resumption date before suspension date"):
        Suspension(date(2026, 3, 5), date(2026, 3, 4))


# --- clock status --------------------------------------------------------------------------


def test_clock_on_acceptance_day_has_used_nothing(cal: WorkCalendar) -> None:
    status = clock_status(cal, ACCEPTED, 20, [], ACCEPTED)
    assert (status.used, status.left, status.overdue) == (0, 20, False)
    assert status.deadline == final(DUE)


def test_clock_on_the_deadline_day_is_not_yet_overdue(cal: WorkCalendar) -> None:
    status = clock_status(cal, ACCEPTED, 20, [], DUE)
    assert (status.used, status.left, status.overdue) == (20, 0, False)


def test_clock_after_the_deadline_is_overdue_with_negative_days_left(cal: WorkCalendar) -> None:
    status = clock_status(cal, ACCEPTED, 20, [], date(2026, 3, 23))  # Monday after
    assert (status.used, status.left, status.overdue) == (22, -2, True)


def test_clock_stops_while_suspended(cal: WorkCalendar) -> None:
    still_open = [Suspension(date(2026, 3, 2))]
    before = clock_status(cal, ACCEPTED, 20, still_open, date(2026, 3, 2))
    after = clock_status(cal, ACCEPTED, 20, still_open, date(2026, 3, 13))
    assert before.used == after.used == 6  # 2/14, 2/24-2/27, 2/28 (make-up Saturday)
    assert after.suspended and not after.overdue
    assert after.deadline.date > before.deadline.date


def test_clock_is_provisional_when_today_is_in_an_unconfirmed_year(cal: WorkCalendar) -> None:
    # The deadline (2026-11-09) is certain; the days used since, counted into 2027, are not.
    status = clock_status(cal, date(2026, 11, 2), 5, [], date(2027, 1, 4))
    assert not status.deadline.provisional
    assert status.overdue and status.provisional


def test_clock_refuses_acceptance_after_today(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="acceptance date is after today"):
        clock_status(cal, DUE, 20, [], ACCEPTED)


# --- statutory limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "base", "most"),
    [
        (LimitBasis.SINGLE_DEPARTMENT, 20, 30),
        (LimitBasis.JOINT, 45, 60),
        (LimitBasis.RATIFICATION, 20, 60),
    ],
)
def test_statutory_limits(basis: LimitBasis, base: int, most: int) -> None:
    limit = STATUTORY_LIMITS[basis]
    assert (limit.base_wd, limit.max_wd) == (base, most)
    assert limit.law.startswith("《")


# --- one clock over several items (a case) --------------------------------------------------

MONDAY = date(2026, 3, 2)  # an ordinary week: 2-6 March 2026, then 9-13


def test_a_case_counts_a_day_when_any_item_counts_it(cal: WorkCalendar) -> None:
    # A runs from Monday; B is suspended Tue-Thu while A still runs: every day counts once.
    a = Span(MONDAY)
    b = Span(MONDAY, (Suspension(date(2026, 3, 3), date(2026, 3, 5)),))
    status = run_clock(cal, [a, b], 37, date(2026, 3, 6))
    assert (status.used, status.left, status.running, status.suspended) == (4, 33, True, False)


def test_a_case_stops_when_every_open_item_is_suspended(cal: WorkCalendar) -> None:
    a = Span(MONDAY, (Suspension(date(2026, 3, 4)),))  # open since Wednesday
    b = Span(MONDAY, (Suspension(date(2026, 3, 5)),))  # open since Thursday
    status = run_clock(cal, [a, b], 37, date(2026, 3, 13))
    assert status.used == 2  # Tue, Wed (B still ran); from Thursday nobody's clock counts
    assert (status.running, status.suspended, status.deadline.suspended) == (False, True, True)
    # As if both resumed today (Friday 13th): 35 working days still to count after it.
    assert status.deadline.date == cal.add_working_days(date(2026, 3, 13), 35)


def test_the_applicants_time_between_items_is_not_the_centres(cal: WorkCalendar) -> None:
    # A decided on Wednesday 4th; B filed and accepted on Monday 9th: 5-9 March are not counted.
    a = Span(MONDAY, decided=date(2026, 3, 4))
    b = Span(date(2026, 3, 9))
    waiting = run_clock(cal, [a], 34, date(2026, 3, 6))
    assert (waiting.used, waiting.running, waiting.suspended, waiting.deadline.suspended) == (2, False, False, True)
    status = run_clock(cal, [a, b], 34, date(2026, 3, 11))
    assert (status.used, status.running) == (4, True)  # 3rd, 4th, 10th, 11th


def test_a_decided_case_stops_at_its_last_decision(cal: WorkCalendar) -> None:
    a = Span(MONDAY, decided=date(2026, 3, 4))
    b = Span(MONDAY, decided=date(2026, 3, 10))
    status = run_clock(cal, [a, b], 5, date(2026, 12, 1), decided=True)
    assert (status.used, status.left, status.running, status.suspended) == (6, -1, False, False)
    # The fifth counted day was Monday 9th; deciding on the 10th was one day late.
    assert status.deadline == final(date(2026, 3, 9)) and status.overdue
    on_time = run_clock(cal, [a, b], 6, date(2026, 12, 1), decided=True)
    assert (on_time.used, on_time.left, on_time.overdue) == (6, 0, False)


def test_an_item_clock_stops_at_its_decision(cal: WorkCalendar) -> None:
    decided = clock_status(cal, ACCEPTED, 20, [], date(2026, 12, 1), decided_on=date(2026, 3, 2))
    # 14 Feb and 28 Feb are make-up Saturdays: 2/14, 2/24-2/28, 3/2.
    assert (decided.used, decided.left, decided.overdue, decided.running) == (7, 13, False, False)
    assert decided.deadline == final(DUE)


@pytest.mark.parametrize(
    ("span", "decided", "message"),
    [
        (Span(MONDAY, decided=date(2026, 3, 1)), True, "between the acceptance and today"),
        (Span(MONDAY, decided=date(2026, 3, 20)), True, "between the acceptance and today"),
        (Span(MONDAY, (Suspension(date(2026, 3, 3)),), date(2026, 3, 4)), True, "before a suspension ended"),
        (Span(MONDAY, (Suspension(date(2026, 3, 3), date(2026, 3, 5)),), date(2026, 3, 4)), True,
         "before a suspension ended"),
        (Span(MONDAY), True, "not decided yet"),
    ],
)
def test_impossible_decisions_are_refused(cal: WorkCalendar, span: Span, decided: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_clock(cal, [span], 20, date(2026, 3, 13), decided=decided)


def test_a_clock_without_an_accepted_item_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="no accepted item"):
        run_clock(cal, [], 37, MONDAY)
