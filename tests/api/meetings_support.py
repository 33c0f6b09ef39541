"""Helpers shared by the meeting, event-log and people tests (not a test module itself)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Base
from tests.world import PASSWORD


async def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign in (replacing any current session); returns the headers scripts send on writes."""
    client.session.cookie_jar.clear()
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    return {"X-CSRF-Token": (await response.json())["csrf_token"]}


async def error_of(response: Any) -> dict[str, Any]:
    """The {"status", "code", "message", "details"} of an API refusal."""
    return (await response.json())["error"]


async def count_rows(sessions: async_sessionmaker[AsyncSession], *models: type[Base]) -> dict[str, int]:
    """Row counts per table, to show a refused request wrote nothing."""
    async with sessions() as db:
        return {m.__tablename__: await db.scalar(select(func.count()).select_from(m)) for m in models}


async def drop_append_only_triggers(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Remove the triggers protecting meeting_events in THIS test's database only.

    Tamper tests use this to simulate someone with direct database access (an administrator of
    the database server, a restored or edited backup file): exactly the person the hash chain
    must still expose.
    """
    async with sessions() as db:
        if db.get_bind().dialect.name == "sqlite":
            await db.execute(text("DROP TRIGGER meeting_events_no_update"))
            await db.execute(text("DROP TRIGGER meeting_events_no_delete"))
        else:
            await db.execute(text("DROP TRIGGER meeting_events_append_only ON meeting_events"))
        await db.commit()
