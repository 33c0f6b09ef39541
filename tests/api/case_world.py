"""Helpers for the case, calendar and reference tests: the world with its calendar, signing in,
request bodies and row counts (to prove a refused request wrote nothing)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import ApprovalItem, CalendarDay, CalendarYear, ClockSuspension, InvestmentCase
from server.services.calendar import seed_calendar
from tests.world import PASSWORD, World, build_world

CASE_TABLES = (InvestmentCase, ApprovalItem, ClockSuspension, CalendarYear, CalendarDay)


async def world_with_calendar(sessions: async_sessionmaker[AsyncSession]) -> World:
    """tests.world plus the library's confirmed calendar years (through 2026), as `lianshen db
    upgrade` stores them; 2027 stays unknown, hence unconfirmed."""
    world = await build_world(sessions)
    async with sessions() as db:
        await seed_calendar(db)
        await db.commit()
    return world


async def sign_in(client: TestClient, username: str) -> dict[str, str]:
    """Sign in over the API; returns the headers a script sends on writes (the CSRF token)."""
    client.session.cookie_jar.clear()
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return {"X-CSRF-Token": (await response.json())["csrf_token"]}


async def row_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as db:
        return {model.__tablename__: await db.scalar(select(func.count()).select_from(model))
                for model in CASE_TABLES}


def new_case(world: World, code: str = "2611-530921-04-01-712345", **changes: Any) -> dict[str, Any]:
    """A valid case body (核桃深加工, 备案制) for organisation X; `changes` override fields."""
    body: dict[str, Any] = {
        "project_code": code,
        "name": "凤庆县核桃深加工项目",
        "organisation_id": world.org_x,
        "division_code": "530921",
        "town": "勐佑镇",
        "address": "勐佑镇工业片区",
        "total_investment": "3200.50",
        "scale_content": "年加工核桃1万吨",
        "category": "filing",
        "industry": "农副食品加工业",
        "investor_type": "enterprise",
        "funding_source": "企业自筹",
        "planned_start": "2027-01-01",
        "planned_finish": "2027-12-31",
    }
    body.update(changes)
    return body


def new_item(department_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "节能审查", "department_id": department_id, "accepted_on": "2026-11-02",
                            "statutory_limit_wd": 20, "promised_limit_wd": 10}
    body.update(changes)
    return body


def error_of(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["error"]
