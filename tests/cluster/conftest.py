"""The real Redis at 127.0.0.1:6379 for the cluster tests, each test in a namespace of its own.

Tests skip, saying why, where no Redis answers. A namespace is a key prefix (and socket.io channel),
so tests share the server without seeing each other's keys; each test's keys are deleted after it.
Also the two-node tests' world (meeting X with the city's development commission invited), the
nodes a test started (killed at its end) and a client of the directory.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.db.models import Invitation
from server.domain.roles import Post, Role
from server.services.people import NewPerson, create_person
from tests.world import PASSWORD, World, build_world

if TYPE_CHECKING:
    from server.bot.signaling import BotClient

    from .nodes import Node  # nodes imports this module

LEASE_S = 3.0
"""The nodes' lease in the two-node tests: a killed node leaves the directory within seconds."""
REDIS_URL = os.environ.get("LIANSHEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class RedisSpace:
    """A client on the test Redis and the namespace this test owns there."""

    url: str
    namespace: str
    client: Redis

    async def keys(self) -> list[str]:
        return sorted([key async for key in self.client.scan_iter(match=f"{self.namespace}:*")])


@pytest_asyncio.fixture
async def redis_space() -> AsyncIterator[RedisSpace]:
    client = Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    space = RedisSpace(REDIS_URL, f"test-{uuid.uuid4().hex[:12]}", client)
    try:
        yield space
    finally:
        stale = await space.keys()
        if stale:
            await client.delete(*stale)
        await client.aclose()


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Return once ``condition()`` holds (the caller bounds the wait with asyncio.timeout)."""
    while not await condition():  # noqa: ASYNC110 - state in Redis or another process has no event here
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    """The test world, with the city's development commission invited to meeting X and its A post."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    world = await build_world(sessions)
    async with sessions() as db:
        db.add(Invitation(meeting_id=world.meeting_x, capacity="observer", department_id=world.dept_city))
        user = await create_person(db, NewPerson("rep_city", "孙市发改", Role.CHIEF_REP, PASSWORD, "LC-FGW", Post.A))
        world.user_ids["rep_city"] = user.id
        await db.commit()
    yield world
    await engine.dispose()


@pytest_asyncio.fixture
async def started() -> AsyncIterator[list[Node]]:
    """The nodes a test started; whatever is still running at its end is killed."""
    nodes: list[Node] = []
    yield nodes
    for node in nodes:
        node.kill()
        await node.process.wait()


@pytest_asyncio.fixture
async def bots(started: list[Node]) -> AsyncIterator[list[BotClient]]:
    """The bots a test made; killed at its end, before its nodes (this fixture needs ``started``)."""
    made: list[BotClient] = []
    yield made
    for client in made:
        await client.kill()


@pytest_asyncio.fixture
async def directory(redis_space: RedisSpace) -> AsyncIterator[Directory]:
    directory = Directory.connect(redis_space.url, redis_space.namespace, LEASE_S)
    yield directory
    await directory.close()
