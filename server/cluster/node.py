"""This process as a node of several: its heartbeat into the directory and its routing of joins.

Wired by the composition root (server.app) into signaling's hooks, as recording is: signaling does
not know the cluster. The heartbeat task writes, every third of the lease, the node, the
participants of its live meetings and the meetings it is home of; a join, a leave or a meeting
closing wakes it at once, so the directory follows within a round trip rather than a beat. A Redis
that is away is logged and retried on the next beat: meetings go on, served where they are.

A meeting live on several nodes has one home: the node of its first live join, which keeps the
claim on each beat. When the home dies (its lease runs out), another node holding the meeting live
claims it once it has found it without a home on two beats running (``_take_over_homes``): the
meeting goes on there, and that node takes over what only the home does. Today the home is
(1) where joins of people with no level node go (routing), (2) who tells the room of events
written over HTTP on a node where the meeting is not live (server.cluster.feed), (3) who
records that the participants of a node that died left (``_heal_roster``), and (4) the node that
records the meeting (``records_on_home``: a chair's start or stop elsewhere is relayed there; a
node taking over the home of a meeting being recorded starts a new segment). Closing is not the
home's: each node closes its own live meeting when its last participant leaves.
The live state of a meeting across nodes follows its log (server.cluster.feed) and, for what is
not on the record, the room's shared state (server.cluster.room_share); a chair's act on someone
another node serves goes to that node (server.cluster.control).
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
from server.cluster.control import Asked, ControlChannel, RecordingRequest, Request
from server.cluster.directory import Directory, NodeRecord, ParticipantRecord
from server.cluster.feed import LiveFeed, locked_now, remote_participant
from server.cluster.handoff import HANDOFF_PATH, HandoffDesk
from server.cluster.room_share import RoomShare
from server.cluster.routing import serving_node
from server.cluster.settings import NodeSettings
from server.db.models import Department, Division
from server.live_recording import RecordingVerb, RecordingWiring
from server.signaling import messages
from server.signaling.auth import Identity
from server.signaling.errors import SignalingError
from server.signaling.moderation import Relayable, RemoteChair
from server.signaling.room_state import LiveMeeting, Participant
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
        """Meetings whose home this node is (claimed at their first live join here, or taken over
        on a heartbeat when their home's lease ran out)."""
        self._unclaimed: set[int] = set()
        """Meetings whose claim at their first join here found the directory away: the next
        heartbeat claims them."""
        self._homeless: set[int] = set()
        """Live meetings here that had no home at the last heartbeat: claimed if still homeless at
        the next (their own home, back after a Redis restart, re-claims on its first beat)."""
        self.feed = LiveFeed(settings.id, settings.namespace, directory.redis, signaling,
                             signaling.context.log_hub, self.is_home)
        self.share = RoomShare(settings.id, settings.namespace, directory.redis, signaling)
        self.control = ControlChannel(settings.id, settings.namespace, directory.redis, self._control)
        self.handoff = HandoffDesk(signaling.context.settings.auth.token_secret.encode(), settings.id,
                                   settings.namespace, directory.redis)
        self._recording: RecordingWiring | None = None
        self._listening: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def record(self) -> NodeRecord:
        node = self.settings
        manager = self._signaling.redis_manager
        return NodeRecord(id=node.id, level=node.level, signaling_url=node.signaling_url,
                          media_addresses=tuple(node.media_addresses), started_at=self._started_at,
                          listening=manager is not None and manager.subscribed)

    def participants(self) -> list[ParticipantRecord]:
        """Everyone in this node's live meetings (reconnecting ones included: they keep their place)."""
        return [ParticipantRecord(p.id, meeting.id, p.identity.display_name, p.identity.unit)
                for meeting in self._signaling.meetings.values() for p in meeting.participants.values()]

    # -- signaling hooks --------------------------------------------------------------

    def is_home(self, meeting_id: int) -> bool:
        return meeting_id in self.homes

    async def joined(self, meeting: LiveMeeting) -> None:
        """After an admitted join: the meeting's first live join anywhere makes this node its home,
        and the meeting takes the events the other nodes write from now on."""
        if meeting.id not in self._listening:
            self._listening.add(meeting.id)
            meeting.log.listen(self._logged)
        if self.feed.follow(meeting):
            await self._seed_roster(meeting)
            if meeting.remote:
                meeting.locked = locked_now(self._signaling.review.review(meeting).log,
                                            min(r.joined_at for r in meeting.remote.values()))
            await self.share.began(meeting)
        if meeting.id not in self.homes:
            await self._claim(meeting.id)
        self._wake.set()

    async def _seed_roster(self, meeting: LiveMeeting) -> None:
        """A meeting just gone live here: whoever other nodes serve in it (the directory says who,
        their join on the record says as whom) is in its roster before the first join is answered.
        Later joins and leaves elsewhere come through the feed."""
        joins = {logged.event.participant_id: (logged, logged.event)
                 for logged in self._signaling.review.review(meeting).log
                 if isinstance(logged.event, ParticipantJoined)}
        try:
            for node in await self.directory.nodes():
                if node.id == self.settings.id:
                    continue
                for participant in await self.directory.participants(node.id):
                    found = joins.get(participant.id)
                    if participant.meeting_id == meeting.id and found is not None \
                            and participant.id not in meeting.participants:
                        meeting.remote[participant.id] = remote_participant(*found, node=node.id, level=node.level)
        except DIRECTORY_ERRORS as exc:  # the feed and the heartbeat fill it in later
            logger.warning("meeting %s: the directory is away (%s); roster of other nodes not read", meeting.id, exc)

    async def _claim(self, meeting_id: int) -> None:
        """Claim the meeting's home if it has none (the next heartbeat tries again if the
        directory is away)."""
        try:
            if await self.directory.claim_home(meeting_id, self.settings.id) == self.settings.id:
                self.homes.add(meeting_id)
                logger.info("meeting %s: home node is %s", meeting_id, self.settings.id)
        except DIRECTORY_ERRORS as exc:
            self._unclaimed.add(meeting_id)
            logger.warning("meeting %s: the directory is away (%s); home not claimed yet", meeting_id, exc)

    async def take_over(self, meeting: LiveMeeting) -> bool:
        """Claim the home of a meeting live here whose home died, and take up what a home does
        (recording resumes here in a new segment); whether this node is its home now. Both the
        heartbeat (a homeless meeting on two beats) and the cascade (its link to the home ended and
        the directory names none) come here, so a take-over is one act whoever notices first."""
        await self._claim(meeting.id)
        if meeting.id not in self.homes:
            return False
        logger.warning("meeting %s: its home node is gone; %s took over", meeting.id, self.settings.id)
        if self._recording is not None:
            await self._recording.home_taken(meeting)
        return True

    async def closing(self, meeting: LiveMeeting) -> None:
        """The meeting ends here: its home (if ours) is free for the next first join."""
        self._listening.discard(meeting.id)
        self._unclaimed.discard(meeting.id)
        self._homeless.discard(meeting.id)
        self.feed.unfollow(meeting)
        await self.share.ended(meeting)
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
                # a browser's cookie is this node's: the room is entered through the target's desk
                "room_url": self.handoff.room_url(identity.user_id, meeting_id, target.id, target.signaling_url)}

    async def _level_of(self, identity: Identity) -> str:
        """The level of the person's department ("" for applicants, agents and guests)."""
        department_id = identity.principal.department_id if identity.principal is not None else None
        if department_id is None:
            return ""
        async with self._sessions() as db:
            level = await db.scalar(select(Division.level).join(
                Department, Department.division_code == Division.code).where(Department.id == department_id))
        return level or ""

    # -- acts across nodes ----------------------------------------------------------------

    async def moderate_elsewhere(self, meeting: LiveMeeting, chair: Participant,
                                 action: Relayable) -> dict[str, Any]:
        """A chair's act on someone another node serves: sent to that node (the directory says
        which, now: a node that died has left it), whose answer is the chair's ack."""
        target = action.lobby_id if isinstance(action, messages.LobbyDecision) else action.participant_id
        try:
            if isinstance(action, messages.LobbyDecision):
                node = str(meeting.lobby_elsewhere[target]["node"])
                serving = node if node in {n.id for n in await self.directory.nodes()} else None
            else:
                serving = await self._serving(target)
        except DIRECTORY_ERRORS as exc:
            raise SignalingError("cluster_unavailable", f"集群目录不可用 / the directory is away: {exc}") from None
        if serving is None:
            raise SignalingError("node_gone", "其所在节点不在线 / the node serving them is not running",
                                 target=target)
        request = Request(id=self.control.new_id(), sender=self.settings.id, meeting_id=meeting.id,
                          chair_id=chair.id, chair_user_id=chair.user_id, action=action)
        logger.info("meeting %s: %s of %s sent to node %s", meeting.id, action.action, target, serving)
        return await self.control.ask(serving, request)

    async def _serving(self, participant_id: str) -> str | None:
        """The living node serving the participant, from the directory (None: on no living node)."""
        for node in await self.directory.nodes():
            if node.id != self.settings.id and any(
                    p.id == participant_id for p in await self.directory.participants(node.id)):
                return node.id
        return None

    def records_on_home(self, recording: RecordingWiring) -> None:
        """Only the home of a meeting records it: a chair's start or stop elsewhere is sent to the
        home, and a node taking over the home of a meeting being recorded records it on."""
        self._recording = recording
        recording.records = self.is_home
        recording.relay = self.relay_recording

    async def relay_recording(self, meeting: LiveMeeting, verb: RecordingVerb, actor_id: int | None,
                              notice: str | None) -> dict[str, Any]:
        try:
            home = await self.directory.home_of(meeting.id)
        except DIRECTORY_ERRORS as exc:
            raise SignalingError("cluster_unavailable", f"集群目录不可用 / the directory is away: {exc}") from None
        if home is None or home == self.settings.id:  # a hand-over under way: the chair tries again
            raise SignalingError("bad_state", "会议主节点正在交接，请稍后重试 / the meeting's home node is "
                                 "being handed over; try again in a moment")
        request = RecordingRequest(id=self.control.new_id(), sender=self.settings.id, meeting_id=meeting.id,
                                   verb=verb, actor_user_id=actor_id, consent_notice=notice)
        return await self.control.ask(home, request)

    async def _control(self, request: Asked) -> dict[str, Any]:
        """Another node's chair acts here (checked a chair there): on someone served here (who
        is gone is refused as on one node), or on the recording of a meeting this node is home of."""
        meeting = self._signaling.meetings.get(request.meeting_id)
        if isinstance(request, RecordingRequest):
            if meeting is None or self._recording is None or not self.is_home(meeting.id):
                raise SignalingError("bad_state", "该节点不是会议主节点 / this node is not the meeting's home")
            return await self._recording.act(meeting, request.verb, request.actor_user_id,
                                             request.consent_notice)
        if meeting is None:  # it closed here meanwhile: whoever was aimed at is gone
            raise SignalingError("unknown_participant")
        return await self._signaling.moderate_here(meeting, RemoteChair(request.chair_id, request.chair_user_id),
                                                   request.action)

    # -- the heartbeat ----------------------------------------------------------------------

    async def beat(self) -> None:
        """Write this node's entries once (the heartbeat loop's step; tests call it directly).
        A live meeting here without a home is claimed (never claimed because the directory was
        away, or its home died: ``_take_over_homes``); every followed meeting's log is read from
        its cursor (what a lost announcement did not wake); the roster of other nodes' participants
        is checked."""
        self.feed.wake()
        for meeting_id in sorted(self._unclaimed):
            self._unclaimed.discard(meeting_id)
            if meeting_id in self._signaling.meetings:
                await self._claim(meeting_id)
        await self._take_over_homes()
        lost = await self.directory.announce(self.record, self.participants(), self.homes)
        for meeting_id in lost:
            logger.warning("meeting %s: home lease lost to another node", meeting_id)
        self.homes -= lost
        await self._heal_roster()
        await self.share.read_all()

    async def _take_over_homes(self) -> None:
        """Claim the home of a live meeting here that has had none for two heartbeats: its home
        died (its lease ran out). Waiting one beat lets a home that is alive but was briefly
        without Redis (a restart empties it) claim its own meetings back first."""
        homeless = set()
        for meeting_id in sorted(set(self._signaling.meetings) - self.homes):
            if await self.directory.home_of(meeting_id) is not None:
                continue
            meeting = self._signaling.meetings.get(meeting_id)
            if meeting_id in self._homeless and meeting is not None:
                if await self.take_over(meeting):
                    continue
            homeless.add(meeting_id)
        self._homeless = homeless

    async def _heal_roster(self) -> None:
        """Name the node and level of other nodes' participants in each live meeting's roster,
        and, in the meetings this node is home of, record as gone those whose node has died
        (no goodbye came: a node killed, a cut cable) once they are older than a lease."""
        remote = [meeting for meeting in self._signaling.meetings.values() if meeting.remote]
        if not remote:
            return
        where: dict[str, NodeRecord] = {}
        for node in await self.directory.nodes():
            if node.id != self.settings.id:
                where.update((p.id, node) for p in await self.directory.participants(node.id))
        stale = time.time() - self.settings.lease_seconds
        for meeting in remote:
            for participant in list(meeting.remote.values()):
                serving = where.get(participant.id)
                if serving is not None:
                    participant.node, participant.level = serving.id, serving.level
                elif meeting.id in self.homes and participant.joined_at.timestamp() < stale:
                    logger.warning("meeting %s: %s's node (%s) is gone; recorded as left", meeting.id,
                                   participant.id, participant.node or "?")
                    meeting.remote_lost(participant.id, "node_lost")

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
        self.feed.start()
        self.control.start()
        self.share.start()
        self._task = asyncio.get_running_loop().create_task(self._heartbeat(), name="cluster heartbeat")

    async def stop(self, _app: web.Application | None = None) -> None:
        """Leave the directory at once (a clean stop; a killed node's entries expire instead)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.feed.stop()
        await self.control.stop()
        await self.share.stop()
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
    signaling.hooks.joined.insert(0, node.joined)  # the home is claimed before recording asks
    signaling.hooks.closing.append(node.closing)
    signaling.hooks.route = node.route
    signaling.hooks.moderate_elsewhere = node.moderate_elsewhere
    signaling.review.shared = node.share
    cascade = app[CASCADE] = Cascade(node, signaling, signaling.context.settings.auth.token_secret.encode())
    signaling.hooks.joined.append(cascade.joined)  # after node.joined: the home is known by then
    signaling.hooks.closing.append(cascade.closing)
    app.router.add_get(LINK_PATH, cascade.accept)
    app.router.add_get(HANDOFF_PATH, node.handoff.redeem)
    app.on_startup.append(node.start)
    app.on_startup.append(cascade.start)
    app.on_shutdown.append(cascade.stop)  # before node.stop, which closes the directory
    app.on_shutdown.append(node.stop)
    return node
