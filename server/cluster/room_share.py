"""The off-record state of a meeting live on several nodes, kept once for the whole room in Redis;
and the lobby, which every node's chairs see.

Raised hands, the floor, the chat switch and the chair's choice of presenter are not on the record
(server.signaling.off_record says why), so the feed of the log does not carry them. Each meeting
has one JSON value, ``<ns>:meeting:<id>:offrecord``, changed only inside a Redis transaction
(WATCH/MULTI: a change made on another node meanwhile makes this one start again from the new
value), so two hands raised at the same moment on two nodes are both queued. After each change the
node announces it on ``<ns>:offrecord``; every other node holding the meeting live reads the value
and its review takes it quietly (the writer's ``review_state`` broadcast reached the whole room
through socket.io's Redis manager). A lost announcement is healed by the next heartbeat, which
reads the value of every live meeting.

The lobby: someone waiting is connected to one node, which alone can let them in (server.cluster
.control relays a chair's decision there). Each node writes its own entries under its own field of
``<ns>:meeting:<id>:lobby`` (no two nodes write the same field: no transaction needed) and
announces the change on the same channel; the others show them to their chairs
(``LiveMeeting.lobby_told``).

A session starts afresh: the first node to hold a meeting live when no other node does clears
the value. With Redis away a change is made on this node only (the meeting goes on where it is
served) and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from server.signaling.off_record import Change, OffRecord, off_record
from server.signaling.room_state import LiveMeeting
from server.signaling.server import Signaling

logger = logging.getLogger(__name__)

SHARE_ERRORS = (RedisError, OSError)
KEEP_S = 24 * 3600
"""A meeting's value outlives its last change by a day at most (a session never lasts longer;
an abandoned value must not stay in Redis for ever)."""
REDIS_RETRY_S = 1.0
"""Pause before subscribing again after Redis went away."""


class RoomShare:
    """The shared off-record state (server.signaling.off_record.SharedOffRecord) of this node's
    live meetings."""

    def __init__(self, node_id: str, namespace: str, redis: Redis, signaling: Signaling) -> None:
        self.node_id = node_id
        self._namespace = namespace
        self.channel = f"{namespace}:offrecord"
        self._redis = redis
        self._signaling = signaling
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()

    def key(self, meeting_id: int) -> str:
        return f"{self._namespace}:meeting:{meeting_id}:offrecord"

    def lobby_key(self, meeting_id: int) -> str:
        return f"{self._namespace}:meeting:{meeting_id}:lobby"

    def lobby_changed(self, meeting: LiveMeeting) -> None:
        """This node's lobby of ``meeting`` changed (``LiveMeeting.on_lobby``): written for the
        other nodes' chairs (as it is when the write runs: the last write has the newest)."""
        task = asyncio.get_running_loop().create_task(self._write_lobby(meeting))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_lobby(self, meeting: LiveMeeting) -> None:
        entries = [{**entry.public(), "node": self.node_id} for entry in meeting.lobby.values()]
        key = self.lobby_key(meeting.id)
        try:
            if entries:
                await self._redis.hset(key, self.node_id, json.dumps(entries))
                await self._redis.expire(key, KEEP_S)
            else:
                await self._redis.hdel(key, self.node_id)
        except SHARE_ERRORS as exc:
            logger.warning("meeting %s: the lobby here not shared (%s)", meeting.id, exc)
            return
        await self._announce(meeting.id)

    async def ended(self, meeting: LiveMeeting) -> None:
        """The meeting closes here: nobody waits here any more."""
        meeting.on_lobby = None
        try:
            await self._redis.hdel(self.lobby_key(meeting.id), self.node_id)
        except SHARE_ERRORS as exc:  # the entries expire with the key
            logger.warning("meeting %s: the lobby here not withdrawn (%s)", meeting.id, exc)

    async def change(self, meeting_id: int, change: Change, here: OffRecord) -> OffRecord:
        changed: list[OffRecord] = []

        async def step(pipe: Pipeline) -> None:
            state = _parsed(await pipe.get(self.key(meeting_id)), here, meeting_id)
            change(state)  # a refusal (SignalingError) ends the transaction, nothing written
            pipe.multi()
            pipe.set(self.key(meeting_id), json.dumps(state.to_json()), ex=KEEP_S)
            changed[:] = [state]

        try:
            await self._redis.transaction(step, self.key(meeting_id))
        except SHARE_ERRORS as exc:
            logger.warning("meeting %s: Redis is away (%s); hands, floor and switches changed on this "
                           "node only", meeting_id, exc)
            state = here.copy()
            change(state)
            return state
        await self._announce(meeting_id)
        return changed[0]

    async def _announce(self, meeting_id: int) -> None:
        try:
            await self._redis.publish(self.channel, json.dumps({"node": self.node_id, "meeting_id": meeting_id}))
        except SHARE_ERRORS as exc:  # the other nodes' heartbeats read the value
            logger.warning("meeting %s: off-record change not announced (%s)", meeting_id, exc)

    async def began(self, meeting: LiveMeeting) -> None:
        """The meeting has just gone live here: a new session (nobody on another node) starts
        afresh; otherwise this node takes the room's state."""
        meeting.on_lobby = self.lobby_changed
        try:
            if meeting.remote:
                await self.read(meeting)
            else:
                await self._redis.delete(self.key(meeting.id), self.lobby_key(meeting.id))
        except SHARE_ERRORS as exc:
            logger.warning("meeting %s: the room's hands and switches not read (%s)", meeting.id, exc)

    async def read(self, meeting: LiveMeeting) -> None:
        """Take the room's current value, and the other nodes' lobby entries, into this node's
        live meeting."""
        raw = await self._redis.get(self.key(meeting.id))
        lobbies = await self._redis.hgetall(self.lobby_key(meeting.id))
        if self._signaling.meetings.get(meeting.id) is not meeting:
            return
        if raw is not None:
            state = _parsed(raw, off_record(self._signaling.review.review(meeting)), meeting.id)
            self._signaling.review.off_record_elsewhere(meeting, state)
        meeting.lobby_told({entry["id"]: entry for node, listed in lobbies.items() if node != self.node_id
                            for entry in _entries(listed, meeting.id)})

    async def read_all(self) -> None:
        """Every live meeting's value (the heartbeat: heals a lost announcement; with Redis away,
        logged, and the next beat tries again)."""
        try:
            for meeting in list(self._signaling.meetings.values()):
                await self.read(meeting)
        except SHARE_ERRORS as exc:
            logger.warning("node %s: the rooms' hands and switches not read (%s)", self.node_id, exc)

    def _heard(self, data: str | bytes) -> int | None:
        try:
            message: dict[str, Any] = json.loads(data)
            sender, meeting_id = str(message["node"]), int(message["meeting_id"])
        except (ValueError, KeyError, TypeError):
            logger.warning("node %s: an unreadable off-record notice: %r", self.node_id, data)
            return None
        return meeting_id if sender != self.node_id and meeting_id in self._signaling.meetings else None

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                await self.read_all()  # what changed while not subscribed
                async for message in pubsub.listen():
                    meeting_id = self._heard(message["data"]) if message.get("type") == "message" else None
                    meeting = self._signaling.meetings.get(meeting_id) if meeting_id is not None else None
                    if meeting is not None:
                        await self.read(meeting)
            except SHARE_ERRORS as exc:
                logger.warning("node %s: the off-record subscription dropped (%s); subscribing again",
                               self.node_id, exc)
                await asyncio.sleep(REDIS_RETRY_S)  # a pause between attempts, not a synchronisation
            finally:
                await pubsub.aclose()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="cluster off-record")

    async def stop(self) -> None:
        tasks = [*self._writes, *([self._task] if self._task is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _parsed(raw: str | bytes | None, default: OffRecord, meeting_id: int) -> OffRecord:
    """The stored value, or a copy of ``default`` when there is none (or it is unreadable)."""
    if raw is None:
        return default.copy()
    try:
        return OffRecord.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        logger.warning("meeting %s: an unreadable off-record value %r; using this node's", meeting_id, raw)
        return default.copy()


def _entries(raw: str | bytes, meeting_id: int) -> list[dict[str, Any]]:
    """One node's lobby entries as it wrote them (an unreadable value: none)."""
    try:
        entries = json.loads(raw)
        if isinstance(entries, list) and all(isinstance(e, dict) and isinstance(e.get("id"), str)
                                             and isinstance(e.get("node"), str) for e in entries):
            return entries
    except ValueError:
        pass
    logger.warning("meeting %s: an unreadable lobby value %r", meeting_id, raw)
    return []
