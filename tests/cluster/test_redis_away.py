"""A node whose Redis does not answer goes on serving: the join is served where it arrived (better
the wrong node than none), the home claim and the heartbeat are logged and retried, nothing fails."""

from __future__ import annotations

import logging

import pytest

from server.cluster.directory import Directory
from server.cluster.node import DIRECTORY_ERRORS, ClusterNode
from server.cluster.settings import NodeSettings
from tests.media.signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

from .conftest import RedisSpace
from .nodes import free_port

pytestmark = pytest.mark.cluster


async def test_a_node_without_its_redis_serves_the_join_here(live: LiveServer,  # noqa: F811
                                                             caplog: pytest.LogCaptureFixture,
                                                             redis_space: RedisSpace) -> None:
    away = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = NodeSettings(id="county-1", level="county", signaling_url="http://127.0.0.1:1", redis_url=away)
    directory = Directory.connect(away, "away", settings.lease_seconds)
    node = ClusterNode(settings, directory, live.signaling, live.sessions)
    live.signaling.hooks.joined.append(node.joined)
    live.signaling.hooks.route = node.route
    try:
        with caplog.at_level(logging.WARNING, logger="server.cluster.node"):
            rep = await live.bot("rep_a", publish=())
            with pytest.raises(DIRECTORY_ERRORS):
                await node.beat()
        assert rep.joined["status"] == "joined" and rep.url == live.url
        assert node.homes == set()  # not claimed while Redis is away
        warnings = [record.getMessage() for record in caplog.records]
        assert any("serving the join here" in message for message in warnings), warnings
        assert any("home not claimed yet" in message for message in warnings), warnings

        # Redis answers again (here: the test's own, under the node's directory): the next
        # heartbeat claims the home the join could not, and announces the participant.
        await directory.close()
        directory = node.directory = Directory.connect(redis_space.url, redis_space.namespace, 15)
        await node.beat()
        assert node.homes == {live.world.meeting_x}
        assert await directory.home_of(live.world.meeting_x) == "county-1"
        assert [p.id for p in await directory.participants("county-1")] == [rep.participant_id]
    finally:
        await directory.close()
