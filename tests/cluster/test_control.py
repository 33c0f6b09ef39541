"""The control channel between nodes, on the real Redis: an act reaches only its addressee, whose
answer (or refusal) comes back to the asker; a node nobody listens for is refused at once; a
malformed message is dropped without stopping the inbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from server.cluster.control import Asked, ControlChannel, Request
from server.signaling.errors import SignalingError
from server.signaling.messages import Mute

from .conftest import RedisSpace

pytestmark = pytest.mark.cluster


class Inbox:
    """What a node was asked; refuses acts on "dead"."""

    def __init__(self) -> None:
        self.asked: list[Asked] = []

    async def apply(self, request: Asked) -> dict[str, Any]:
        self.asked.append(request)
        assert isinstance(request, Request)
        if isinstance(request.action, Mute) and request.action.participant_id == "dead":
            raise SignalingError("unknown_participant")
        return {"applied": request.action.action}


@pytest_asyncio.fixture
async def redis(redis_space: RedisSpace) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_space.url, decode_responses=True)
    yield client
    await client.aclose()


async def listening(redis: Redis, channel: str) -> None:
    """Until a node's inbox is subscribed (bounded by the caller)."""
    while not (await redis.pubsub_numsub(channel))[0][1]:  # noqa: ASYNC110 - Redis has no event for it
        await asyncio.sleep(0.02)


def mute(sender: str, participant_id: str) -> Request:
    return Request(id=f"{sender}-{participant_id}", sender=sender, meeting_id=1, chair_id="c1", chair_user_id=7,
                   action=Mute(meeting_id=1, action="mute", participant_id=participant_id))


async def test_acts_reach_their_node_and_answers_come_back(redis: Redis, redis_space: RedisSpace) -> None:
    inboxes = {name: Inbox() for name in ("a", "b", "c")}
    nodes = {name: ControlChannel(name, redis_space.namespace, redis, inbox.apply)
             for name, inbox in inboxes.items()}
    for node in nodes.values():
        node.start()
    try:
        async with asyncio.timeout(10):
            for node in nodes.values():
                await listening(redis, node.channel(node.node_id))
            assert await nodes["a"].ask("b", mute("a", "a1")) == {"applied": "mute"}
            assert [r.id for r in inboxes["b"].asked] == ["a-a1"] and not inboxes["c"].asked

            with pytest.raises(SignalingError) as refused:  # refused there: the code comes back
                await nodes["a"].ask("b", mute("a", "dead"))
            assert refused.value.code == "unknown_participant"

            with pytest.raises(SignalingError) as refused:  # nobody listens for "d"
                await nodes["a"].ask("d", mute("a", "a2"))
            assert refused.value.code == "node_gone"

            # Malformed messages are dropped; the inbox goes on answering.
            for junk in ("not json", json.dumps({"kind": "moderate", "id": "x"}),
                         mute("a", "a3").model_dump_json().replace('"mute"', '"explode"')):
                await redis.publish(nodes["b"].channel("b"), junk)
            assert await nodes["c"].ask("b", mute("c", "a4")) == {"applied": "mute"}
            assert [r.id for r in inboxes["b"].asked] == ["a-a1", "a-dead", "c-a4"]
    finally:
        for node in nodes.values():
            await node.stop()
