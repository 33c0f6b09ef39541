"""The working-day calendar over JSON: deadlines for anyone signed in, year tables for admins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from server.domain.roles import Role
from server.domain.workcalendar import deadline
from server.schemas.base import Body, Out
from server.services.calendar import load_calendar
from server.services.calendar_years import NamedDay, YearSummary, get_year, list_years, replace_year
from server.services.case_schemas import FIRST_DAY, LAST_DAY, CentreDate
from server.web.api import API
from server.web.api.registry import Call
from server.web.errors import ApiError

TAG = "calendar"


class DeadlineQuery(Body):
    """start: the acceptance day (not counted); days: working days to count."""

    start: CentreDate
    days: Annotated[int, Field(ge=1, le=1000)]


class DeadlineOut(Out):
    deadline: date
    provisional: bool


class DayIn(Body):
    day: date
    name: Annotated[str, Field(max_length=64)] = ""


class DayOut(Out):
    day: date
    name: str


class YearBody(Body):
    """A whole year as published: holidays falling on weekdays (weekend days of a holiday period
    may be listed too) and make-up working weekends (调休上班)."""

    confirmed: Annotated[bool, Field(strict=True)]
    source: Annotated[str, Field(min_length=1, max_length=128)]
    holidays: Annotated[list[DayIn], Field(max_length=366)]
    workdays: Annotated[list[DayIn], Field(max_length=366)]


class YearOut(Out):
    year: int
    confirmed: bool
    source: str
    updated_at: datetime
    holidays: list[DayOut]
    workdays: list[DayOut]


@API.route("GET", "/calendar/deadline", summary="The deadline N working days after a start day",
           query=DeadlineQuery, response=DeadlineOut, tag=TAG)
async def compute_deadline(call: Call) -> DeadlineOut:
    due = deadline(await load_calendar(call.db), call.query.start, call.query.days)
    return DeadlineOut(deadline=due.date, provisional=due.provisional)


@API.route("GET", "/calendar/years", summary="Stored calendar years with their confirmed flag and source",
           response=list[YearSummary], tag=TAG)
async def calendar_years(call: Call) -> list[YearSummary]:
    return await list_years(call.db)


def _year(call: Call) -> int:
    year = call.path_int("year")
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ApiError(422, f"年份须在 {FIRST_DAY.year}-{LAST_DAY.year} 之间 / year must be within "
                            f"{FIRST_DAY.year}-{LAST_DAY.year}", details=[{"field": "year"}])
    return year


@API.route("GET", "/calendar/years/{year}", summary="One calendar year's holidays and make-up workdays",
           response=YearOut, tag=TAG)
async def calendar_year(call: Call) -> YearOut:
    stored = await get_year(call.db, _year(call))
    if stored is None:
        raise ApiError(404)
    return YearOut.model_validate(stored)


@API.route("PUT", "/calendar/years/{year}",
           summary="Enter or replace a year's holidays and make-up workdays (admin)", roles={Role.ADMIN},
           body=YearBody, response=YearOut, tag=TAG)
async def put_calendar_year(call: Call) -> YearOut:
    body: YearBody = call.body
    try:
        stored = await replace_year(call.db, _year(call), body.confirmed, body.source,
                                    [NamedDay(d.day, d.name) for d in body.holidays],
                                    [NamedDay(d.day, d.name) for d in body.workdays])
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    return YearOut.model_validate(stored)
