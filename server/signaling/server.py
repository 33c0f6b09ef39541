"""The socket.io signaling server: connections, event dispatch, and the meetings they join.

One ``Signaling`` per app. Every client event passes the same gate, in order: the connection's event
budget (rate limit), the payload size, a known event name, a strictly validated payload, and then
the handler, which may refuse with a SignalingError. Whatever is refused is answered with an
``error`` event (and in the ack), logged, and touches nothing else in the meeting.

Handlers run one at a time per connection (``async_handlers=False``): signaling is a conversation
(publish before its ICE candidates, an answer after its offer) and must not be reordered.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import socketio
from aiohttp import web
from aiortc.exceptions import InvalidStateError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from record.events import Logged, MeetingStatusChanged
from server.context import AppContext
from server.services.live_meeting import LiveFacts, load_live_facts
from server.sfu import Sfu
from server.signaling import messages, sdp, tokens
from server.signaling.admission import CHAIR, OBSERVER, OPEN_STATUSES, invited_capacity
from server.signaling.auth import Identity, authenticate
from server.signaling.connection import Connection, Handlers
from server.signaling.errors import SignalingError
from server.signaling.events import MeetingLog
from server.signaling.frame_limit import answer_oversized
from server.signaling.ice import IceServerEntry, client_ice_servers, parse_entries, sfu_settings
from server.signaling.moderation import Action, Relayable, RemoteChair, apply_here, elsewhere, moderate, require_chair
from server.signaling.origin import same_origin
from server.signaling.packets import UNDECODABLE, TolerantPacket
from server.signaling.ratelimit import EventBudget, Verdict
from server.signaling.redis_manager import RedisManager
from server.signaling.review_handlers import ReviewDesk
from server.signaling.room_state import LiveMeeting, Participant, producer_payload
from server.signaling.sio_sink import SocketIoSink
from server.signaling.spool import EventSpool

logger = logging.getLogger(__name__)

SOCKETIO_PATH = "/socket.io/"
PUBLISH_TIMEOUT_S = 10.0
UNDECODABLE_MESSAGE = ("事件数据无法解码：须为 [事件名, 数据]，且嵌套不能过深 / the packet cannot be decoded: "
                       "send [event name, payload], not nested too deeply")


MeetingHook = Callable[[LiveMeeting], Awaitable[None]]
JoinRouter = Callable[[Identity, int], Awaitable[dict[str, Any] | None]]
RemoteModeration = Callable[[LiveMeeting, Participant, Relayable], Awaitable[dict[str, Any]]]


@dataclass
class MeetingHooks:
    """What the application adds to a live meeting's life without signaling knowing about it
    (the composition root hooks recording in here: server.live_recording)."""

    joined: list[MeetingHook] = field(default_factory=list)
    """Awaited after each join has been admitted (before the join is answered)."""
    closing: list[MeetingHook] = field(default_factory=list)
    """Awaited when a live meeting closes (emptied, or the server shuts down), before it does."""
    route: JoinRouter | None = None
    """Asked before a new join is admitted: a join answer sending the person to another node
    (server.cluster), or None to serve them here."""
    moderate_elsewhere: RemoteModeration | None = None
    """A chair's act on someone another node serves (a participant in ``LiveMeeting.remote``, an
    entry of ``LiveMeeting.lobby_elsewhere``): sent to that node (server.cluster.control); its
    answer is the chair's ack."""


class Signaling:
    """Socket.io events in, SFU actions and meeting state changes out."""

    def __init__(self, context: AppContext, sfu: Sfu, ice_entries: tuple[IceServerEntry, ...]) -> None:
        self.context = context
        self.settings = context.settings.signaling
        self.sfu = sfu
        self._ice_entries = ice_entries
        self.spool = EventSpool(context.settings.data_dir / "eventlog-spool")
        node = context.settings.node
        self.redis_manager = RedisManager(node.redis_url, f"{node.namespace}:socketio") if node.clustered else None
        """Several nodes: room broadcasts and emits to a connection cross nodes through Redis."""
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            async_handlers=False,
            cors_allowed_origins=same_origin,  # also under the server's own TLS (origin.py)
            ping_interval=self.settings.ping_interval_seconds,
            ping_timeout=self.settings.ping_timeout_seconds,
            # Moderately oversized events reach the size check and get an error event; beyond
            # this the transport closes the connection before anything is parsed, once it has
            # said why (frame_limit: a refused connect or an error event, both too_large).
            max_http_buffer_size=self.settings.max_event_bytes * 4,
            logger=False,
            engineio_logger=False,
            serializer=TolerantPacket,  # undecodable packets are refused, not silently dropped
            client_manager=self.redis_manager,
        )
        answer_oversized(self.sio)
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("*", self._event)
        self.connections: dict[str, Connection] = {}
        self.meetings: dict[int, LiveMeeting] = {}
        self.hooks = MeetingHooks()
        self._closing: dict[int, asyncio.Task[None]] = {}
        self._loading: dict[int, list[Logged]] = {}
        """Meetings being loaded -> the events committed outside the room meanwhile."""
        self._handlers: Handlers = {
            "join": (TypeAdapter(messages.Join), self._join),
            "leave": (TypeAdapter(messages.Leave), self._leave),
            "publish": (TypeAdapter(messages.Publish), self._publish),
            "unpublish": (TypeAdapter(messages.Unpublish), self._unpublish),
            "pause": (TypeAdapter(messages.Pause), self._pause),
            "layer_hint": (TypeAdapter(messages.LayerHint), self._layer_hint),
            "subscribe_answer": (TypeAdapter(messages.SubscribeAnswer), self._subscribe_answer),
            "ice_candidate": (TypeAdapter(messages.IceCandidate), self._ice_candidate),
            "moderate": (messages.MODERATION, self._moderate),
        }
        self.review = ReviewDesk(context.sessions, self.joined, context.settings)
        self.add_handlers(self.review.handlers())
        context.log_hub.follow(self._stored_elsewhere)

    def add_handlers(self, handlers: Handlers) -> None:
        """More client events (event name -> payload adapter, handler), through the same gate."""
        clash = set(handlers) & set(self._handlers)
        if clash:
            raise ValueError(f"events handled twice: {sorted(clash)}")
        self._handlers.update(handlers)

    def payload_schemas(self) -> dict[str, dict[str, Any]]:
        """Each client event's payload as JSON schema (what the hostile-input suite generates from)."""
        return {event: adapter.json_schema() for event, (adapter, _handler) in self._handlers.items()}

    # -- connection life ------------------------------------------------------

    async def _connect(self, sid: str, environ: Any = None, auth: Any = None,
                       *extra: Any) -> dict[str, Any] | None:
        if sid in self.connections or not isinstance(environ, dict) or "aiohttp.request" not in environ:
            # a connected client sent an ordinary event named "connect": refuse it like any other
            return await self._event("connect", sid, *(a for a in (environ, auth, *extra) if a is not None))
        try:
            if auth == UNDECODABLE:
                raise SignalingError("invalid_payload", UNDECODABLE_MESSAGE)
            credentials = await authenticate(self.context, environ, auth)
        except SignalingError as refusal:
            remote = environ["aiohttp.request"].remote
            logger.warning("socket.io connection from %s refused: %s", remote, refusal.code)
            # socket.io clients see {"message": ..., "data": {"code", "message"}} in connect_error
            raise socketio.exceptions.ConnectionRefusedError(refusal.message, refusal.payload()) from None
        except Exception:  # python-socketio would drop the connect unanswered: the client would hang
            logger.exception("socket.io connection from %s failed", environ["aiohttp.request"].remote)
            failure = SignalingError("internal")
            raise socketio.exceptions.ConnectionRefusedError(failure.message, failure.payload()) from None
        budget = EventBudget(self.settings.rate_events_per_second, self.settings.rate_burst,
                             self.settings.flood_disconnect_after)
        self.connections[sid] = Connection(sid, credentials, budget)
        return None

    async def _disconnect(self, sid: str, reason: Any = None, *extra: Any) -> dict[str, Any] | None:
        if self.sio.manager.is_connected(sid, "/"):
            # still connected: a client sent an ordinary event named "disconnect"
            return await self._event("disconnect", sid, *(a for a in (reason, *extra) if a is not None))
        connection = self.connections.pop(sid, None)
        if connection is None:
            return None
        meeting, participant = connection.meeting, connection.participant
        if meeting is not None and connection.lobby_id is not None:
            meeting.leave_lobby(connection.lobby_id)
        if meeting is not None and participant is not None:
            if reason == self.sio.reason.CLIENT_DISCONNECT:
                await meeting.leave(participant, "left")
            else:
                logger.info("meeting %s: %s dropped (%s), grace %ss", meeting.id, connection.describe(),
                            reason, self.settings.grace_seconds)
                meeting.dropped(participant, sid)
        return None

    async def _close(self, sid: str | None, code: str) -> None:
        """Detach a connection from its meeting and close it (removed, replaced, flooding)."""
        connection = self.connections.pop(sid, None) if sid is not None else None
        if connection is None:
            return
        if connection.meeting is not None and connection.lobby_id is not None:
            connection.meeting.leave_lobby(connection.lobby_id)
        logger.info("closing %s: %s", connection.describe(), code)
        await self.sio.disconnect(connection.sid)

    # -- the gate every event passes ------------------------------------------

    async def _event(self, event: str, sid: str, *args: Any) -> dict[str, Any] | None:
        connection = self.connections.get(sid)
        if connection is None:
            return None
        verdict = connection.budget.take()
        if verdict is Verdict.DROP:
            return {"ok": False, "error": SignalingError("rate_limited").payload(event)}
        try:
            if verdict is Verdict.DISCONNECT:
                await self._refuse(connection, event, SignalingError("flood"))
                await self._drop_flooder(connection)
                return None
            if verdict is Verdict.REFUSE:
                raise SignalingError("rate_limited")
            if event == UNDECODABLE:
                raise SignalingError("invalid_payload", UNDECODABLE_MESSAGE)
            data = self._payload(args)
            entry = self._handlers.get(event)
            if entry is None:
                raise SignalingError("unknown_event")
            adapter, handler = entry
            try:
                message = adapter.validate_python(data)
            except ValidationError as exc:
                fields = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                          for e in exc.errors(include_url=False)]
                raise SignalingError("invalid_payload", fields=fields) from None
            return {"ok": True, **await handler(connection, message)}
        except SignalingError as refusal:
            return await self._refuse(connection, event, refusal)
        except Exception:
            logger.exception("%s: event %r failed", connection.describe(), event)
            return await self._refuse(connection, event, SignalingError("internal"))

    def _payload(self, args: tuple[Any, ...]) -> dict[str, Any]:
        if len(args) != 1 or not isinstance(args[0], dict):
            raise SignalingError("invalid_payload", "事件数据须为一个 JSON 对象 / the payload must be one JSON object")
        try:
            size = len(json.dumps(args[0], ensure_ascii=False, separators=(",", ":")).encode())
        except (TypeError, ValueError, RecursionError):  # bytes, or nested past the encoder's recursion
            raise SignalingError("invalid_payload", "事件数据须为 JSON / the payload must be JSON") from None
        if size > self.settings.max_event_bytes:
            raise SignalingError("too_large", size=size, limit=self.settings.max_event_bytes)
        return args[0]

    async def _refuse(self, connection: Connection, event: str, refusal: SignalingError) -> dict[str, Any]:
        logger.warning("%s: %s refused: %s %s", connection.describe(), event, refusal.code,
                       refusal.details or "")
        body = refusal.payload(event)
        await self.sio.emit("error", body, to=connection.sid)
        return {"ok": False, "error": body}

    async def _drop_flooder(self, connection: Connection) -> None:
        if connection.meeting is not None and connection.participant is not None:
            await connection.meeting.leave(connection.participant, "flood")
            connection.participant = None
        await self._close(connection.sid, "flood")

    # -- meetings -------------------------------------------------------------

    async def _live(self, meeting_id: int, create: bool) -> LiveMeeting | None:
        closing = self._closing.get(meeting_id)
        if closing is not None:
            await asyncio.shield(closing)
        meeting = self.meetings.get(meeting_id)
        if meeting is not None or not create:
            return meeting
        caught = self._loading.setdefault(meeting_id, [])
        try:
            async with self.context.sessions() as db:
                facts = await load_live_facts(db, meeting_id)
            if facts is None:
                raise SignalingError("meeting_not_found")
            review = await self.review.load(facts)  # before the log exists: the room writes nothing meanwhile
        finally:
            if self._loading.get(meeting_id) is caught:
                del self._loading[meeting_id]
        meeting = self.meetings.get(meeting_id)  # another join may have created it meanwhile
        if meeting is None:
            meeting = self.meetings[meeting_id] = LiveMeeting(
                facts, self.sfu.room(str(meeting_id)), SocketIoSink(self.sio, f"meeting:{meeting_id}"),
                MeetingLog(self.context.sessions, meeting_id, self.spool), self.settings, self._empty)
            self.review.attach(meeting, review)
            created = meeting  # the closure's own name: ``meeting`` is Optional to the type checker
            meeting.log.listen(lambda logged: self._status_logged(created, logged))
            loaded = (review.log[-1].seq or 0) if review.log else 0
            for logged in caught:  # committed while loading, after the log was read
                if (logged.seq or 0) > loaded:
                    self.review.stored_elsewhere(meeting, logged)
        return meeting

    def _stored_elsewhere(self, meeting_id: int, logged: Logged) -> None:
        """An event of a meeting was committed outside the room (services.log_hub): a live meeting
        takes it like one of its own and its room is told; one being loaded takes it once loaded."""
        meeting = self.meetings.get(meeting_id)
        if meeting is not None:
            self.review.stored_elsewhere(meeting, logged)
        elif meeting_id in self._loading:
            self._loading[meeting_id].append(logged)

    async def facts_changed(self, meeting_id: int, db: AsyncSession | None = None) -> None:
        """The meeting was changed outside the room (its status, plan or invitations): if it is
        live, it reads its facts again, through ``db`` if given (the session that made the change
        sees it before it is committed). With a status change on the record (``_status_logged``),
        this is the only time a live meeting's facts change after it starts."""
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return
        if db is None:
            async with self.context.sessions() as own:
                facts = await load_live_facts(own, meeting_id)
        else:
            facts = await load_live_facts(db, meeting_id)
        if facts is not None:
            self._refresh(meeting, facts)

    def _status_logged(self, meeting: LiveMeeting, logged: Logged) -> None:
        """The meeting's status changed on the record (the chair in the room, or the minutes drafted
        when it ended): the live meeting's facts follow it (no reading of the database)."""
        if isinstance(logged.event, MeetingStatusChanged):
            self._refresh(meeting, replace(meeting.facts, status=logged.event.to.value))

    def _refresh(self, meeting: LiveMeeting, facts: LiveFacts) -> None:
        meeting.facts = facts
        self.review.refresh(meeting, facts)

    def _empty(self, meeting: LiveMeeting) -> None:
        if self.meetings.get(meeting.id) is not meeting:
            return
        del self.meetings[meeting.id]

        async def close() -> None:
            try:
                for hook in self.hooks.closing:
                    await hook(meeting)
                await meeting.close()
                await self.sfu.close_room(str(meeting.id))
            finally:
                del self._closing[meeting.id]

        self._closing[meeting.id] = asyncio.get_running_loop().create_task(close())

    def joined(self, connection: Connection, meeting_id: int) -> tuple[LiveMeeting, Participant]:
        """The meeting and participant of a connection that joined ``meeting_id``, or a refusal."""
        if connection.meeting is None or connection.participant is None:
            raise SignalingError("not_joined")
        if connection.meeting.id != meeting_id:
            logger.warning("%s, in meeting %s, acted on meeting %s", connection.describe(),
                           connection.meeting.id, meeting_id)
            raise SignalingError("wrong_meeting")
        return connection.meeting, connection.participant

    # -- handlers -------------------------------------------------------------

    async def _join(self, connection: Connection, message: messages.Join) -> dict[str, Any]:
        if connection.participant is not None:
            raise SignalingError("already_joined")
        if message.resume is not None:
            return await self._resume(connection, message)
        identity = connection.credentials.identity
        if identity is None:
            raise SignalingError("unauthenticated")
        if identity.token is not None and identity.token.meeting_id != message.meeting_id:
            raise SignalingError("token_wrong_meeting")
        if self.hooks.route is not None:
            elsewhere = await self.hooks.route(identity, message.meeting_id)
            if elsewhere is not None:
                return elsewhere
        meeting = await self._live(message.meeting_id, create=True)
        assert meeting is not None
        try:
            facts = meeting.facts
            if facts.status not in OPEN_STATUSES:
                raise SignalingError("meeting_not_open")
            if identity.key in meeting.refused:
                raise SignalingError(meeting.refused[identity.key])
            present = meeting.by_identity(identity.key)
            capacity, via = invited_capacity(facts, identity), "token" if identity.token else "session"
            if capacity is None and identity.key in meeting.admitted:
                capacity, via = OBSERVER, "lobby"
            if meeting.locked and capacity != CHAIR and via != "lobby" and present is None:
                raise SignalingError("meeting_locked")
            if capacity is None:
                entry = meeting.knock(connection.sid, identity)
                connection.meeting, connection.lobby_id = meeting, entry.id
                return {"status": "lobby", "meeting_id": meeting.id, "lobby_id": entry.id}
            if identity.token is not None:
                async with self.context.sessions() as db:
                    await tokens.consume(db, identity.token)
                    await db.commit()
            if present is not None:
                meeting.tell(present.sid, "removed", {"reason": "joined_elsewhere"})
                old_sid = present.sid
                await meeting.leave(present, "replaced")
                meeting.later(lambda: self._close(old_sid, "replaced"))
            if connection.lobby_id is not None:
                meeting.lobby.pop(connection.lobby_id, None)
                connection.lobby_id = None
            participant, secret = await meeting.join(connection.sid, identity, capacity, via)
        finally:
            meeting.close_if_empty()
        connection.meeting, connection.participant = meeting, participant
        logger.info("meeting %s: %s joined as %s (%s)", meeting.id, connection.describe(), capacity,
                    participant.id)
        for hook in self.hooks.joined:
            await hook(meeting)
        return {"status": "joined", "resume_secret": secret, "resumed": False,
                "ice_servers": client_ice_servers(self._ice_entries, participant.id),
                **meeting.snapshot(participant), "review": await self.review.snapshot(meeting)}

    async def _resume(self, connection: Connection, message: messages.Join) -> dict[str, Any]:
        assert message.resume is not None
        meeting = await self._live(message.meeting_id, create=False)
        participant = meeting.find_resumable(message.resume) if meeting is not None else None
        identity = connection.credentials.identity
        if meeting is None or participant is None or (
                identity is not None and identity.key != participant.identity.key):
            raise SignalingError("bad_resume")
        old_sid = participant.sid
        kept = await meeting.resume(participant, connection.sid, message.keep_media)
        if old_sid is not None and old_sid != connection.sid:
            old = self.connections.get(old_sid)
            if old is not None:
                old.participant = None
            meeting.later(lambda: self._close(old_sid, "resumed elsewhere"))
        connection.meeting, connection.participant = meeting, participant
        logger.info("meeting %s: %s resumed %s (media %s)", meeting.id, connection.describe(),
                    participant.id, "kept" if kept else "restarted")
        return {"status": "joined", "resume_secret": message.resume, "resumed": True,
                "media_kept": kept, "ice_servers": client_ice_servers(self._ice_entries, participant.id),
                **meeting.snapshot(participant), "review": await self.review.snapshot(meeting)}

    async def _leave(self, connection: Connection, message: messages.Leave) -> dict[str, Any]:
        meeting, participant = self.joined(connection, message.meeting_id)
        connection.participant = None
        await meeting.leave(participant, "left")
        return {}

    async def _publish(self, connection: Connection, message: messages.Publish) -> dict[str, Any]:
        _meeting, participant = self.joined(connection, message.meeting_id)
        sdp.check(message.sdp, offer=True)
        try:
            answer = await asyncio.wait_for(
                participant.peer.publish(message.sdp, dict(message.sources) or None), PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - aiortc raises many types for hostile SDP
            raise SignalingError("bad_sdp", reason=f"{type(exc).__name__}: {exc}"[:300]) from None
        return {"sdp": answer,
                "producers": [producer_payload(p.info) for p in participant.peer.producers.values()]}

    async def _unpublish(self, connection: Connection, message: messages.Unpublish) -> dict[str, Any]:
        _meeting, participant = self.joined(connection, message.meeting_id)
        await participant.peer.stop_producer(message.kind)
        return {}

    async def _pause(self, connection: Connection, message: messages.Pause) -> dict[str, Any]:
        """Camera or microphone switched off by its owner: a state everyone shows, not black video
        or silence they have to guess about (the client also stops the track sending content)."""
        meeting, participant = self.joined(connection, message.meeting_id)
        if (message.kind in participant.paused) != message.paused:
            participant.peer.set_paused(message.kind, message.paused)  # the SFU tells the recorder
            meeting.log.write("participant_paused" if message.paused else "participant_resumed",
                              participant.user_id, participant_id=participant.id,
                              user_id=participant.user_id, kind=message.kind)
            meeting.broadcast("participant_updated", {"participant": participant.public()})
        return {}

    async def _layer_hint(self, connection: Connection, message: messages.LayerHint) -> dict[str, Any]:
        """A tile's size changed, or it was hidden: the SFU sends that video's fitting simulcast layer
        (only to this participant: it can only name what it receives itself)."""
        _meeting, participant = self.joined(connection, message.meeting_id)
        if not participant.peer.set_view(message.producer_id, message.width, message.height, message.visible):
            raise SignalingError("unknown_producer", producer_id=message.producer_id)
        return {}

    async def _subscribe_answer(self, connection: Connection,
                                message: messages.SubscribeAnswer) -> dict[str, Any]:
        _meeting, participant = self.joined(connection, message.meeting_id)
        sdp.check(message.sdp, offer=False)
        try:
            await participant.peer.subscribe_answer(message.sdp)
        except InvalidStateError as exc:
            raise SignalingError("bad_state", reason=str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - as for publish
            raise SignalingError("bad_sdp", reason=f"{type(exc).__name__}: {exc}"[:300]) from None
        participant.pending_offer = None
        return {}

    async def _ice_candidate(self, connection: Connection,
                             message: messages.IceCandidate) -> dict[str, Any]:
        _meeting, participant = self.joined(connection, message.meeting_id)
        sdp.check_candidate(message.candidate)
        try:
            accepted = await participant.peer.add_remote_candidate(
                message.connection, message.candidate, message.sdp_mid, message.sdp_mline_index)
        except InvalidStateError as exc:
            raise SignalingError("bad_state", reason=str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a malformed candidate line
            raise SignalingError("bad_sdp", reason=f"{type(exc).__name__}: {exc}"[:300]) from None
        return {"accepted": accepted}

    async def _moderate(self, connection: Connection, action: Action) -> dict[str, Any]:
        meeting, participant = self.joined(connection, action.meeting_id)
        if self.hooks.moderate_elsewhere is not None and elsewhere(action, meeting):
            require_chair(meeting, participant, action)
            return await self.hooks.moderate_elsewhere(meeting, participant, action)
        answered = _hand_answered_by(meeting, action)
        result = await moderate(meeting, participant, action)
        return await self._moderated(meeting, answered, result)

    async def moderate_here(self, meeting: LiveMeeting, chair: RemoteChair,
                            action: Relayable) -> dict[str, Any]:
        """A chair on another node acts on someone served here (server.cluster.control):
        applied as the chair's own act would be, the chair's ack is the answer."""
        answered = _hand_answered_by(meeting, action)
        return await self._moderated(meeting, answered, await apply_here(meeting, chair, action))

    async def _moderated(self, meeting: LiveMeeting, answered: str | None,
                         result: dict[str, Any]) -> dict[str, Any]:
        """After a chair's act: the hand it answered comes down, the removed connection closes."""
        if answered is not None:
            await self.review.hand_answered(meeting, answered)
        removed_sid = result.pop("disconnect", None)
        if removed_sid is not None:
            removed = self.connections.get(removed_sid)
            if removed is not None:
                removed.participant = None
            meeting.later(lambda: self._close(removed_sid, "removed"))
        return result

    # -- app life ---------------------------------------------------------------

    async def startup(self, _app: web.Application | None = None) -> None:
        """Store the events an earlier run had to spool because the database was away."""
        await self.spool.replay(self.context.sessions)

    async def shutdown(self, _app: web.Application | None = None) -> None:
        """Close every live meeting (their leaves are logged) and the SFU."""
        for meeting in list(self.meetings.values()):
            for hook in self.hooks.closing:
                await hook(meeting)
            await meeting.close()
        self.meetings.clear()
        await asyncio.gather(*self._closing.values(), return_exceptions=True)
        await self.sfu.close()


def _hand_answered_by(meeting: LiveMeeting, action: Action) -> str | None:
    """Whose raised hand a chair's act answers: unmuting someone the chair had muted (a muted
    person raises a hand to ask to speak; being unmuted is the answer)."""
    if not isinstance(action, messages.Mute) or action.action != "unmute" or action.kind != "audio":
        return None
    target = meeting.participants.get(action.participant_id)
    return target.id if target is not None and "audio" in target.muted else None


SIGNALING = web.AppKey("lianshen_signaling", Signaling)


async def meeting_changed(app: web.Application, meeting_id: int, db: AsyncSession) -> None:
    """For the web layer after it changed a meeting (status, plan, invitations) in ``db``: the
    meeting, if live, takes the change (Signaling.facts_changed)."""
    await app[SIGNALING].facts_changed(meeting_id, db)


def attach(app: web.Application, context: AppContext) -> Signaling:
    """Add socket.io signaling and the SFU to the app."""
    entries = parse_entries(context.settings.sfu)
    signaling = Signaling(context, Sfu(sfu_settings(context.settings.sfu, entries)), entries)
    signaling.sio.attach(app, socketio_path=SOCKETIO_PATH.strip("/"))

    @web.middleware
    async def socketio_first(request: web.Request, handler: Any) -> web.StreamResponse:
        # Engine.IO answers its own errors and a websocket lives for the whole meeting: it must not
        # sit inside the per-request database session (which would pin a pooled connection).
        if request.path == SOCKETIO_PATH:
            return await signaling.sio.handle_request(request)
        return await handler(request)

    app.middlewares.insert(0, socketio_first)
    app[SIGNALING] = signaling
    app.on_startup.append(signaling.startup)
    app.on_shutdown.append(signaling.shutdown)
    return signaling
