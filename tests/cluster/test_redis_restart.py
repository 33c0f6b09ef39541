"""Redis restarting mid-meeting (empty, as after a crash without persistence) ends no meeting.

Two `lianshen serve` nodes on a Redis of this test's own (a `redis-server` it starts, kills and
starts again on the same port; the shared test Redis is left alone). While Redis is away the
meeting goes on on each node and its acts are logged; once it is back, the heartbeats fill the
directory again (the home stays with its node), each node says its socket.io subscription is up
again, the feed's subscription is made again and the other node's live state catches up on what it
missed, and room broadcasts cross nodes again.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.bot.signaling import BotClient, sign_in
from server.cluster.directory import Directory
from tests.world import PASSWORD, World

from .conftest import LEASE_S, RedisSpace, until
from .nodes import Node, free_port, start_nodes
from .test_live_state import FEED_TIMEOUT_S, _chat_stored, draft_with, stored_count

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(420),
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

REDIS_SERVER = shutil.which("redis-server")


class OwnRedis:
    """A redis-server on 127.0.0.1:<port>, without persistence: a restart comes back empty."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on below by PING
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self._workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            async with asyncio.timeout(10):
                await until(lambda: _answers(client))
        finally:
            await client.aclose()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


async def _answers(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed: this test restarts a Redis of its own")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = OwnRedis(free_port(), workdir)
    yield server
    server.kill()


@pytest_asyncio.fixture
async def own_space(own_redis_server: OwnRedis) -> AsyncIterator[RedisSpace]:
    await own_redis_server.start()
    client = Redis.from_url(own_redis_server.url, decode_responses=True, socket_connect_timeout=2)
    yield RedisSpace(own_redis_server.url, f"test-{uuid.uuid4().hex[:12]}", client)
    await client.aclose()


async def test_a_redis_restart_mid_meeting_ends_nothing(tmp_path: Path, database_url: str, world: World,
                                                        own_redis_server: OwnRedis, own_space: RedisSpace,
                                                        started: list[Node], bots: list[BotClient]) -> None:
    province, city = await start_nodes(tmp_path, database_url, own_space, LEASE_S, started,
                                       ("prov", "province"), ("city", "city"))
    directory = Directory.connect(own_space.url, own_space.namespace, LEASE_S)
    meeting, item = world.meeting_x, world.item_x

    async def bot(node: Node, username: str) -> BotClient:
        client = BotClient(node.url, meeting, cookie=await sign_in(node.url, username, PASSWORD), name=username)
        bots.append(client)
        await client.connect()
        assert (await client.join())["status"] == "joined"
        return client

    async def act(client: BotClient, event: str, **payload: Any) -> dict[str, Any]:
        return await client.call(event, {"meeting_id": meeting, **payload})

    try:
        chair = await bot(province, "chair")
        rep_city = await bot(city, "rep_city")
        await act(chair, "meeting_start")

        # Redis goes away: the meeting goes on on each node, and what is done is logged.
        own_redis_server.kill()
        await act(chair, "agenda_open", item_id=item)
        await act(rep_city, "chat_send", text="Redis 不在时说的话")
        async with asyncio.timeout(FEED_TIMEOUT_S):
            await until(lambda: _chat_stored(database_url, meeting, "Redis 不在时说的话"))
        # The outage outlasts the lease and several heartbeats, and the Redis clients' own retries:
        # a duration of the scenario, not a synchronisation.
        await asyncio.sleep(LEASE_S + 2)
        assert province.process.returncode is None and city.process.returncode is None

        # Redis is back, empty: the directory fills again, the home stays with the province node, and
        # each node says its socket.io subscription is up again (broadcasts published before that are
        # lost: Redis keeps no message for a channel nobody listens on).
        await own_redis_server.start()
        restarted_at = time.monotonic()
        async with asyncio.timeout(LEASE_S * 2 + 10):
            await until(lambda: _directory_filled(directory, meeting))
        # Promptly: within a retry pause (1 s) and a heartbeat (a third of the lease) of Redis
        # answering, with room for a loaded machine; not after python-socketio's own back-off, which
        # has grown to 8 s by then (deaf until about 9 s after the restart).
        back_after = time.monotonic() - restarted_at
        assert back_after <= LEASE_S + 2, back_after

        # Each node's live state caught up on what the other did meanwhile: every event once.
        stored = await stored_count(database_url, meeting)
        async with asyncio.timeout(FEED_TIMEOUT_S):
            city_draft = await draft_with(rep_city, stored)
            province_draft = await draft_with(chair, stored)
        assert city_draft["minutes"] == province_draft["minutes"]

        # Room broadcasts and the feed cross nodes again.
        await act(rep_city, "chat_send", text="Redis 回来了")
        _, chat = await chair.wait_event(lambda name, data: name == "chat_message" and data["text"] == "Redis 回来了",
                                         FEED_TIMEOUT_S)
        assert chat["participant_id"] == rep_city.participant_id
        await act(chair, "agenda_close", item_id=item, outcome="同意")
        async with asyncio.timeout(FEED_TIMEOUT_S):
            state = await rep_city.wait_event(lambda name, data: name == "review_state"
                                              and data["open_item_id"] is None, FEED_TIMEOUT_S)
            assert state[1]["items"][0]["status"] != "open"
            await until(lambda: _chat_stored(database_url, meeting, "Redis 回来了"))
            stored = await stored_count(database_url, meeting)
            await draft_with(rep_city, stored)
        # Both nodes said what was away and went on: no error of ours, no task that died of it.
        for node in (province, city):
            log = (tmp_path / node.id / "logs" / "lianshen.log").read_text(errors="replace")
            assert "heartbeat failed" in log
            assert "the feed's subscription dropped" in log or "not announced" in log
            problems = [line for line in log.splitlines()
                        if " ERROR server." in line or "Task exception was never retrieved" in line]
            assert problems == [], problems
    finally:
        for client in bots:
            await client.kill()
        for node in (province, city):
            node.kill()
            await node.process.wait()
        await directory.close()


async def _directory_filled(directory: Directory, meeting_id: int) -> bool:
    try:
        nodes = await directory.nodes()
        return {node.id for node in nodes if node.listening} == {"prov", "city"} \
            and await directory.home_of(meeting_id) == "prov" and len(await directory.participants("city")) == 1
    except (RedisError, OSError):
        return False
