"""One meeting live on several nodes: each node's live state follows the events the others write.

Every node holding a meeting live has its own ``LiveMeeting`` (its participants, its review, its
live draft of the minutes), and every node writes the meeting's one log in the shared database.
Room broadcasts already reach every node's connections (socket.io's Redis manager); what does not
travel by itself is the *state*: an opinion given on the county's node must be in the province
node's review, its draft minutes and its roster too. So:

- after each commit that stored events, a node announces on Redis ("<ns>:feed") "meeting M has
  events up to seq N" (server.services.log_hub tells it, the room's own writes included);
- a node holding M live reads, from the database, the events after the last one it took (its
  cursor), in seq order, and hands each to the meeting as the log hub hands events written over
  HTTP (ReviewDesk.stored_elsewhere): the review, the draft and the facts follow. The writer's room
  broadcasts reached everyone already, so this is done quietly (``LiveMeeting.quietly``), unless
  the writer did not hold the meeting live (an act over HTTP on a node with nobody in it): then the
  meeting's home node tells the room, as the writer would have;
- events this node wrote itself are recognised and not taken twice: the room's own are noted as
  they are written (the log's listeners), the ones written over HTTP here are taken by the hub and
  waited for while it has not told them (``LogHub.pending``);
- an announcement is only a wake-up: a lost one (Redis restarting, a dropped subscription) is
  healed by the next one or by the heartbeat, which reads every live meeting's log from its cursor.

Participants of other nodes enter this node's roster (``LiveMeeting.remote``) from the
ParticipantJoined and ParticipantLeft events read here; the heartbeat names their node and level
from the directory (server.cluster.node). The chair's acts on the room that are on the record hold
on every node from their events (``door``): a lock or unlock, a removal (the person cannot come
back through another node) and a lobby decision (the person admitted may join through any node).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from record.events import (
    InvitationExcused,
    LobbyAdmitted,
    LobbyRejected,
    Logged,
    MeetingLocked,
    MeetingUnlocked,
    MeetingUpdated,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantRemoved,
    payload_of,
)
from server.services.eventlog import logged as logged_row, read_events
from server.services.log_hub import LogHub
from server.signaling.room_state import LiveMeeting, RemoteParticipant
from server.signaling.server import Signaling

logger = logging.getLogger(__name__)

FEED_ERRORS = (RedisError, SQLAlchemyError, OSError)
"""Redis or the database away (refused connections arrive as OSError): logged, healed later."""
REDIS_RETRY_S = 1.0
"""Pause before subscribing again after Redis went away (a restart takes about a second)."""
PAGE = 200
"""Events read per query while catching up."""

PUBLIC = ("display_name", "unit", "capacity", "user_id", "department_id", "post")
"""What a roster entry (Participant.public) shows of someone on another node, from their join."""

Key = tuple[datetime, str, int | None, str]
"""An event as both the writer's memory and the database know it: when, what, by whom, and its
payload (an event is stamped to the microsecond as it happens, and stored with that stamp)."""


def key_of(logged: Logged) -> Key:
    return (logged.ts, logged.event.type, logged.actor_id,
            json.dumps(payload_of(logged.event), sort_keys=True, default=str, ensure_ascii=False))


@dataclass(eq=False)
class Followed:
    """What this node has taken of one live meeting's log."""

    meeting: LiveMeeting
    cursor: int
    """Every event up to this seq is in the live state (read here, or written here)."""
    own: set[Key] = field(default_factory=set)
    """Events this node's live meeting took as they were written and the feed has not yet met."""
    loud_until: int = 0
    """Events up to this seq were written by a node that did not hold the meeting live: this node
    (its home) tells the room as it takes them."""
    feeding: bool = False
    held_up: bool = False
    """The last catch-up stopped at an event this process stored and its log hub has not told yet."""


def first_gap(log: Iterable[Logged]) -> int:
    """The highest seq n such that events 1..n are all in ``log`` (a review loaded from the stored
    log and then given later events out of order must be read again from the first gap)."""
    seqs = {logged.seq for logged in log if logged.seq is not None}
    cursor = 0
    while cursor + 1 in seqs:
        cursor += 1
    return cursor


def remote_participant(logged: Logged, event: ParticipantJoined, node: str = "",
                       level: str = "") -> RemoteParticipant:
    """A roster entry for someone another node serves, from their join on the record."""
    fields = payload_of(event)
    return RemoteParticipant(event.participant_id,
                             {"id": event.participant_id, **{name: fields.get(name) for name in PUBLIC},
                              "status": "connected", "muted": [], "paused": []},
                             joined_at=logged.ts, user_id=event.user_id, node=node, level=level)


class LiveFeed:
    """Announces this node's stored events, and takes the other nodes' into its live meetings."""

    def __init__(self, node_id: str, namespace: str, redis: Redis, signaling: Signaling, hub: LogHub,
                 is_home: Callable[[int], bool]) -> None:
        self.node_id = node_id
        self.channel = f"{namespace}:feed"
        self._redis = redis
        self._signaling = signaling
        self._hub = hub
        self._is_home = is_home
        """Whether this node is the meeting's home now."""
        self.followed: dict[int, Followed] = {}
        self._outgoing: dict[int, int] = {}
        self._dirty: set[int] = set()
        self._publish_wake = asyncio.Event()
        self._apply_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        hub.follow_seqs(self._stored)

    # -- the meetings followed ---------------------------------------------------------

    def follow(self, meeting: LiveMeeting) -> bool:
        """Start taking other nodes' events into ``meeting`` (after its first join here); False if
        it is followed already. Its review holds the stored log as loaded plus everything told
        since: the cursor is the end of the unbroken run of stored events in it, and the rest is
        this node's own."""
        followed = self.followed.get(meeting.id)
        if followed is not None and followed.meeting is meeting:
            return False
        log = self._signaling.review.review(meeting).log
        cursor = first_gap(log)
        followed = Followed(meeting, cursor, {key_of(item) for item in log
                                             if item.seq is None or item.seq > cursor})
        self.followed[meeting.id] = followed

        def note(logged: Logged) -> None:
            if not followed.feeding:
                followed.own.add(key_of(logged))

        meeting.log.listen(note)
        self.wake(meeting.id)
        return True

    def unfollow(self, meeting: LiveMeeting) -> None:
        followed = self.followed.get(meeting.id)
        if followed is not None and followed.meeting is meeting:
            del self.followed[meeting.id]

    def wake(self, *meeting_ids: int) -> None:
        """Read these meetings' logs from their cursors (all followed ones when none is named)."""
        self._dirty.update(meeting_ids or self.followed)
        self._apply_wake.set()

    # -- announcing ----------------------------------------------------------------------

    def _stored(self, highest: dict[int, int]) -> None:
        for meeting_id, seq in highest.items():
            self._outgoing[meeting_id] = max(self._outgoing.get(meeting_id, 0), seq)
        self._publish_wake.set()
        held_up = [m for m in highest if m in self.followed and self.followed[m].held_up]
        if held_up:  # the catch-up waited for these (LogHub.pending): it goes on now
            self.wake(*held_up)

    async def _announce(self) -> None:
        while True:
            await self._publish_wake.wait()
            self._publish_wake.clear()
            outgoing, self._outgoing = self._outgoing, {}
            for meeting_id, seq in sorted(outgoing.items()):
                message = {"node": self.node_id, "meeting_id": meeting_id, "seq": seq,
                           "live": meeting_id in self._signaling.meetings}
                try:
                    await self._redis.publish(self.channel, json.dumps(message))
                except FEED_ERRORS as exc:  # the other nodes' heartbeats read it from the database
                    logger.warning("meeting %s: seq %s not announced (%s)", meeting_id, seq, exc)

    # -- listening -------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.wake()  # what was announced while not subscribed
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._heard(message["data"])
            except FEED_ERRORS as exc:
                logger.warning("node %s: the feed's subscription dropped (%s); subscribing again",
                               self.node_id, exc)
                await asyncio.sleep(REDIS_RETRY_S)  # a pause between attempts, not a synchronisation
            finally:
                await pubsub.aclose()

    def _heard(self, data: str | bytes) -> None:
        try:
            message = json.loads(data)
            sender, meeting_id, seq = str(message["node"]), int(message["meeting_id"]), int(message["seq"])
            live = bool(message.get("live", True))
        except (ValueError, KeyError, TypeError):
            logger.warning("node %s: an unreadable feed message: %r", self.node_id, data)
            return
        followed = self.followed.get(meeting_id)
        if sender == self.node_id or followed is None:
            return
        if not live and self._is_home(meeting_id):
            followed.loud_until = max(followed.loud_until, seq)
        if seq > followed.cursor:
            self.wake(meeting_id)

    # -- taking events ---------------------------------------------------------------------

    async def _apply(self) -> None:
        while True:
            await self._apply_wake.wait()
            self._apply_wake.clear()
            while self._dirty:
                meeting_id = min(self._dirty)
                self._dirty.discard(meeting_id)
                try:
                    await self.catch_up(meeting_id)
                except FEED_ERRORS as exc:  # the database is away: the next heartbeat tries again
                    logger.warning("meeting %s: the log could not be read (%s)", meeting_id, exc)
                except Exception:  # a bug on one meeting's event must not stop the others' feed
                    logger.exception("meeting %s: taking the other nodes' events failed", meeting_id)

    async def catch_up(self, meeting_id: int) -> None:
        """Take every event after the cursor into the live meeting, in seq order."""
        while True:
            followed = self.followed.get(meeting_id)
            if followed is None or self._signaling.meetings.get(meeting_id) is not followed.meeting:
                return
            async with self._signaling.context.sessions() as db:
                rows = await read_events(db, meeting_id, followed.cursor, limit=PAGE)
            if self.followed.get(meeting_id) is not followed:
                return
            refresh = False
            for row in rows:
                if row.seq != followed.cursor + 1:  # a writer's transaction not committed yet: later
                    return
                followed.held_up = (meeting_id, row.seq) in self._hub.pending
                if followed.held_up:  # ours, the hub has not told it yet: its telling wakes us
                    return
                logged = logged_row(row)
                self._take(followed, logged)
                followed.cursor = row.seq
                refresh |= isinstance(logged.event, MeetingUpdated | InvitationExcused)
            if refresh:  # who may join, the agenda: as the writer's node reads it now
                await self._signaling.facts_changed(meeting_id)
            if len(rows) < PAGE:
                return

    def _take(self, followed: Followed, logged: Logged) -> None:
        key = key_of(logged)
        if key in followed.own:
            followed.own.discard(key)
            return
        meeting = followed.meeting
        followed.feeding = True
        try:
            if logged.seq is not None and logged.seq <= followed.loud_until:
                self._signaling.review.stored_elsewhere(meeting, logged)
            else:
                with meeting.quietly():
                    self._signaling.review.stored_elsewhere(meeting, logged)
        finally:
            followed.feeding = False
        event = logged.event
        if isinstance(event, ParticipantJoined) and event.participant_id not in meeting.participants:
            meeting.remote[event.participant_id] = remote_participant(logged, event)
        elif isinstance(event, ParticipantLeft):
            meeting.remote.pop(event.participant_id, None)
        door(meeting, event, self._signaling.review.review(meeting).log)

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._announce(), name="cluster feed: announce"),
                       loop.create_task(self._listen(), name="cluster feed: listen"),
                       loop.create_task(self._apply(), name="cluster feed: apply")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


def door(meeting: LiveMeeting, event: object, log: Iterable[Logged]) -> None:
    """Who may come in, after another node's chair locked, removed or decided on the lobby."""
    if isinstance(event, MeetingLocked | MeetingUnlocked):
        meeting.locked = isinstance(event, MeetingLocked)
    elif isinstance(event, ParticipantRemoved):
        key = identity_key(event.user_id, event.participant_id, log)
        if key is not None:
            meeting.refused[key] = "removed"
    elif isinstance(event, LobbyAdmitted | LobbyRejected) and event.user_id is not None:
        key = f"user:{event.user_id}"
        if isinstance(event, LobbyAdmitted):
            meeting.admitted.add(key)
        else:
            meeting.refused[key] = "lobby_rejected"


def identity_key(user_id: int | None, participant_id: str, log: Iterable[Logged]) -> str | None:
    """The person's identity key (server.signaling.auth): their account, or the join link they
    came by (from their join on the record)."""
    if user_id is not None:
        return f"user:{user_id}"
    token_id = next((logged.event.token_id for logged in log if isinstance(logged.event, ParticipantJoined)
                     and logged.event.participant_id == participant_id), None)
    return f"token:{token_id}" if token_id is not None else None


def locked_now(log: Iterable[Logged], since: datetime) -> bool:
    """Whether the room is locked, for a node joining a session that began at ``since``: the
    last lock or unlock of this session (a new session starts unlocked, as on one node)."""
    locked = False
    for logged in log:
        if isinstance(logged.event, MeetingLocked | MeetingUnlocked) and logged.ts >= since:
            locked = isinstance(logged.event, MeetingLocked)
    return locked
