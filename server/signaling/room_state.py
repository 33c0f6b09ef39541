"""One meeting's live session: who is in it, who waits in the lobby, lock, mutes, reconnects.

The SFU room carries the media; this object carries everything about people around it, tells the
clients (through its MessageSink: it never touches the transport) and writes the event log. It exists while anyone is in
the meeting or its lobby and is dropped when the last one goes.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from server.services.live_meeting import LiveFacts
from server.settings import SignalingSettings
from server.sfu import ProducerInfo, ProducerKind, Room, SubscribeOffer
from server.sfu.degradation import Episode
from server.sfu.peer import Peer
from server.signaling.admission import CHAIR
from server.signaling.auth import Identity
from server.signaling.errors import SignalingError
from server.signaling.events import MeetingLog
from server.signaling.resume import Grace, matches, new_secret
from server.signaling.serial import SerialQueue
from server.signaling.sink import MessageSink


def producer_payload(info: ProducerInfo) -> dict[str, Any]:
    return {"id": info.id, "participant_id": info.peer_id, "kind": info.kind,
            "mime_type": info.mime_type, "muted": info.muted}


def offer_payload(meeting_id: int, offer: SubscribeOffer) -> dict[str, Any]:
    return {"meeting_id": meeting_id, "sdp": offer.sdp,
            "tracks": {mid: producer_payload(info) for mid, info in offer.tracks.items()}}


@dataclass(eq=False)
class Participant:
    """A person in the meeting, connected or inside their reconnect grace period."""

    id: str
    identity: Identity
    capacity: str
    resume_digest: str
    sid: str | None
    peer: Peer
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    muted: set[str] = field(default_factory=set)
    """Kinds the chair muted; applied again if the participant republishes."""
    pending_offer: SubscribeOffer | None = None
    """The subscribe offer awaiting an answer, re-sent after a reconnect."""
    grace: Grace | None = None

    @property
    def user_id(self) -> int | None:
        return self.identity.user_id

    @property
    def paused(self) -> frozenset[ProducerKind]:
        """Kinds the participant switched off itself (camera off shows a name card, not black
        video): the SFU peer's state, which the recorder follows too."""
        return self.peer.paused

    @property
    def is_chair(self) -> bool:
        return self.capacity == CHAIR

    def public(self) -> dict[str, Any]:
        principal = self.identity.principal
        return {
            "id": self.id,
            "display_name": self.identity.display_name,
            "unit": self.identity.unit,
            "capacity": self.capacity,
            "user_id": self.user_id,
            "department_id": principal.department_id if principal else None,
            "post": principal.post if principal else None,
            "status": "connected" if self.sid is not None else "reconnecting",
            "muted": sorted(self.muted),
            "paused": sorted(self.paused),
        }


@dataclass(eq=False)
class RemoteParticipant:
    """Someone in the meeting served by another node of the cluster (server.cluster.feed learns of
    them from the meeting's log): shown in this node's roster, not served here. ``node`` and
    ``level`` say where they are ("" until the directory has been asked)."""

    id: str
    public_fields: dict[str, Any]
    joined_at: datetime
    user_id: int | None = None
    node: str = ""
    level: str = ""

    def public(self) -> dict[str, Any]:
        return {**self.public_fields, "node": self.node, "level": self.level}


class Acting(Protocol):
    """Who acts: a chair's participant here, or a chair on another node of the cluster
    (server.signaling.moderation.RemoteChair)."""

    @property
    def id(self) -> str: ...

    @property
    def user_id(self) -> int | None: ...


@dataclass(eq=False)
class LobbyEntry:
    """Someone signed in but not invited, waiting for the chair's decision."""

    id: str
    sid: str
    identity: Identity

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.identity.display_name,
                "unit": self.identity.unit, "user_id": self.identity.user_id}


class LiveMeeting:
    """The live state of one meeting; all changes go through its methods."""

    def __init__(self, facts: LiveFacts, room: Room, sink: MessageSink, log: MeetingLog,
                 settings: SignalingSettings, on_empty: Callable[[LiveMeeting], None]) -> None:
        self.id = facts.id
        self.facts = facts
        """Loaded once when the live meeting starts; replaced only when the meeting is changed."""
        self.room = room
        self.log = log
        self._sink = sink
        self._settings = settings
        self._on_empty = on_empty
        self.participants: dict[str, Participant] = {}
        self.lobby: dict[str, LobbyEntry] = {}
        self.admitted: set[str] = set()
        """Identity keys the chair admitted from the lobby (as observers)."""
        self.refused: dict[str, str] = {}
        """Identity key -> error code for people rejected from the lobby or removed."""
        self.locked = False
        self.remote: dict[str, RemoteParticipant] = {}
        """Participants served by other nodes of the cluster (empty on a single node)."""
        self.lobby_elsewhere: dict[str, dict[str, Any]] = {}
        """Lobby entries other nodes of the cluster hold (id -> public entry with its ``node``):
        shown to this node's chairs too, decided on the entry's node."""
        self.on_lobby: Callable[[LiveMeeting], None] | None = None
        """Told when this node's lobby changes (server.cluster shares it with the other nodes)."""
        self._quiet = False
        self._last_speaker: str | None = None
        self._outbox = SerialQueue(f"broadcasts of meeting {facts.id}")
        room.on("producer_added", self._producer_added)
        room.on("producer_removed", self._producer_removed)
        room.on("producer_muted", self._producer_muted)
        room.on("speaker_changed", self._speaker_changed)
        room.on("link_degraded", functools.partial(self._link_episode, degraded=True))
        room.on("link_recovered", functools.partial(self._link_episode, degraded=False))
        room.on("peer_failed", self._peer_failed)

    # -- telling clients ------------------------------------------------------

    def broadcast(self, event: str, data: dict[str, Any], skip_sid: str | None = None) -> None:
        """To every connected participant, in order with every other broadcast (nothing while
        ``quietly``)."""
        if self._quiet:
            return
        payload = {"meeting_id": self.id, **data}
        self._outbox.submit(lambda: self._sink.broadcast(event, payload, skip=skip_sid))

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Change the live state without broadcasting: for events another node of the cluster
        wrote, whose room broadcasts already reached every node's connections (socket.io's Redis
        manager shares the meeting's room). Only for synchronous work: nothing may await inside."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def tell(self, sid: str | None, event: str, data: dict[str, Any]) -> None:
        """To one connection, in order with the broadcasts."""
        if sid is None:
            return
        payload = {"meeting_id": self.id, **data}
        self._outbox.submit(lambda: self._sink.send(sid, event, payload))

    def lobby_public(self) -> list[dict[str, Any]]:
        """Everyone waiting for the chair: here, then on other nodes of the cluster."""
        return [entry.public() for entry in self.lobby.values()] + list(self.lobby_elsewhere.values())

    def lobby_told(self, elsewhere: dict[str, dict[str, Any]]) -> None:
        """Other nodes' lobby entries changed (server.cluster): this node's chairs are told."""
        if elsewhere != self.lobby_elsewhere:
            self.lobby_elsewhere = elsewhere
            self._tell_chairs()

    def _lobby_changed(self) -> None:
        self._tell_chairs()
        if self.on_lobby is not None:
            self.on_lobby(self)

    def _tell_chairs(self) -> None:
        entries = self.lobby_public()
        for participant in self.participants.values():
            if participant.is_chair:
                self.tell(participant.sid, "lobby_changed", {"lobby": entries})

    def later(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` once everything told so far has been sent (e.g. disconnect after telling)."""
        self._outbox.submit(job)

    async def flush(self) -> None:
        """Wait until queued broadcasts and event-log writes are done (tests, shutdown)."""
        await self._outbox.drain()
        await self.log.flush()

    # -- joining --------------------------------------------------------------

    def snapshot(self, participant: Participant) -> dict[str, Any]:
        """What a participant needs right after joining: everyone and everything already there."""
        state: dict[str, Any] = {
            "meeting": {"id": self.id, "title": self.facts.title, "locked": self.locked},
            "participant_id": participant.id,
            "capacity": participant.capacity,
            "participants": [p.public() for p in self.participants.values()]
                            + [r.public() for r in self.remote.values()],
            "producers": [producer_payload(info) for info in self.room.producers()],
            "speaker": self.room.speaker,
            "grace_seconds": self._settings.grace_seconds,
        }
        if participant.is_chair:
            state["lobby"] = self.lobby_public()
        return state

    def by_identity(self, key: str) -> Participant | None:
        return next((p for p in self.participants.values() if p.identity.key == key), None)

    async def join(self, sid: str, identity: Identity, capacity: str, via: str) -> tuple[Participant, str]:
        """Add a participant; returns it and its resume secret."""
        participant_id = secrets.token_hex(8)
        secret, kept = new_secret()
        peer = await self.room.join(participant_id, {"display_name": identity.display_name},
                                    self._offers_to(participant_id))
        participant = Participant(participant_id, identity, capacity, kept, sid, peer)
        self.participants[participant_id] = participant
        await self._sink.add(sid)
        principal = identity.principal
        self.log.write("participant_joined", identity.user_id, participant_id=participant_id,
                       user_id=identity.user_id, display_name=identity.display_name,
                       unit=identity.unit, capacity=capacity,
                       department_id=principal.department_id if principal else None,
                       post=principal.post if principal else None,
                       token_id=identity.token.token_id if identity.token else None, via=via)
        self.broadcast("participant_joined", {"participant": participant.public()}, skip_sid=sid)
        return participant, secret

    def _offers_to(self, participant_id: str) -> Callable[[SubscribeOffer], Awaitable[None]]:
        """The SFU's subscribe offers for a participant go to whatever connection it has now."""

        async def on_offer(offer: SubscribeOffer) -> None:
            participant = self.participants.get(participant_id)
            if participant is None:
                return
            participant.pending_offer = offer
            if participant.sid is not None:
                await self._sink.send(participant.sid, "subscribe_offer", offer_payload(self.id, offer))

        return on_offer

    def find_resumable(self, secret: str) -> Participant | None:
        return next((p for p in self.participants.values() if matches(p.resume_digest, secret)), None)

    async def resume(self, participant: Participant, sid: str, keep_media: bool) -> bool:
        """Bind a participant to a new connection; True if its media connections were kept.

        Media is kept when the client says its peer connections survived and the server's are
        not failed; otherwise the SFU peer is replaced (same id) and the client publishes anew and
        gets fresh subscribe offers for everything it received before.
        """
        old_sid = participant.sid
        if participant.grace is not None:
            participant.grace.cancel()
            participant.grace = None
        if old_sid is not None and old_sid != sid:
            await self._sink.remove(old_sid)
            self.tell(old_sid, "removed", {"reason": "resumed_elsewhere"})
        participant.sid = sid
        await self._sink.add(sid)
        kept = keep_media and _connections_alive(participant.peer)
        if kept:
            if participant.pending_offer is not None:
                await self._sink.send(sid, "subscribe_offer", offer_payload(self.id, participant.pending_offer))
        else:
            participant.pending_offer = None
            paused = participant.paused
            participant.peer = await self.room.join(participant.id, participant.peer.info,
                                                    self._offers_to(participant.id))
            for kind in paused:  # what its owner switched off stays off on the new connections
                participant.peer.set_paused(kind, True)
        self.broadcast("participant_reconnected", {"participant": participant.public()}, skip_sid=sid)
        return kept

    def dropped(self, participant: Participant, sid: str) -> None:
        """Connection ``sid`` is gone without a goodbye: start the participant's grace period
        (unless it already resumed on another connection)."""
        if participant.sid != sid:
            return
        participant.sid = None
        participant.grace = Grace(self._settings.grace_seconds, lambda: self._expire(participant))
        self.broadcast("participant_reconnecting", {"participant_id": participant.id})

    def _expire(self, participant: Participant) -> None:
        participant.grace = None
        if participant.sid is None and self.participants.get(participant.id) is participant:
            self._outbox.submit(lambda: self.leave(participant, "connection_lost"))

    async def leave(self, participant: Participant, reason: str, actor_id: int | None = None) -> None:
        """Take a participant out: media, channel, log, everyone told."""
        if self.participants.pop(participant.id, None) is None:
            return
        if participant.grace is not None:
            participant.grace.cancel()
            participant.grace = None
        if participant.sid is not None:
            await self._sink.remove(participant.sid)
        await self.room.leave(participant.id)
        duration = datetime.now(UTC) - participant.joined_at
        self.log.write("participant_left", actor_id if actor_id is not None else participant.user_id,
                       participant_id=participant.id, user_id=participant.user_id,
                       display_name=participant.identity.display_name, reason=reason,
                       duration_ms=int(duration.total_seconds() * 1000))
        self.broadcast("participant_left", {"participant_id": participant.id, "reason": reason})
        self.close_if_empty()

    def remote_lost(self, participant_id: str, reason: str) -> None:
        """A participant of another node that died without a goodbye (the home node writes this
        on their behalf, so that the record says they left and every node's roster drops them)."""
        remote = self.remote.pop(participant_id, None)
        if remote is None:
            return
        duration = datetime.now(UTC) - remote.joined_at
        self.log.write("participant_left", remote.user_id, participant_id=participant_id,
                       user_id=remote.user_id, display_name=remote.public_fields.get("display_name", ""),
                       reason=reason, duration_ms=max(0, int(duration.total_seconds() * 1000)))
        self.broadcast("participant_left", {"participant_id": participant_id, "reason": reason})

    def close_if_empty(self) -> None:
        if not self.participants and not self.lobby:
            self._on_empty(self)

    async def close(self) -> None:
        for participant in list(self.participants.values()):
            await self.leave(participant, "meeting_closed")
        await self._outbox.close()
        await self.log.close()

    # -- lobby ----------------------------------------------------------------

    def knock(self, sid: str, identity: Identity) -> LobbyEntry:
        entry = next((e for e in self.lobby.values() if e.identity.key == identity.key), None)
        if entry is not None:
            entry.sid = sid
        else:
            entry = LobbyEntry(secrets.token_hex(8), sid, identity)
            self.lobby[entry.id] = entry
        self._lobby_changed()
        return entry

    def leave_lobby(self, entry_id: str) -> None:
        if self.lobby.pop(entry_id, None) is not None:
            self._lobby_changed()
            self.close_if_empty()

    def decide(self, entry_id: str, admit: bool, chair: Acting) -> None:
        entry = self.lobby.pop(entry_id, None)
        if entry is None:
            raise SignalingError("unknown_lobby_entry")
        identity = entry.identity
        if admit:
            self.admitted.add(identity.key)
        else:
            self.refused[identity.key] = "lobby_rejected"
        self.log.write("lobby_admitted" if admit else "lobby_rejected", chair.user_id,
                       user_id=identity.user_id, display_name=identity.display_name, unit=identity.unit)
        self.tell(entry.sid, "lobby_admitted" if admit else "lobby_rejected", {})
        self._lobby_changed()

    # -- SFU callbacks (synchronous: queue, never wait) -------------------------

    def _producer_added(self, info: ProducerInfo) -> None:
        participant = self.participants.get(info.peer_id)
        if participant is None:
            return
        self.log.write("producer_published", participant.user_id, participant_id=info.peer_id,
                       producer_id=info.id, kind=info.kind, mime_type=info.mime_type)
        self.broadcast("producer_added", {"producer": producer_payload(info)})
        if info.kind in participant.muted:
            participant.peer.set_muted(info.kind, True)

    def _producer_removed(self, info: ProducerInfo) -> None:
        if info.origin is not None:
            return  # a track of another node (cascade): its own node logs and tells
        participant = self.participants.get(info.peer_id)
        self.log.write("producer_unpublished", participant.user_id if participant else None,
                       participant_id=info.peer_id, producer_id=info.id, kind=info.kind)
        self.broadcast("producer_removed", {"producer": producer_payload(info)})

    def _producer_muted(self, info: ProducerInfo) -> None:
        self.broadcast("producer_updated", {"producer": producer_payload(info)})

    def _speaker_changed(self, peer_id: str | None) -> None:
        """The room named a speaker: everyone is told, and the record gets who took the floor. On
        a cascade's home the room hears the other nodes' participants too (their audio comes over
        the links, and the edges leave detection to it), so someone another node serves is put on
        the record here, by their join as this node knows it (``remote``)."""
        self.broadcast("speaker_changed", {"participant_id": peer_id})
        if peer_id is None or peer_id == self._last_speaker:
            return
        participant, remote = self.participants.get(peer_id), self.remote.get(peer_id)
        if participant is not None:
            user_id, display_name = participant.user_id, participant.identity.display_name
        elif remote is not None:
            user_id, display_name = remote.user_id, str(remote.public_fields.get("display_name", ""))
        else:
            return
        self._last_speaker = peer_id
        self.log.write("speaking_started", user_id, participant_id=peer_id, user_id=user_id,
                       display_name=display_name)

    def _link_episode(self, episode: Episode, *, degraded: bool) -> None:
        """Sustained poor video at a site of this node, for the record (the system's, no actor);
        a cascade link's peer is no site."""
        participant = self.participants.get(episode.subscriber)
        if participant is None:
            return
        since = datetime.fromtimestamp(episode.since, UTC).isoformat()
        self.log.write("link_degraded" if degraded else "link_recovered", None,
                       participant_id=episode.subscriber, user_id=participant.user_id, since=since,
                       layer=episode.layer, wanted=episode.wanted, layers=episode.layers, reason=episode.reason)

    def _peer_failed(self, peer_id: str, reason: str) -> None:
        participant = self.participants.get(peer_id)
        if participant is not None and participant.sid is not None:
            self.tell(participant.sid, "media_failed", {"reason": reason})


def _connections_alive(peer: Peer) -> bool:
    connections = [peer.publish_connection, peer.subscribe_connection]
    return all(pc is None or pc.connectionState not in ("failed", "closed") for pc in connections)
