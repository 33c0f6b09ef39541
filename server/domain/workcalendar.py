"""Working-day calendar and the statutory clock of an approval item.

Approval limits are counted in working days (行政许可法 §82), and China moves weekends every year by
State Council notice (调休). A year's table is only right once that notice is out, so every year
carries a `confirmed` flag and any deadline that depends on an unconfirmed year says so
(`provisional`) instead of silently guessing.

Counting rule (民法典 §201): the start day (acceptance) is not counted; the first counted day is the
first working day after it. Because only working days are counted, a deadline always falls on a
working day, which also satisfies §203 (a deadline on a holiday moves to the next working day).

A clock counts the working days an application is with the administration: after acceptance, up
to the decision, outside suspended (中止, the applicant supplements) and excluded (§45: hearings,
tests, expert review, evaluation) periods. A case's clock counts a day when any of its items'
clocks counts it (`run_clock` over several spans), so one department's supplementation does not
stop the others, and the applicant's time between items is never the centre's.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import chain, islice, pairwise, takewhile
from types import MappingProxyType

import chinese_calendar

from server.domain.labels import LabelledEnum

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
# chinesecalendar computes solar terms for these years only.
_SOLAR_TERM_YEARS = range(1900, 2101)


@dataclass(frozen=True)
class CalendarYear:
    """One year's departures from the Mon-Fri rule.

    holidays: days off that would otherwise be working days (weekend days inside a holiday period
    may be listed too; they change nothing). workdays: make-up working weekends (调休上班).
    confirmed: True once the State Council notice for the year is applied; source names where the
    table came from, for the audit trail.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    confirmed: bool
    source: str

    def __post_init__(self) -> None:
        outside = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if outside:
            raise ValueError(
                f"{self.year}年日历含其他年份的日期: {outside[0]} / "
                f"calendar {self.year} lists a date of another year"
            )
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(
                f"日期既是节假日又是调休工作日: {both[0]} / "
                "date is both a holiday and a make-up working day"
            )
        weekday_workdays = sorted(d for d in self.workdays if d.weekday() < _SATURDAY)
        if weekday_workdays:
            raise ValueError(
                f"调休工作日应为周末: {weekday_workdays[0]} / "
                "a make-up working day must be a weekend day"
            )


class WorkCalendar:
    """Answers "is this a working day?" from per-year tables; a year without a table is Mon-Fri
    less the statutory holidays fixed by date (`statutory_holidays`), and unconfirmed."""

    def __init__(self, years: Iterable[CalendarYear]) -> None:
        self._years: dict[int, CalendarYear] = {}
        for entry in years:
            if entry.year in self._years:
                raise ValueError(f"{entry.year}年日历重复 / calendar year {entry.year} given twice")
            self._years[entry.year] = entry

    def is_working_day(self, day: date) -> bool:
        entry = self._years.get(day.year)
        if entry is not None:
            if day in entry.workdays:
                return True
            if day in entry.holidays:
                return False
        elif day in statutory_holidays(day.year):
            return False
        return day.weekday() < _SATURDAY

    def is_confirmed(self, year: int) -> bool:
        """A year without a table counts as unconfirmed: its answer is only a guess."""
        entry = self._years.get(year)
        return entry is not None and entry.confirmed

    def all_confirmed(self, first: date, last: date) -> bool:
        """Whether every year from `first` through `last` is confirmed."""
        return all(self.is_confirmed(year) for year in range(first.year, last.year + 1))

    def working_days_after(self, start: date) -> Iterator[date]:
        """The working days after `start` (excluded), in order, without end."""
        day = start
        while True:
            day += _ONE_DAY
            if self.is_working_day(day):
                yield day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start excluded); n must be positive."""
        return _nth(self.working_days_after(start), n)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: start excluded, end included; 0 when end == start."""
        if end < start:
            raise ValueError(f"结束日期早于开始日期: {end} < {start} / end date before start date")
        return sum(1 for _ in takewhile(lambda day: day <= end, self.working_days_after(start)))


@lru_cache(maxsize=128)
def statutory_holidays(year: int) -> frozenset[date]:
    """The holidays a year keeps before its State Council notice is out: those the 《全国年节及纪念日
    放假办法》 (as amended in 2024, in force since 2025) fixes by the solar calendar — 元旦 1 Jan,
    清明 (the solar term, 4-6 Apr), 劳动节 1-2 May, 国庆节 1-3 Oct.

    Without them a deadline in an unconfirmed year ran straight through New Year's Day and the
    National Day week. What cannot be known in advance is left out rather than guessed: the lunar
    holidays (春节 除夕-初三, 端午, 中秋; no lunar calendar is installed, and chinesecalendar has
    none) and every 调休 (the notice decides which weekends are worked). Such a year stays
    unconfirmed, so whatever it decides is marked provisional.
    """
    days = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2),
            date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)}
    if year in _SOLAR_TERM_YEARS:
        days.update(day for day, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
                    if name == "清明")
    return frozenset(days)


@dataclass(frozen=True)
class Suspension:
    """A period a clock stands still: 中止 (the applicant supplements, from the suspension notice
    to the resumption notice) or a §45 exclusion (hearing, test, expert review, evaluation, from
    the written notice to its end); both stop the clock alike, only their notices differ.

    Days from `start` through `end`, both included, are not counted: the notice day itself is
    already outside the clock, and counting resumes on the day after the resumption date (the
    resumption day, like the acceptance day, is a start day and not counted). end=None means the
    period is still open.
    """

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(
                f"恢复日期早于中止日期: {self.end} < {self.start} / "
                "resumption date before suspension date"
            )

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Span:
    """One item's time with the administration: the working days after `accepted`, up to
    `decided` (included; None while undecided), outside its periods."""

    accepted: date
    periods: tuple[Suspension, ...] = ()
    decided: date | None = None

    def counts(self, day: date) -> bool:
        return (self.accepted < day and (self.decided is None or day <= self.decided)
                and not _suspended_on(day, self.periods))

    @property
    def stopped(self) -> bool:
        """Undecided, with an open period: its clock stands still until the period ends."""
        return self.decided is None and any(period.end is None for period in self.periods)


@dataclass(frozen=True)
class Deadline:
    """The last day of a limit. provisional: it depends on a year whose holidays are not
    confirmed. suspended: the clock is stopped now, so the date will move later day by day."""

    date: date
    provisional: bool
    suspended: bool


@dataclass(frozen=True)
class ClockStatus:
    """A clock as of a given day.

    used: working days counted so far; left: limit minus used, negative once over (so the
    screen can say by how much). overdue: the deadline day passed before the decision (or, while
    undecided, before today). running: some span is counting (undecided, not stopped); suspended:
    none is, and an open period is why (else the case waits for the applicant's next item).
    """

    used: int
    left: int
    deadline: Deadline
    overdue: bool
    suspended: bool
    provisional: bool
    running: bool


def run_clock(
    cal: WorkCalendar,
    spans: Sequence[Span],
    limit_wd: int,
    as_of: date,
    decided: bool = False,
) -> ClockStatus:
    """Where a clock of `limit_wd` working days stands on `as_of`: it counts each working day
    that any span counts, from the earliest acceptance (excluded), and stops at the last
    decision when `decided` (every span decided and nothing else to come).

    The deadline is the limit-th counted day; days not yet counted are projected as the working
    days after the end (today, or the decision), i.e. as if every stopped clock resumed today,
    so each further day of suspension moves it (Deadline.suspended).
    """
    if not spans:
        raise ValueError("没有已受理的事项，未开始计时 / no accepted item: the clock has not started")
    start = min(span.accepted for span in spans)
    if as_of < start:
        raise ValueError(f"受理日期晚于今天: {start} > {as_of} / acceptance date is after today")
    for span in spans:
        _check_span(span, as_of)
    decisions = [day for span in spans if (day := span.decided) is not None]
    if decided and len(decisions) < len(spans):
        raise ValueError("尚有事项未办结 / an item is not decided yet")
    end = max(decisions) if decided else as_of
    counted = [day for day in takewhile(lambda day: day <= end, cal.working_days_after(start))
               if any(span.counts(day) for span in spans)]
    due = _nth(chain(counted, cal.working_days_after(end)), limit_wd)
    running = not decided and any(span.decided is None and not span.stopped for span in spans)
    moving = not decided and not running
    due_provisional = not cal.all_confirmed(start, due)
    return ClockStatus(
        used=len(counted),
        left=limit_wd - len(counted),
        deadline=Deadline(date=due, provisional=due_provisional, suspended=moving),
        overdue=end > due,
        suspended=moving and any(span.stopped for span in spans),
        provisional=due_provisional or not cal.all_confirmed(start, end),
        running=running,
    )


def clock_status(
    cal: WorkCalendar,
    accepted: date,
    limit_wd: int,
    suspensions: Sequence[Suspension],
    today: date,
    decided_on: date | None = None,
) -> ClockStatus:
    """One item's clock on `today`, counting from acceptance (excluded) to its decision."""
    span = Span(accepted, tuple(suspensions), decided_on)
    return run_clock(cal, [span], limit_wd, today, decided=decided_on is not None)


def deadline(
    cal: WorkCalendar,
    start: date,
    working_days: int,
    suspensions: Sequence[Suspension] = (),
    today: date | None = None,
) -> Deadline:
    """The last day of a limit of `working_days` counted from `start` (excluded), skipping
    suspended days.

    An open suspension (end None) needs `today`: the date returned is the deadline if the item
    were resumed today (counting again from tomorrow), i.e. the earliest it can still be; every
    further day of suspension moves it. `suspended` is then True.
    """
    if today is None:
        if any(period.end is None for period in suspensions):
            raise ValueError("中止未恢复时须给出当日日期 / an open suspension needs today's date")
        today = max([start, *(period.end for period in suspensions if period.end is not None)])
    return clock_status(cal, start, working_days, suspensions, today).deadline


def _suspended_on(day: date, periods: Sequence[Suspension]) -> bool:
    return any(period.covers(day) for period in periods)


def _nth(days: Iterator[date], n: int) -> date:
    if n < 1:
        raise ValueError(f"工作日数须为正整数: {n} / number of working days must be positive")
    return next(islice(days, n - 1, None))


def _check_span(span: Span, as_of: date) -> None:
    """Refuse what cannot have happened: periods before the acceptance, overlapping, open and
    followed by another, or after today; a decision before the acceptance, after today, or
    before a period ended."""
    periods = sorted(span.periods, key=lambda period: period.start)
    for earlier, later in pairwise(periods):
        if earlier.end is None or earlier.end >= later.start:
            raise ValueError(
                f"中止期间重叠: {earlier.start} 与 {later.start} / suspension periods overlap"
            )
    for period in periods:
        if period.start < span.accepted:
            raise ValueError(
                f"中止日期早于受理日期: {period.start} < {span.accepted} / suspension before acceptance"
            )
        latest = period.end or period.start
        if latest > as_of:
            raise ValueError(
                f"中止或恢复日期晚于今天: {latest} > {as_of} / "
                "suspension or resumption dated in the future"
            )
    if span.decided is None:
        return
    if not span.accepted <= span.decided <= as_of:
        raise ValueError(
            f"办结日期须在受理日期 {span.accepted} 与今天 {as_of} 之间: {span.decided} / "
            "decision date must lie between the acceptance and today"
        )
    if any(period.end is None or period.end > span.decided for period in periods):
        raise ValueError(
            f"办结日期 {span.decided} 早于中止期间结束 / decision date before a suspension ended"
        )


class LimitBasis(LabelledEnum):
    """Which statute sets an item's limit (备案 has no review period, hence no entry)."""

    SINGLE_DEPARTMENT = "single_department", "单一部门办理", "single department"
    JOINT = "joint", "联合办理", "joint handling"
    RATIFICATION = "ratification", "项目核准", "project ratification"


@dataclass(frozen=True)
class StatutoryLimit:
    """A statutory limit in working days and the most it may be extended (with approval)."""

    base_wd: int
    extension_wd: int
    law: str

    @property
    def max_wd(self) -> int:
        return self.base_wd + self.extension_wd


_LICENSING_LAW = "《中华人民共和国行政许可法》"
STATUTORY_LIMITS: Mapping[LimitBasis, StatutoryLimit] = MappingProxyType(
    {
        LimitBasis.SINGLE_DEPARTMENT: StatutoryLimit(20, 10, f"{_LICENSING_LAW}第四十二条第一款"),
        LimitBasis.JOINT: StatutoryLimit(45, 15, f"{_LICENSING_LAW}第四十二条第二款"),
        LimitBasis.RATIFICATION: StatutoryLimit(20, 40, "《企业投资项目核准和备案管理条例》第十条"),
    }
)


def library_years() -> range:
    """Years covered by the installed chinesecalendar package."""
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def seed_years_from_library(years: Iterable[int]) -> list[CalendarYear]:
    """Confirmed calendar years taken from chinesecalendar's tables.

    The tables are read directly: chinesecalendar's find_workday counts one day late when started
    on a holiday. A year the library does not cover is refused rather than filled with a guess.
    """
    covered = library_years()
    source = f"chinesecalendar {chinese_calendar.__version__}"
    seeded = []
    for year in years:
        if year not in covered:
            raise ValueError(
                f"chinesecalendar 不含{year}年数据（覆盖 {covered.start}-{covered.stop - 1}）/ "
                f"chinesecalendar has no data for {year}"
            )
        seeded.append(
            CalendarYear(
                year=year,
                holidays=frozenset(d for d in chinese_calendar.holidays if d.year == year),
                workdays=frozenset(d for d in chinese_calendar.workdays if d.year == year),
                confirmed=True,
                source=source,
            )
        )
    return seeded
