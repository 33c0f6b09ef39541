"""Loading the demo again on a later day changes nothing: it stays as of the day first loaded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.db.models import ApprovalItem, InvestmentCase, Meeting, MeetingEvent, MinutesDocument
from server.demo import data
from server.demo.seed import seed_demo
from server.services.calendar import seed_calendar


async def _counts(db) -> list[int]:
    return [await db.scalar(select(func.count()).select_from(model))
            for model in (InvestmentCase, ApprovalItem, Meeting, MeetingEvent, MinutesDocument)]


async def test_a_second_load_weeks_later_keeps_the_first(db_sessions, settings) -> None:
    first_day = data.DATA_AS_OF + timedelta(weeks=2)
    async with db_sessions() as db:
        await seed_calendar(db)
        first = await seed_demo(db, settings, today=first_day)
        await db.commit()
        before = await _counts(db)
    async with db_sessions() as db:
        again = await seed_demo(db, settings, today=first_day + timedelta(weeks=5))
        await db.commit()
        assert await _counts(db) == before
    assert first["as_of"] == again["as_of"] == first_day.isoformat()
    assert first["meetings"] == again["meetings"]
