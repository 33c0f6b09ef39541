"""The working-day calendar over the API: the brief's check vectors, provisional deadlines, and the
administrator's year table."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp.test_utils import TestClient

from server.domain.workcalendar import CalendarYear, WorkCalendar, library_years, seed_years_from_library
from tests.api.case_world import error_of, row_counts, sign_in, world_with_calendar

# The first year the installed chinesecalendar does not cover (2027 when this was written): its
# holidays are unknown, so deadlines reaching into it are provisional until an admin enters it.
OPEN_YEAR = library_years().stop

# Brief §3: start day excluded; the last one ends on a Saturday that is a make-up working day.
CHECK_VECTORS = [("2026-02-13", 20, "2026-03-19"), ("2026-04-30", 20, "2026-06-01"),
                 ("2026-09-21", 20, "2026-10-26"), ("2026-01-01", 37, "2026-02-28")]


def _weekdays(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(days=n) for n in range(28) if (first + timedelta(days=n)).weekday() < 5]


def _first_saturday(year: int) -> date:
    day = date(year, 1, 1)
    return day + timedelta(days=(5 - day.weekday()) % 7)


def _open_year_table() -> dict:
    """A plausible table for OPEN_YEAR: New Year holidays on the first three weekdays of January,
    the first Saturday worked instead."""
    return {"confirmed": True, "source": f"国务院办公厅关于{OPEN_YEAR}年部分节假日安排的通知",
            "holidays": [{"day": d.isoformat(), "name": "元旦"} for d in _weekdays(OPEN_YEAR, 1)[:3]],
            "workdays": [{"day": _first_saturday(OPEN_YEAR).isoformat(), "name": "元旦调休"}]}


async def _deadline(client: TestClient, start: str, days: int | str) -> tuple[int, dict]:
    response = await client.get(f"/api/v1/calendar/deadline?start={start}&days={days}")
    return response.status, await response.json()


async def test_check_vectors_through_http(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    await sign_in(client, "applicant")
    for start, days, expected in CHECK_VECTORS:
        assert await _deadline(client, start, days) == (200, {"deadline": expected, "provisional": False})


async def test_deadline_into_an_unconfirmed_year_is_provisional(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    await sign_in(client, "rep_a")
    status, body = await _deadline(client, f"{OPEN_YEAR - 1}-12-01", 40)
    assert status == 200 and body["provisional"] is True
    assert date.fromisoformat(body["deadline"]).year == OPEN_YEAR
    status, body = await _deadline(client, f"{OPEN_YEAR - 1}-12-01", 5)
    assert (status, body["provisional"]) == (200, False)  # stays inside the confirmed year


BAD_QUERIES = [
    ("start=2026-13-01&days=20", "start"), ("start=2026-2-13&days=20", "start"), ("start=&days=20", "start"),
    ("start=1999-12-31&days=20", "start"), ("start=9999-12-31&days=20", "start"),
    ("start=2026-02-13&days=0", "days"), ("start=2026-02-13&days=-3", "days"),
    ("start=2026-02-13&days=abc", "days"), ("start=2026-02-13&days=1001", "days"),
    ("start=2026-02-13&days=2.5", "days"), ("days=20", "start"), ("start=2026-02-13", "days"),
]


async def test_bad_deadline_queries_are_422_naming_the_field(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    await sign_in(client, "chair")
    for query, field in BAD_QUERIES:
        response = await client.get(f"/api/v1/calendar/deadline?{query}")
        error = error_of(await response.json())
        assert response.status == 422, query
        assert field in {d["field"] for d in error["details"]} and field in error["message"], query
    unknown = await client.get("/api/v1/calendar/deadline?start=2026-02-13&days=20&region=cn")
    assert unknown.status == 422 and "region" in error_of(await unknown.json())["message"]


async def test_years_list_and_detail(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    await sign_in(client, "archivist")
    years = await (await client.get("/api/v1/calendar/years")).json()
    by_year = {entry["year"]: entry for entry in years}
    assert sorted(by_year) == list(library_years()) and OPEN_YEAR not in by_year
    assert by_year[2026]["confirmed"] is True and by_year[2026]["source"].startswith("chinesecalendar")
    assert (by_year[2026]["holiday_count"], by_year[2026]["workday_count"]) > (0, 0)
    detail = await (await client.get("/api/v1/calendar/years/2026")).json()
    assert {"day": "2026-02-28", "name": ""} in detail["workdays"]
    assert len(detail["holidays"]) == by_year[2026]["holiday_count"]
    assert (await client.get(f"/api/v1/calendar/years/{OPEN_YEAR}")).status == 404
    assert (await client.get("/api/v1/calendar/years/1800")).status == 422
    assert (await client.get("/api/v1/calendar/years/twenty")).status == 404


async def test_admin_enters_a_year_and_deadlines_follow(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    headers = await sign_in(client, "admin")
    start = f"{OPEN_YEAR - 1}-12-31"
    table = _open_year_table()
    response = await client.put(f"/api/v1/calendar/years/{OPEN_YEAR}", json=table, headers=headers)
    assert response.status == 200, await response.text()
    stored = await response.json()
    assert stored["confirmed"] is True and stored["holidays"] == table["holidays"]
    assert stored["workdays"] == table["workdays"]

    entered = CalendarYear(OPEN_YEAR, frozenset(date.fromisoformat(d["day"]) for d in table["holidays"]),
                           frozenset({_first_saturday(OPEN_YEAR)}), True, "test")
    oracle = WorkCalendar([*seed_years_from_library(library_years()), entered])
    for days in (1, 3, 20):
        expected = oracle.add_working_days(date.fromisoformat(start), days).isoformat()
        assert await _deadline(client, start, days) == (200, {"deadline": expected, "provisional": False})

    replaced = await client.put(f"/api/v1/calendar/years/{OPEN_YEAR}", headers=headers,
                                json={**table, "confirmed": False, "holidays": [], "workdays": []})
    assert replaced.status == 200
    listed = {y["year"]: y for y in await (await client.get("/api/v1/calendar/years")).json()}
    assert listed[OPEN_YEAR] | {"updated_at": None} == {
        "year": OPEN_YEAR, "confirmed": False, "source": table["source"], "updated_at": None,
        "holiday_count": 0, "workday_count": 0}
    assert (await _deadline(client, start, 1))[1]["provisional"] is True


async def test_invalid_year_tables_are_422_and_write_nothing(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    headers = await sign_in(client, "admin")
    table = _open_year_table()
    weekday = _weekdays(OPEN_YEAR, 3)[0].isoformat()
    saturday = _first_saturday(OPEN_YEAR).isoformat()
    before = await row_counts(db_sessions)
    for label, body, path_year in [
        ("make-up day on a weekday", {**table, "workdays": [{"day": weekday}]}, OPEN_YEAR),
        ("date of another year", {**table, "holidays": [{"day": "2026-05-01"}]}, OPEN_YEAR),
        ("holiday and workday at once", {**table, "holidays": [{"day": saturday}]}, OPEN_YEAR),
        ("duplicate day", {**table, "holidays": table["holidays"] * 2}, OPEN_YEAR),
        ("year out of range", table, 2100),
        ("missing confirmed", {k: v for k, v in table.items() if k != "confirmed"}, OPEN_YEAR),
        ("confirmed not a bool", {**table, "confirmed": "yes"}, OPEN_YEAR),
        ("empty source", {**table, "source": ""}, OPEN_YEAR),
        ("bad date", {**table, "holidays": [{"day": f"{OPEN_YEAR}-02-30"}]}, OPEN_YEAR),
        ("unknown field", {**table, "note": "x"}, OPEN_YEAR),
    ]:
        response = await client.put(f"/api/v1/calendar/years/{path_year}", json=body, headers=headers)
        assert response.status == 422, label
        assert error_of(await response.json())["message"], label
    assert await row_counts(db_sessions) == before
