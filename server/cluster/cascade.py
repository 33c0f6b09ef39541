"""The media cascade: a meeting that spans nodes has one link from each other node to its home.

Participants are served by their own level's node (server.cluster.routing); the node of the
meeting's first live join is its home. A node serving participants of a meeting whose home is
another node (an *edge*) opens one link to the home, when its first participant joins, and keeps it
while the meeting is live here: a websocket to ``/cluster/v1/meetings/<id>/link`` on the home,
authenticated with a node token (server.cluster.node_token), over which the two nodes negotiate
server-to-server WebRTC (server.cluster.link_session, server.sfu.link). Every track crosses a link
once, whatever the number of subscribers behind it; the edges of one home form a star, so a track
of one edge reaches another through the home (two links, one copy on each).

An edge whose link drops retries every ``RETRY_S``, reading the home again each time; if the
meeting has no home any more (the home node died), the edge claims it and serves on alone until
another edge links to it. While linked, an edge leaves speaker detection to the home, which hears
every track (its ``speaker_changed`` reaches every node's clients through socket.io's Redis
manager). Link state and counters: :attr:`Cascade.links`, written to the directory at every
heartbeat interval (leased like the node) for `lianshen node status`, and :meth:`Cascade.metrics`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Protocol

import aiohttp
from aiohttp import web
from redis.exceptions import RedisError

from server.cluster.directory import Directory
from server.cluster.link_session import MAX_MESSAGE_BYTES, LinkSession
from server.cluster.links import LinkState, links_metrics
from server.cluster.node_token import NodeTokenError, node_authorization, verify_node
from server.cluster.settings import NodeSettings
from server.sfu.link import sending_counters
from server.signaling.room_state import LiveMeeting
from server.signaling.server import Signaling

logger = logging.getLogger(__name__)

LINK_PATH = "/cluster/v1/meetings/{meeting_id}/link"
RETRY_S = 1.0
"""An edge's wait between attempts to (re)link (the home restarting, its meeting not live yet)."""
WS_HEARTBEAT_S = 15.0
"""Websocket pings: a home that vanished without closing (a cut cable) is noticed within two (a
shorter one broke links on a stalled machine: the pong must come within half of it)."""
CONNECT_TIMEOUT_S = 10.0
DIRECTORY_ERRORS = (RedisError, OSError)


class HomeKeeper(Protocol):
    """What the cascade needs of this node's presence (server.cluster.node.ClusterNode)."""

    settings: NodeSettings
    directory: Directory
    homes: set[int]

    async def take_over(self, meeting: LiveMeeting) -> bool: ...


def _refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class Cascade:
    """This node's links: the ones it opened as an edge, the ones it accepted as a home."""

    def __init__(self, node: HomeKeeper, signaling: Signaling, secret: bytes) -> None:
        self._node = node
        self._signaling = signaling
        self._secret = secret
        self.links: dict[str, LinkState] = {}
        self._sessions: dict[str, LinkSession] = {}
        self._edges: dict[int, asyncio.Task[None]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._stats: asyncio.Task[None] | None = None

    @property
    def node_id(self) -> str:
        return self._node.settings.id

    def metrics(self) -> str:
        """The links in Prometheus text format (for /metrics)."""
        return links_metrics(self.node_id, list(self.links.values()))

    # -- signaling hooks (after ClusterNode's: the home is claimed by then) ------------

    async def joined(self, meeting: LiveMeeting) -> None:
        self._ensure_edge(meeting)

    def _ensure_edge(self, meeting: LiveMeeting) -> None:
        """A meeting live here whose home is not this node has its link task."""
        if meeting.id in self._node.homes:
            return
        task = self._edges.get(meeting.id)
        if task is None or task.done():
            self._edges[meeting.id] = asyncio.get_running_loop().create_task(
                self._edge(meeting), name=f"cascade link of meeting {meeting.id}")

    async def _tend(self) -> None:
        """Follow homes that moved: a meeting whose home this node lost (its lease ran out on a
        stalled machine and another node claimed it) gets a link, and the links accepted for it
        close (their edges retry and find the new home)."""
        for meeting in list(self._signaling.meetings.values()):
            self._ensure_edge(meeting)
        for name, session in list(self._sessions.items()):
            state = self.links.get(name)
            if state is not None and state.role == "home" and state.meeting_id not in self._node.homes:
                logger.warning("meeting %s: no longer home here; link from %s closed", state.meeting_id,
                               state.peer_node)
                await session.close()

    async def closing(self, meeting: LiveMeeting) -> None:
        """The meeting ends here: its link (edge) or the links to it (home) close."""
        task = self._edges.pop(meeting.id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for session in [s for s in self._sessions.values() if s.room is meeting.room]:
            await session.close()

    # -- the edge end -------------------------------------------------------------------

    async def _edge(self, meeting: LiveMeeting) -> None:
        """Keep one link from this node to the meeting's home while the meeting is live here."""
        state: LinkState | None = None
        try:
            while True:
                home = await self._home_of(meeting)
                if home is None:
                    logger.info("meeting %s: this node is its home now; no link", meeting.id)
                    return
                if state is None or state.peer_node != home:
                    if state is not None:
                        self.links.pop(state.name, None)
                    state = LinkState(meeting.id, home, "edge")
                    self.links[state.name] = state
                try:
                    ended = await self._link_to(meeting, home, state)
                except (aiohttp.ClientError, TimeoutError, *DIRECTORY_ERRORS) as exc:
                    ended = f"{type(exc).__name__}: {exc}"
                except Exception as exc:  # a link must come back whatever ended the last one
                    logger.exception("meeting %s: link to node %s failed", meeting.id, home)
                    ended = f"{type(exc).__name__}: {exc}"
                finally:
                    meeting.room.detects_speaker = True
                logger.warning("meeting %s: link to node %s ended (%s); retrying", meeting.id, home, ended)
                state.status, state.error, state.connected_at = "retrying", ended[:300], None
                await asyncio.sleep(RETRY_S)  # a pause between attempts, not a synchronisation
        finally:
            if state is not None:
                self.links.pop(state.name, None)

    async def _home_of(self, meeting: LiveMeeting) -> str | None:
        """The home node to link to, or None when this node is (or has just become) the home."""
        while True:
            try:
                home = await self._node.directory.home_of(meeting.id)
                if home is None:
                    await self._node.take_over(meeting)  # nobody holds it: claim it (or learn who did)
                    home = await self._node.directory.home_of(meeting.id)
            except DIRECTORY_ERRORS as exc:
                logger.warning("meeting %s: the directory is away (%s); link waits", meeting.id, exc)
                await asyncio.sleep(RETRY_S)
                continue
            if meeting.id in self._node.homes or home == self.node_id:
                return None
            if home is not None:
                return home
            await asyncio.sleep(RETRY_S)

    async def _link_to(self, meeting: LiveMeeting, home: str, state: LinkState) -> str:
        nodes = {node.id: node for node in await self._node.directory.nodes()}
        target = nodes.get(home)
        if target is None:
            return f"home node {home} is not in the directory"
        url = target.signaling_url + LINK_PATH.format(meeting_id=meeting.id)
        assert self._http is not None, "start() first"
        async with self._http.ws_connect(
                url, headers={"Authorization": node_authorization(self._secret, self.node_id)},
                heartbeat=WS_HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0)) as socket:
            logger.info("meeting %s: linked to home node %s", meeting.id, home)
            state.connected(time.time())
            meeting.room.detects_speaker = False
            session = self._sessions[state.name] = LinkSession(meeting.room, home, socket)
            try:
                return await session.run()
            finally:
                if self._sessions.get(state.name) is session:
                    del self._sessions[state.name]

    # -- the home end ---------------------------------------------------------------------

    async def accept(self, request: web.Request) -> web.StreamResponse:
        """GET /cluster/v1/meetings/{id}/link (websocket): another node links its meeting to us."""
        try:
            other = verify_node(self._secret, request.headers.get("Authorization"))
        except NodeTokenError as exc:
            return _refusal(401, "unauthenticated", str(exc))
        try:
            meeting_id = int(request.match_info["meeting_id"])
        except ValueError:
            return _refusal(404, "meeting_not_found", "no such meeting")
        if other == self.node_id:
            return _refusal(403, "forbidden", "a node does not link to itself")
        try:
            living = {node.id for node in await self._node.directory.nodes()}
        except DIRECTORY_ERRORS:
            return _refusal(503, "directory_away", "the directory (Redis) does not answer")
        if other not in living:
            return _refusal(403, "forbidden", f"node {other} is not a living node of this system")
        meeting = self._signaling.meetings.get(meeting_id)
        if meeting is None or meeting_id not in self._node.homes:
            return _refusal(409, "not_home", f"meeting {meeting_id} is not live with its home on this node")
        socket = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
        await socket.prepare(request)
        state = LinkState(meeting_id, other, "home", "connected", time.time())
        previous = self._sessions.pop(state.name, None)
        if previous is not None:  # the edge reconnected before we noticed the old link die
            await previous.close()
        session = self._sessions[state.name] = LinkSession(meeting.room, other, socket)
        self.links[state.name] = state
        logger.info("meeting %s: node %s linked", meeting_id, other)
        try:
            ended = await session.run()
            logger.info("meeting %s: link from node %s ended (%s)", meeting_id, other, ended)
        finally:
            if self._sessions.get(state.name) is session:
                del self._sessions[state.name]
                self.links.pop(state.name, None)
        return socket

    # -- counters ---------------------------------------------------------------------------

    async def sample(self) -> None:
        """Read every live link's counters once (the stats loop's step; tests call it too)."""
        now = time.time()
        for name, session in list(self._sessions.items()):
            state = self.links.get(name)
            if state is None or session.peer is None:
                continue
            state.sample(now, await sending_counters(session.peer), await session.receiver.counters())

    async def _tend_and_report(self) -> None:
        while True:
            try:
                await self._tend()
                await self.sample()
                await self._node.directory.put_links(self.node_id, {
                    name: json.dumps(state.as_dict(), ensure_ascii=False) for name, state in self.links.items()})
            except DIRECTORY_ERRORS as exc:
                logger.warning("node %s: link states not written (%s)", self.node_id, exc)
            except Exception:  # a counter read failing must not end the reporting
                logger.exception("node %s: link counters failed", self.node_id)
            await asyncio.sleep(self._node.settings.heartbeat_seconds)  # a sampling period, as the heartbeat

    # -- app life -----------------------------------------------------------------------------

    async def start(self, _app: web.Application | None = None) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_S))
        self._stats = asyncio.get_running_loop().create_task(self._tend_and_report(), name="cascade links")

    async def stop(self, _app: web.Application | None = None) -> None:
        tasks = [*self._edges.values(), *([self._stats] if self._stats else [])]
        self._edges.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for session in list(self._sessions.values()):
            await session.close()
        if self._http is not None:
            await self._http.close()
