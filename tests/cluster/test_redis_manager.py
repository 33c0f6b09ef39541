"""socket.io's Redis manager subscribes again within a retry pause of Redis coming back.

python-socketio's own listener doubles its pause on every failed attempt (1, 2, 4, 8 ... s): after
an outage of 8 s its next attempt comes 15 s after the loss, and what other nodes broadcast until
then is lost. Ours tries every RETRY_S and says when Redis confirmed the subscription.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.signaling.redis_manager import RETRY_S, RedisManager

from .conftest import until
from .nodes import free_port
from .test_redis_restart import REDIS_SERVER, OwnRedis

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]

OUTAGE_S = 8.0
"""Long enough for python-socketio's back-off to have grown to 8 s (its attempts at 1, 3, 7, 15 s)."""


async def test_the_subscription_is_back_within_a_retry_pause(tmp_path: Path) -> None:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed: this test restarts a Redis of its own")
    redis_server = OwnRedis(free_port(), tmp_path)
    await redis_server.start()
    manager = RedisManager(redis_server.url, "test-socketio")
    heard: asyncio.Queue[bytes] = asyncio.Queue()

    async def listen() -> None:
        async for data in manager._listen():  # the channel's reader the manager's own task uses
            heard.put_nowait(data)

    listener = asyncio.create_task(listen())
    publisher = Redis.from_url(redis_server.url, socket_connect_timeout=1)
    try:
        async with asyncio.timeout(10):
            await until(lambda: _is(manager, subscribed=True))
        redis_server.kill()
        async with asyncio.timeout(10):
            await until(lambda: _is(manager, subscribed=False))
        await asyncio.sleep(OUTAGE_S)  # the outage: a duration of the scenario, not a synchronisation
        await redis_server.start()
        back_at = time.monotonic()
        async with asyncio.timeout(15):
            await until(lambda: _is(manager, subscribed=True))
        took = time.monotonic() - back_at
        assert took <= RETRY_S + 2.0, took  # a retry pause, with room for a loaded machine
        await publisher.publish("test-socketio", b"after the restart")
        assert await asyncio.wait_for(heard.get(), 10) == b"after the restart"
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await publisher.aclose()
        if manager.redis is not None:
            await manager.redis.aclose()
        redis_server.kill()


async def _is(manager: RedisManager, *, subscribed: bool) -> bool:
    return manager.subscribed is subscribed
