"""Working-day calendar and the statutory clock of an approval item.

Approval limits are counted in working days (行政许可法 §82), and China moves weekends every year by
State Council notice (调休). A year's table is only right once that notice is out, so every year
carries a `confirmed` flag and any deadline that depends on an unconfirmed year says so
(`provisional`) instead of silently guessing.

Counting rule (民法典 §201): the start day (acceptance) is not counted; the first counted day is the
first working day after it. Because only working days are counted, a deadline always falls on a
working day, which also satisfies §203 (a deadline on a holiday moves to the next working day).
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice, pairwise, takewhile
from types import MappingProxyType

import chinese_calendar

from server.domain.labels import LabelledEnum

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


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
    """Answers "is this a working day?" from per-year tables, Mon-Fri for years without a table."""

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
        return day.weekday() < _SATURDAY

    def is_confirmed(self, year: int) -> bool:
        """A year without a table counts as unconfirmed: its Mon-Fri answer is only a guess."""
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


@dataclass(frozen=True)
class Suspension:
    """A 中止 period of an item's clock, from the suspension notice to the resumption notice.

    Days from `start` through `end`, both included, are not counted: the notice day itself is
    already outside the clock, and counting resumes on the day after the resumption date (the
    resumption day, like the acceptance day, is a start day and not counted). end=None means the
    item is still suspended.
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
class Deadline:
    """The last day of a limit. provisional: it depends on a year whose holidays are not
    confirmed. suspended: the clock is stopped now, so the date will move later day by day."""

    date: date
    provisional: bool
    suspended: bool


@dataclass(frozen=True)
class ClockStatus:
    """An item's clock as of a given day.

    used: working days counted so far; left: limit minus used, negative once overdue (so the
    screen can say by how much). overdue: the deadline day has passed.
    """

    used: int
    left: int
    deadline: Deadline
    overdue: bool
    suspended: bool
    provisional: bool


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
    periods = _checked_suspensions(start, suspensions, today)
    is_open = any(period.end is None for period in periods)
    if is_open:
        if today is None:
            raise ValueError("中止未恢复时须给出当日日期 / an open suspension needs today's date")
        periods = [Suspension(p.start, today) if p.end is None else p for p in periods]
    due = _nth(_counted_days(cal, start, periods), working_days)
    return Deadline(date=due, provisional=not cal.all_confirmed(start, due), suspended=is_open)


def clock_status(
    cal: WorkCalendar,
    accepted: date,
    limit_wd: int,
    suspensions: Sequence[Suspension],
    today: date,
) -> ClockStatus:
    """Where an item's clock stands on `today`, counting from acceptance (excluded)."""
    if today < accepted:
        raise ValueError(f"受理日期晚于今天: {accepted} > {today} / acceptance date is after today")
    due = deadline(cal, accepted, limit_wd, suspensions, today)  # also checks the suspensions
    # Cut at today before dropping suspended days: with an open suspension no later day counts.
    elapsed = takewhile(lambda day: day <= today, cal.working_days_after(accepted))
    used = sum(1 for day in elapsed if not _suspended_on(day, suspensions))
    return ClockStatus(
        used=used,
        left=limit_wd - used,
        deadline=due,
        overdue=today > due.date,
        suspended=due.suspended,
        provisional=due.provisional or not cal.all_confirmed(accepted, today),
    )


def _counted_days(cal: WorkCalendar, start: date, periods: Sequence[Suspension]) -> Iterator[date]:
    """Working days after `start` outside every period; never ends past an open period, so
    callers close open periods (or cut the days) first."""
    return (day for day in cal.working_days_after(start) if not _suspended_on(day, periods))


def _suspended_on(day: date, periods: Sequence[Suspension]) -> bool:
    return any(period.covers(day) for period in periods)


def _nth(days: Iterator[date], n: int) -> date:
    if n < 1:
        raise ValueError(f"工作日数须为正整数: {n} / number of working days must be positive")
    return next(islice(days, n - 1, None))


def _checked_suspensions(
    start: date, suspensions: Sequence[Suspension], today: date | None
) -> list[Suspension]:
    """Suspensions sorted by start, refusing what cannot have happened: a suspension before the
    clock started, overlapping periods, a still-open one followed by another, or dates after today.
    """
    periods = sorted(suspensions, key=lambda period: period.start)
    for earlier, later in pairwise(periods):
        if earlier.end is None or earlier.end >= later.start:
            raise ValueError(
                f"中止期间重叠: {earlier.start} 与 {later.start} / suspension periods overlap"
            )
    for period in periods:
        if period.start < start:
            raise ValueError(
                f"中止日期早于受理日期: {period.start} < {start} / suspension before acceptance"
            )
        latest = period.end or period.start
        if today is not None and latest > today:
            raise ValueError(
                f"中止或恢复日期晚于今天: {latest} > {today} / "
                "suspension or resumption dated in the future"
            )
    return periods


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
