"""Two `lianshen serve` nodes, one system: a province node and a city node sharing PostgreSQL and Redis.

Proves on real processes: a room broadcast crosses nodes both ways (socket.io's Redis manager);
a participant who reaches a node that does not serve them is pointed to the one that does, and
joins there with the same session; a join link issued on one node works on the other; both nodes
write one meeting's log without breaking its chain; `lianshen node status` shows both; a node
killed with SIGKILL leaves the directory within its lease (and the home records its participants
as gone), and one stopped cleanly at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest

from server.bot.signaling import BotClient, sign_in
from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.services.eventlog import verify_meeting_log
from tests.world import PASSWORD, World

from .conftest import LEASE_S, RedisSpace, until
from .nodes import Node, redirect_of, start_nodes

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(420),
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


async def test_two_nodes_one_system(tmp_path: Path, database_url: str, world: World, redis_space: RedisSpace,
                                    directory: Directory, started: list[Node], bots: list[BotClient]) -> None:
    province, city = await start_nodes(tmp_path, database_url, redis_space, LEASE_S, started,
                                       ("prov", "province"), ("city", "city"))

    async def bot(node: Node, username: str) -> BotClient:
        client = BotClient(node.url, world.meeting_x, cookie=await sign_in(node.url, username, PASSWORD),
                           name=username)
        bots.append(client)
        await client.connect()
        return client

    try:
        async with asyncio.timeout(10):
            await until(lambda: _node_ids(directory, {"prov", "city"}))

        # The chair (no level) reaches the province node first: it serves the meeting's first live
        # join and becomes its home. The city's representative is served by the city node.
        chair = await bot(province, "chair")
        assert (await chair.join())["capacity"] == "chair"
        assert await directory.home_of(world.meeting_x) == "prov"
        rep_city = await bot(city, "rep_city")
        joined = await rep_city.join()
        assert joined["status"] == "joined" and joined["capacity"] == "observer"

        # Room broadcasts cross nodes both ways.
        await chair.wait_event(lambda name, data: name == "participant_joined"
                               and data["participant"]["id"] == rep_city.participant_id)
        await chair.call("chat_send", {"meeting_id": world.meeting_x, "text": "市里能听到吗？"})
        _, chat = await rep_city.wait_event("chat_message")
        assert (chat["text"], chat["participant_id"]) == ("市里能听到吗？", chair.participant_id)

        # Who reaches a node that does not serve them is told where to go, and joins there with
        # the same session: the applicant (no level) goes to the meeting's home, the county's
        # representative too (no county node here), the city's representative to the city node.
        applicant_on_city = await bot(city, "applicant")
        assert redirect_of(await applicant_on_city.call("join", {"meeting_id": world.meeting_x})) == (
            "prov", province.url)
        rep_a_on_city = await bot(city, "rep_a")
        assert redirect_of(await rep_a_on_city.call("join", {"meeting_id": world.meeting_x}))[0] == "prov"
        rep_city_on_province = await bot(province, "rep_city")
        answer = await rep_city_on_province.call("join", {"meeting_id": world.meeting_x})
        assert redirect_of(answer) == ("city", city.url)
        # A browser's session cookie is the province's: the room address carries a one-time
        # ticket that signs the person in on the city node and sends them on to the room.
        assert answer["room_url"].startswith(f"{city.url}/cluster/v1/handoff?ticket=")
        await _handed_off(answer["room_url"], city.url, world.meeting_x)
        applicant = await bot(city, "applicant")  # the bot follows the answer (as the room page does)
        assert (await applicant.join())["capacity"] == "applicant"
        assert applicant.url == province.url
        # A join link issued on one node works on every node, and a redirect does not use it up.
        token = await _join_token(city.url, world.meeting_x,
                                  {"guest_name": "省发改委联络员", "guest_unit": "云南省发改委"})
        guest = BotClient(city.url, world.meeting_x, token=token, name="guest")
        bots.append(guest)
        await guest.connect()
        assert (await guest.join())["capacity"] == "observer" and guest.url == province.url

        # The directory and `lianshen node status` show who is where.
        async with asyncio.timeout(10):
            await until(lambda: _participant_count(directory, "prov", 3))
        assert [p.id for p in await directory.participants("city")] == [rep_city.participant_id]
        status, out, err = await province.command("node", "status", "--json")
        assert status == 0, err
        shown = {node["id"]: node for node in json.loads(out)["nodes"]}
        assert shown["prov"]["homes"] == [world.meeting_x] and shown["city"]["homes"] == []
        assert shown["city"]["level"] == "city" and shown["city"]["signaling_url"] == city.url
        assert {p["display_name"] for p in shown["prov"]["participants"]} == {"李主任", "张峰", "省发改委联络员"}
        assert shown["city"]["media_addresses"] == ["127.0.0.1"]

        # kill -9 the city node: its entries expire within the lease; the province node lives on.
        city.kill()
        killed_at = time.monotonic()
        async with asyncio.timeout(LEASE_S + 2):
            await until(lambda: _node_ids(directory, {"prov"}))
            await until(lambda: _participant_count(directory, "city", 0))
        assert time.monotonic() - killed_at <= LEASE_S + 1.0  # the lease, and this test's own polling
        assert await directory.home_of(world.meeting_x) == "prov"
        # The home records the city's participant as gone (no goodbye came), and everyone is told.
        _, left = await chair.wait_event(lambda name, data: name == "participant_left"
                                         and data["participant_id"] == rep_city.participant_id, LEASE_S * 2 + 5)
        assert left["reason"] == "node_lost"

        # Both nodes wrote meeting X's log in the one database; its chain is intact.
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as db:
                assert await verify_meeting_log(db, world.meeting_x) == []
        finally:
            await engine.dispose()
    finally:
        for client in bots:
            await client.kill()
        city.kill()
        await city.process.wait()
        # A clean stop leaves the directory at once, without waiting for the lease.
        assert await province.stop() == 0
    assert await directory.nodes() == [] and await directory.home_of(world.meeting_x) is None


async def _join_token(url: str, meeting_id: int, body: dict[str, str]) -> str:
    """A join link from the real endpoint of the node at ``url``, as the meeting's chair."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = await http.post(f"{url}/api/v1/auth/login", json={"username": "chair", "password": PASSWORD})
        csrf = (await login.json())["csrf_token"]
        response = await http.post(f"{url}/api/v1/meetings/{meeting_id}/join-tokens", json=body,
                                   headers={"X-CSRF-Token": csrf})
        assert response.status == 201, await response.text()
        return str((await response.json())["token"])


async def _node_ids(directory: Directory, expected: set[str]) -> bool:
    return {node.id for node in await directory.nodes()} == expected


async def _participant_count(directory: Directory, node_id: str, count: int) -> bool:
    return len(await directory.participants(node_id)) == count


async def _handed_off(room_url: str, node_url: str, meeting: int) -> None:
    """A browser without the target's cookie follows ``room_url``: signed in there, in the room;
    the same address a second time (from a history, a log) is refused."""
    # unsafe: keep cookies of a numeric host (127.0.0.1), as a browser does
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(room_url, allow_redirects=False) as handed:
            assert handed.status == 302, await handed.text()
            assert handed.headers["Location"] == f"/meetings/{meeting}/room"
        async with browser.get(f"{node_url}/meetings/{meeting}/room", allow_redirects=False) as room:
            assert room.status == 200, await room.text()
    async with aiohttp.ClientSession() as replay:
        async with replay.get(room_url, headers={"Accept": "application/json"}) as again:
            assert again.status == 403
            assert (await again.json())["error"]["code"] == "handoff_refused"
