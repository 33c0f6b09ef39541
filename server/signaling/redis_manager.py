"""socket.io's Redis manager as the nodes use it: back promptly after Redis restarts, and saying when.

Room broadcasts and emits to a connection cross nodes on a Redis channel that is fire-and-forget:
what is published while a node is not subscribed never reaches its connections. python-socketio's
own listener (``AsyncRedisManager._redis_listen_with_retries``) retries a lost subscription after
1, 2, 4, 8 ... 60 s, so after a Redis outage of a few seconds a node stays deaf for up to as long
again, and meanwhile every broadcast from the other nodes is lost. Here a lost subscription is
made again after a short fixed pause, as the cluster's own subscriptions are (server.cluster.feed),
and ``subscribed`` says whether Redis has confirmed the subscription, so the node's heartbeat can
tell the directory (and `lianshen node status`) whether broadcasts from other nodes reach it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_S = 1.0
"""Pause between attempts to subscribe again (a Redis restart takes about a second)."""


class RedisManager(socketio.AsyncRedisManager):
    """socket.io's Redis manager with a prompt, observable re-subscription."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel)
        self.subscribed = False
        """Redis confirmed this node's subscription to the channel, and it has not dropped since."""

    async def _redis_listen_with_retries(self) -> AsyncIterator[dict[str, Any]]:
        """The channel's messages, subscribing again RETRY_S after a failure, for as long as the
        server runs (the manager's listening task ends it by cancellation)."""
        while True:
            if self.redis is None:
                self._redis_connect()  # the client publishing shares it (connections come from its pool)
            pubsub = self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self.subscribed = True
                    else:
                        yield message
            except (RedisError, OSError) as exc:
                logger.warning("the socket.io subscription dropped (%s); subscribing again in %.0f s",
                               exc, RETRY_S)
            finally:
                self.subscribed = False
                await pubsub.aclose()
            await asyncio.sleep(RETRY_S)  # a pause between attempts, not a synchronisation
