"""Password checks at the production argon2 cost run off the event loop, in a bounded pool.

These tests use the real cost (not the suite's cheap one): the point is what a few hundred
milliseconds of argon2 per sign-in does to everything else the process serves.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from server.auth.passwords import configure_hashing
from server.db.models import LoginLock
from server.settings import Settings
from tests.api.test_login_throttle import LOGIN, serving, with_settings
from tests.world import build_world

PRODUCTION_COST = {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "argon2_parallelism": 4}


@pytest.fixture(autouse=True)
def cheap_hashing_afterwards(settings: Settings) -> Iterator[None]:
    """Put the suite's cheap cost back for whatever runs next in this process."""
    yield
    auth = settings.auth
    configure_hashing(auth.argon2_time_cost, auth.argon2_memory_kib, auth.argon2_parallelism,
                      workers=auth.hash_workers, queue=auth.hash_queue)


async def wrong_sign_in(client: TestClient, username: str) -> int:
    response = await client.post(LOGIN, json={"username": username, "password": "wrong-password"})
    if response.status == 503:
        error = (await response.json())["error"]
        assert error["code"] == "busy" and " / " in error["message"], error
    return response.status


async def test_health_answers_while_a_sign_in_storm_is_checked(database_url: str, tmp_path: Path) -> None:
    """/healthz keeps answering while 12 sign-ins are being checked: many answers before even the
    first sign-in is done. (On the event loop, each check held every other request back for its
    whole duration, so only a few polls slipped in between checks.)"""
    settings = with_settings(database_url, tmp_path, auth=PRODUCTION_COST)
    async with serving(settings) as client:
        assert await wrong_sign_in(client, "warm-up") == 401  # database connections open, memory touched
        finished: list[int] = []

        async def sign_in(i: int) -> int:
            status = await wrong_sign_in(client, f"storm{i}")  # unknown: the dummy hash, full cost
            finished.append(i)
            return status

        storm = [asyncio.create_task(sign_in(i)) for i in range(12)]
        answered_before_first = 0
        while not all(task.done() for task in storm):
            response = await client.get("/healthz")
            assert response.status == 200
            answered_before_first += not finished
        statuses = await asyncio.gather(*storm)
    assert Counter(statuses) == {401: 12}
    # Measured on 2 shared cores: 110-530 here; 4-9 when each check ran on the event loop (33 when
    # the first requests still had to open their database connections: hence the warm-up).
    assert answered_before_first >= 40, answered_before_first


async def test_a_full_pool_refuses_at_once_and_counts_nothing(database_url: str, tmp_path: Path,
                                                              db_sessions) -> None:
    """With one worker and no waiting line, concurrent sign-ins beyond the one being checked are
    refused with 503 "busy" at once, and a refused attempt does not use up the account's failures."""
    settings = with_settings(database_url, tmp_path, auth={**PRODUCTION_COST, "hash_workers": 1, "hash_queue": 0})
    await build_world(db_sessions)
    async with serving(settings) as client:
        statuses = Counter(await asyncio.gather(*(wrong_sign_in(client, "chair") for _ in range(6))))
    assert set(statuses) == {401, 503} and statuses[503] >= 1, statuses
    async with db_sessions() as db:
        assert (await db.get(LoginLock, "chair")).failures == statuses[401]
