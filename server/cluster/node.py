"""This process as a node of several: its heartbeat into the directory and its routing of joins.

Wired by the composition root (server.app) into signaling's hooks, as recording is: signaling does
not know the cluster. The heartbeat task writes, every third of the lease, the node, the
participants of its live meetings and the meetings it is home of; a join, a leave or a meeting
closing wakes it at once, so the directory follows within a round trip rather than a beat. A Redis
that is away is logged and retried on the next beat: meetings go on, served where they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from record.events import Logged, ParticipantJoined, ParticipantLeft
from server.cluster.cascade import LINK_PATH, Cascade
from server.cluster.directory import Directory, NodeRecord, ParticipantRecord
from server.cluster.routing import serving_node
from server.cluster.settings import NodeSettings
from server.db.models import Department, Division
from server.signaling.auth import Identity
from server.signaling.room_state import LiveMeeting
from server.signaling.server import Signaling

logger = logging.getLogger(__name__)

DIRECTORY_ERRORS = (RedisError, OSError)
"""What a Redis that is away raises (refused connections arrive as OSError)."""


class ClusterNode:
    """One node's presence in the directory, and the router of joins that reached it."""

    def __init__(self, settings: NodeSettings, directory: Directory, signaling: Signaling,
                 sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.directory = directory
        self._signaling = signaling
        self._sessions = sessions
        self._started_at = time.time()
        self.homes: set[int] = set()
        """Meetings whose home this node is (claimed at their first live join here)."""
        self._unclaimed: set[int] = set()
        """Meetings whose claim found the directory away: the next heartbeat claims them."""
        self._listening: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def record(self) -> NodeRecord:
        node = self.settings
        return NodeRecord(id=node.id, level=node.level, signaling_url=node.signaling_url,
                          media_addresses=tuple(node.media_addresses), started_at=self._started_at)

    def participants(self) -> list[ParticipantRecord]:
        """Everyone in this node's live meetings (reconnecting ones included: they keep their place)."""
        return [ParticipantRecord(p.id, meeting.id, p.identity.display_name, p.identity.unit)
                for meeting in self._signaling.meetings.values() for p in meeting.participants.values()]

    # -- signaling hooks --------------------------------------------------------------

    async def joined(self, meeting: LiveMeeting) -> None:
        """After an admitted join: the meeting's first live join anywhere makes this node its home."""
        if meeting.id not in self._listening:
            self._listening.add(meeting.id)
            meeting.log.listen(self._logged)
        if meeting.id not in self.homes:
            await self._claim(meeting.id)
        self._wake.set()

    async def _claim(self, meeting_id: int) -> None:
        try:
            if await self.directory.claim_home(meeting_id, self.settings.id) == self.settings.id:
                self.homes.add(meeting_id)
                logger.info("meeting %s: home node is %s", meeting_id, self.settings.id)
        except DIRECTORY_ERRORS as exc:
            self._unclaimed.add(meeting_id)
            logger.warning("meeting %s: the directory is away (%s); home not claimed yet", meeting_id, exc)

    async def closing(self, meeting: LiveMeeting) -> None:
        """The meeting ends here: its home (if ours) is free for the next first join."""
        self._listening.discard(meeting.id)
        self._unclaimed.discard(meeting.id)
        if meeting.id in self.homes:
            self.homes.discard(meeting.id)
            try:
                await self.directory.release_home(meeting.id, self.settings.id)
            except DIRECTORY_ERRORS as exc:
                logger.warning("meeting %s: home not released (%s); its lease runs out", meeting.id, exc)
        self._wake.set()

    def _logged(self, logged: Logged) -> None:
        if isinstance(logged.event, ParticipantJoined | ParticipantLeft):
            self._wake.set()

    async def route(self, identity: Identity, meeting_id: int) -> dict[str, Any] | None:
        """The join answer that sends the person to the node serving them, or None to serve here
        (also when the directory is away: better served by the wrong node than not at all)."""
        try:
            nodes = await self.directory.nodes()
            home = await self.directory.home_of(meeting_id)
        except DIRECTORY_ERRORS as exc:
            logger.warning("meeting %s: the directory is away (%s); serving the join here", meeting_id, exc)
            return None
        level = await self._level_of(identity)
        target = serving_node(nodes, self.settings.id, level, home)
        if target is None:
            return None
        logger.info("meeting %s: %s (level %r) sent to node %s", meeting_id, identity.key, level or "-", target.id)
        return {"status": "redirect", "meeting_id": meeting_id,
                "node": {"id": target.id, "level": target.level, "signaling_url": target.signaling_url},
                "room_url": f"{target.signaling_url}/meetings/{meeting_id}/room"}

    async def _level_of(self, identity: Identity) -> str:
        """The level of the person's department ("" for applicants, agents and guests)."""
        department_id = identity.principal.department_id if identity.principal is not None else None
        if department_id is None:
            return ""
        async with self._sessions() as db:
            level = await db.scalar(select(Division.level).join(
                Department, Department.division_code == Division.code).where(Department.id == department_id))
        return level or ""

    # -- the heartbeat ----------------------------------------------------------------------

    async def beat(self) -> None:
        """Write this node's entries once (the heartbeat loop's step; tests call it directly)."""
        for meeting_id in sorted(self._unclaimed):
            self._unclaimed.discard(meeting_id)
            if meeting_id in self._signaling.meetings:
                await self._claim(meeting_id)
        lost = await self.directory.announce(self.record, self.participants(), self.homes)
        for meeting_id in lost:
            logger.warning("meeting %s: home lease lost to another node", meeting_id)
        self.homes -= lost

    async def _heartbeat(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.beat()
            except DIRECTORY_ERRORS as exc:
                logger.warning("node %s: heartbeat failed (%s); retrying", self.settings.id, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.heartbeat_seconds)

    async def start(self, _app: web.Application | None = None) -> None:
        self._task = asyncio.get_running_loop().create_task(self._heartbeat(), name="cluster heartbeat")

    async def stop(self, _app: web.Application | None = None) -> None:
        """Leave the directory at once (a clean stop; a killed node's entries expire instead)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.directory.withdraw(self.settings.id, self.homes)
        except DIRECTORY_ERRORS as exc:
            logger.warning("node %s: not withdrawn from the directory (%s); its lease runs out", self.settings.id, exc)
        await self.directory.close()


CLUSTER = web.AppKey("lianshen_cluster", ClusterNode)
CASCADE = web.AppKey("lianshen_cascade", Cascade)


def attach(app: web.Application, signaling: Signaling) -> ClusterNode | None:
    """Make this process a node of several when Redis is configured; nothing otherwise."""
    settings = signaling.context.settings.node
    if not settings.clustered:
        return None
    directory = Directory.connect(settings.redis_url, settings.namespace, settings.lease_seconds)
    node = app[CLUSTER] = ClusterNode(settings, directory, signaling, signaling.context.sessions)
    signaling.hooks.joined.append(node.joined)
    signaling.hooks.closing.append(node.closing)
    signaling.hooks.route = node.route
    cascade = app[CASCADE] = Cascade(node, signaling, signaling.context.settings.auth.token_secret.encode())
    signaling.hooks.joined.append(cascade.joined)  # after node.joined: the home is known by then
    signaling.hooks.closing.append(cascade.closing)
    app.router.add_get(LINK_PATH, cascade.accept)
    app.on_startup.append(node.start)
    app.on_startup.append(cascade.start)
    app.on_shutdown.append(cascade.stop)  # before node.stop, which closes the directory
    app.on_shutdown.append(node.stop)
    return node
