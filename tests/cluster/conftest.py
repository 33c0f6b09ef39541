"""The real Redis at 127.0.0.1:6379 for the cluster tests, each test in a namespace of its own.

Tests skip, saying why, where no Redis answers. A namespace is a key prefix (and socket.io channel),
so tests share the server without seeing each other's keys; each test's keys are deleted after it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import RedisError

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
