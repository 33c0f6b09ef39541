"""The directory's leases against the real Redis: entries appear with a heartbeat, expire without
one, homes are claimed once and kept only by their holder, and a Redis emptied is filled again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio

from server.cluster.directory import Directory, NodeRecord, ParticipantRecord

from .conftest import RedisSpace, until

LEASE_S = 1.0
COUNTY = NodeRecord("county-1", "county", "https://county.example:8443", ("10.3.0.5",), started_at=1.0)
CITY = NodeRecord("city-1", "city", "https://city.example:8443")
CHAIR = ParticipantRecord("p-chair", 7, "李主任", "")
REP = ParticipantRecord("p-rep", 7, "王发改", "县发改局")


@pytest_asyncio.fixture
async def directory(redis_space: RedisSpace) -> AsyncIterator[Directory]:
    directory = Directory.connect(redis_space.url, redis_space.namespace, LEASE_S)
    yield directory
    await directory.close()


async def test_a_heartbeat_announces_the_node_its_participants_and_homes(directory: Directory) -> None:
    assert await directory.claim_home(7, COUNTY.id) == COUNTY.id
    assert await directory.announce(COUNTY, [CHAIR, REP], {7}) == set()
    await directory.announce(CITY, [], set())

    nodes = {node.id: node for node in await directory.nodes()}
    assert set(nodes) == {"city-1", "county-1"}
    county = nodes["county-1"]
    assert (county.level, county.signaling_url, county.media_addresses) == (
        "county", "https://county.example:8443", ("10.3.0.5",))
    assert county.participants == 2 and county.heartbeat_at > 0 and county.started_at == 1.0
    assert await directory.participants(COUNTY.id) == [CHAIR, REP]
    assert await directory.homes(COUNTY.id) == [7]
    assert await directory.homes(CITY.id) == [] and await directory.participants(CITY.id) == []

    await directory.announce(COUNTY, [CHAIR], {7})  # the representative left: the list is replaced
    assert await directory.participants(COUNTY.id) == [CHAIR]


async def test_a_silent_node_expires_within_its_lease(directory: Directory, redis_space: RedisSpace) -> None:
    await directory.claim_home(7, COUNTY.id)
    await directory.announce(COUNTY, [CHAIR], {7})
    for key in await redis_space.keys():
        assert 0 < await redis_space.client.pttl(key) <= LEASE_S * 1000, key

    start = time.monotonic()
    async with asyncio.timeout(LEASE_S + 1.0):
        await until(lambda: _empty(redis_space))

    assert time.monotonic() - start <= LEASE_S + 0.5  # Redis deletes expired keys within ~100 ms of their time
    assert await directory.nodes() == [] and await directory.home_of(7) is None


async def test_a_heartbeat_keeps_what_would_expire(directory: Directory, redis_space: RedisSpace) -> None:
    await directory.claim_home(7, COUNTY.id)
    await directory.announce(COUNTY, [CHAIR], {7})
    await redis_space.client.pexpire(f"{redis_space.namespace}:meeting:7:home", 100)
    await redis_space.client.pexpire(f"{redis_space.namespace}:node:{COUNTY.id}", 100)

    await directory.announce(COUNTY, [CHAIR], {7})

    assert await redis_space.client.pttl(f"{redis_space.namespace}:meeting:7:home") > 100
    assert await redis_space.client.pttl(f"{redis_space.namespace}:node:{COUNTY.id}") > 100


async def test_a_home_is_claimed_once_and_kept_only_by_its_holder(directory: Directory) -> None:
    assert await directory.claim_home(7, COUNTY.id) == COUNTY.id
    assert await directory.claim_home(7, CITY.id) == COUNTY.id  # taken: the answer names the holder
    await directory.release_home(7, CITY.id)  # not the holder's: nothing happens
    assert await directory.home_of(7) == COUNTY.id

    assert await directory.announce(CITY, [], {7}) == {7}  # a node believing itself home learns otherwise
    assert await directory.homes(CITY.id) == []
    assert await directory.home_of(7) == COUNTY.id

    await directory.release_home(7, COUNTY.id)
    assert await directory.home_of(7) is None
    assert await directory.claim_home(7, CITY.id) == CITY.id


async def test_a_redis_emptied_is_filled_again_by_the_next_heartbeat(
        directory: Directory, redis_space: RedisSpace) -> None:
    await directory.claim_home(7, COUNTY.id)
    await directory.announce(COUNTY, [CHAIR], {7})
    await redis_space.client.delete(*await redis_space.keys())  # as after a restart (it keeps nothing)

    assert await directory.announce(COUNTY, [CHAIR], {7}) == set()

    assert await directory.home_of(7) == COUNTY.id
    assert [node.id for node in await directory.nodes()] == [COUNTY.id]
    assert await directory.participants(COUNTY.id) == [CHAIR]


async def test_withdrawing_removes_the_node_at_once(directory: Directory, redis_space: RedisSpace) -> None:
    await directory.claim_home(7, COUNTY.id)
    await directory.announce(COUNTY, [CHAIR], {7})
    await directory.announce(CITY, [], set())

    await directory.withdraw(COUNTY.id, {7})

    assert [node.id for node in await directory.nodes()] == [CITY.id]
    assert await directory.home_of(7) is None
    assert [key for key in await redis_space.keys() if COUNTY.id in key] == []


async def _empty(space: RedisSpace) -> bool:
    return await space.keys() == []
