"""The working-day calendar as stored: per-year tables seeded from the library, editable later.

The State Council publishes next year's 调休 schedule each autumn; until an administrator enters
it, the year stays unconfirmed and every deadline crossing it is marked provisional.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CalendarDay, CalendarYear as CalendarYearRow
from server.domain.workcalendar import CalendarYear, WorkCalendar, library_years, seed_years_from_library


async def seed_calendar(db: AsyncSession) -> list[int]:
    """Store every library year not yet in the table; returns the years added (idempotent)."""
    present = set(await db.scalars(select(CalendarYearRow.year)))
    missing = [year for year in library_years() if year not in present]
    now = datetime.now(UTC)
    for year in seed_years_from_library(missing):
        db.add(CalendarYearRow(year=year.year, confirmed=year.confirmed, source=year.source, updated_at=now))
        await db.flush()
        db.add_all(CalendarDay(day=d, year=year.year, kind="holiday") for d in sorted(year.holidays))
        db.add_all(CalendarDay(day=d, year=year.year, kind="workday") for d in sorted(year.workdays))
    await db.flush()
    return missing


async def load_calendar(db: AsyncSession) -> WorkCalendar:
    """The calendar built from the stored tables."""
    years = {row.year: row for row in await db.scalars(select(CalendarYearRow))}
    holidays: dict[int, set] = {year: set() for year in years}
    workdays: dict[int, set] = {year: set() for year in years}
    for day in await db.scalars(select(CalendarDay)):
        (holidays if day.kind == "holiday" else workdays)[day.year].add(day.day)
    return WorkCalendar(
        CalendarYear(year=y, holidays=frozenset(holidays[y]), workdays=frozenset(workdays[y]),
                     confirmed=row.confirmed, source=row.source)
        for y, row in years.items()
    )
