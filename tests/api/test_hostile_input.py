"""Hostile input that used to be a 500 (or worse, was read as something else): each case stays a
clear 4xx. The property-based suite (test_hostile_rest.py) keeps the whole API closed; these are
the examples it or a reviewer found, kept as explicit regressions."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db.models import InvestmentCase, Meeting
from server.settings import Settings
from tests.api.minutes_support import ended_with_draft
from tests.test_app_core import login
from tests.world import World, build_world

# Not ASCII digits, yet str.isdigit() is true for each (int() reads all but the superscript as a
# number), or past the database's INTEGER.
NOT_IDS = ["¹", "١", "𝟙", "١٢", "٣", "2147483648", "99999999999999999999", "+1", "1_0"]


def bilingual(body: dict) -> bool:  # type: ignore[type-arg]
    """Our refusals say it in Chinese and English ("中文 / English")."""
    return " / " in body["error"]["message"]


@pytest.mark.parametrize("body", ["[" * 50_000 + "]" * 50_000, '{"a":' * 50_000 + "1" + "}" * 50_000,
                                  '{"name": ' + "9" * 5_000 + "}"],
                         ids=["nested-arrays", "nested-objects", "integer-of-5000-digits"])
async def test_json_the_decoder_refuses_is_a_400(client: TestClient, db_sessions, body: str) -> None:
    """RecursionError and int()'s digit limit are not JSONDecodeError: both were 500s."""
    await build_world(db_sessions)
    for path in ("/api/v1/auth/login", "/api/v1/cases"):
        headers = {"X-CSRF-Token": await login(client, "chair")} if path == "/api/v1/cases" else {}
        response = await client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status == 400, await response.text()
        error = await response.json()
        assert error["error"]["code"] == "bad_request" and bilingual(error), error


async def test_api_path_ids_are_ascii_digits_within_integer_range(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await login(client, "chair")
    templates = ["/api/v1/cases/{}", "/api/v1/cases/{}/materials", "/api/v1/meetings/{}",
                 "/api/v1/meetings/{}/minutes", "/api/v1/people/{}", "/api/v1/calendar/years/{}",
                 "/api/v1/archive/cases/{}/dossier", "/api/v1/meetings/{}/recordings"]
    assert (await client.get(f"/api/v1/cases/{world.case_x}")).status == 200  # ASCII is still an id
    wrong = []
    for template in templates:
        for raw in NOT_IDS:
            response = await client.get(template.format(raw))
            if response.status != 404 or (await response.json())["error"]["code"] != "not_found":
                wrong.append(f"{template.format(raw)}: {response.status}")
    assert not wrong, wrong


async def test_page_path_ids_are_ascii_digits_within_integer_range(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await login(client, "chair")
    templates = ["/cases/{}", "/archive/cases/{}", "/meetings/{}", "/meetings/{}/minutes", "/meetings/{}/room",
                 "/meetings/{}/check", "/meetings/{}/recordings"]
    assert (await client.get(f"/cases/{world.case_x}")).status == 200
    wrong = []
    for template in templates:
        for raw in NOT_IDS:
            response = await client.get(template.format(raw))
            if response.status != 404:
                wrong.append(f"{template.format(raw)}: {response.status}")
    assert not wrong, wrong


async def counts(db_sessions) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with db_sessions() as db:
        return (await db.scalar(select(func.count()).select_from(InvestmentCase)) or 0,
                await db.scalar(select(func.count()).select_from(Meeting)) or 0)


@pytest.mark.parametrize("raw", ["¹", "١"])
async def test_form_ids_are_ascii_digits(client: TestClient, db_sessions, settings: Settings, raw: str) -> None:
    """A form field holding an id: a Unicode digit is no id (it used to be a 500, or id 1)."""
    world: World = await build_world(db_sessions)
    await ended_with_draft(db_sessions, world, world.meeting_x, settings)
    before = await counts(db_sessions)
    csrf = await login(client, "chair")
    case_form = {"csrf_token": csrf, "project_code": "2605-530921-04-01-734567", "name": "茶园道路硬化项目",
                 "organisation_id": raw, "division_code": "530921",
                 "town": "凤山镇", "address": "安石村", "total_investment": "120", "category": "filing",
                 "investor_type": "enterprise"}
    response = await client.post("/cases/new", data=case_form, allow_redirects=False)
    assert response.status < 500 and response.status not in (302, 303), response.status
    meeting_form = {"csrf_token": csrf, "title": "联审会", "date": "2026-06-01", "start_time": "09:00",
                    "end_time": "11:00", "lead_department_id": raw, "place": "三楼会议室"}
    response = await client.post("/meetings/new", data=meeting_form, allow_redirects=False)
    assert 400 <= response.status < 500, response.status
    assert await counts(db_sessions) == before  # nothing was created from a misread id

    assert (await client.get(f"/meetings/{world.meeting_x}/minutes?version={raw}")).status == 404
    client.session.cookie_jar.clear()
    csrf = await login(client, "rep_a")
    response = await client.post(f"/meetings/{world.meeting_x}/minutes/answers",
                                 data={"csrf_token": csrf, "verdict": "confirm", "version": raw})
    assert response.status == 422


@pytest.mark.parametrize("token", ["令牌", "é" * 40, "\x00"])
async def test_a_csrf_token_of_any_text_is_a_403(client: TestClient, db_sessions, token: str) -> None:
    await build_world(db_sessions)
    await login(client, "admin")
    form = await client.post("/api/v1/auth/logout", data={"csrf_token": token})
    assert form.status == 403 and (await form.json())["error"]["code"] == "csrf"
    assert (await client.get("/api/v1/me")).status == 200  # still signed in


async def test_a_form_that_is_not_utf8_is_a_400(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    anonymous = await client.post("/login", data=b"username=\x80&password=\xff", headers=form)
    assert anonymous.status == 400
    csrf = await login(client, "admin")
    for headers in ({}, {"X-CSRF-Token": csrf}):
        response = await client.post("/people", data=b"csrf_token=" + csrf.encode() + b"&username=\x9a",
                                     headers={**form, **headers})
        assert response.status == 400, await response.text()
    assert (await client.get("/api/v1/me")).status == 200
