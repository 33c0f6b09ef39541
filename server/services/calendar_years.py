"""Reading and replacing stored calendar years (the administrator's 调休 table).

A year is replaced whole, never patched day by day: the State Council notice is one document, and
entering it as a unit keeps a half-entered year from ever being marked confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CalendarDay, CalendarYear as CalendarYearRow
from server.domain.workcalendar import CalendarYear

HOLIDAY, WORKDAY = "holiday", "workday"


@dataclass(frozen=True)
class NamedDay:
    day: date
    name: str = ""


@dataclass(frozen=True)
class StoredYear:
    year: int
    confirmed: bool
    source: str
    updated_at: datetime
    holidays: list[NamedDay]
    workdays: list[NamedDay]


@dataclass(frozen=True)
class YearSummary:
    year: int
    confirmed: bool
    source: str
    updated_at: datetime
    holiday_count: int
    workday_count: int


async def list_years(db: AsyncSession) -> list[YearSummary]:
    counts: dict[tuple[int, str], int] = {
        (year, kind): n
        for year, kind, n in await db.execute(
            select(CalendarDay.year, CalendarDay.kind, func.count()).group_by(CalendarDay.year, CalendarDay.kind)
        )
    }
    rows = await db.scalars(select(CalendarYearRow).order_by(CalendarYearRow.year))
    return [YearSummary(row.year, row.confirmed, row.source, row.updated_at,
                        counts.get((row.year, HOLIDAY), 0), counts.get((row.year, WORKDAY), 0))
            for row in rows]


async def get_year(db: AsyncSession, year: int) -> StoredYear | None:
    row = await db.get(CalendarYearRow, year)
    if row is None:
        return None
    days = list(await db.scalars(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day)))
    return StoredYear(row.year, row.confirmed, row.source, row.updated_at,
                      [NamedDay(d.day, d.name) for d in days if d.kind == HOLIDAY],
                      [NamedDay(d.day, d.name) for d in days if d.kind == WORKDAY])


async def replace_year(db: AsyncSession, year: int, confirmed: bool, source: str,
                       holidays: list[NamedDay], workdays: list[NamedDay]) -> StoredYear:
    """Store `year` as given, replacing any earlier table; raises ValueError (with a bilingual
    message) for a table that cannot be right, before anything is written."""
    for label, days in (("holidays", holidays), ("workdays", workdays)):
        seen = [d.day for d in days]
        if len(seen) != len(set(seen)):
            duplicate = next(d for d in seen if seen.count(d) > 1)
            raise ValueError(f"日期重复: {duplicate} / {label} lists {duplicate} twice")
    CalendarYear(year=year, holidays=frozenset(d.day for d in holidays),
                 workdays=frozenset(d.day for d in workdays), confirmed=confirmed, source=source)
    now = datetime.now(UTC)
    row = await db.get(CalendarYearRow, year)
    if row is None:
        db.add(CalendarYearRow(year=year, confirmed=confirmed, source=source, updated_at=now))
    else:
        row.confirmed, row.source, row.updated_at = confirmed, source, now
    await db.execute(delete(CalendarDay).where(CalendarDay.year == year))
    await db.flush()
    db.add_all(CalendarDay(day=d.day, year=year, kind=HOLIDAY, name=d.name) for d in holidays)
    db.add_all(CalendarDay(day=d.day, year=year, kind=WORKDAY, name=d.name) for d in workdays)
    await db.flush()
    stored = await get_year(db, year)
    assert stored is not None
    return stored
