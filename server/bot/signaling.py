"""The bot's side of the socket.io protocol (docs/protocol.md): a scriptable meeting participant.

It speaks to the server exactly as a browser would: connect with a session cookie, a join token or a
resume secret; join; publish looping pre-encoded clips; answer every subscribe offer; record every
server event so tests can wait on them. It pins ICE gathering to loopback when the server is on
loopback, so a bot on this machine never sends media to another interface.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import socketio

from server.bot.media import ClipTrack, video_clip
from server.bot.participant import Participant, codec_preferences
from server.bot.simulcast import SimulcastCamera
from server.sfu.ice import gathering_on
from server.sfu.keyframes import intercept_keyframe_requests

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SESSION_COOKIE = "lianshen_session"
CALL_TIMEOUT_S = 15.0

# How long a subscribe offer that overtook the join ack waits for the join to complete.
OFFER_BEFORE_JOIN_TIMEOUT_S = 15.0


class BotError(Exception):
    """The server refused the bot (connection, join or a request); ``code`` is the protocol's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def gather_addresses_for(url: str) -> tuple[str, ...]:
    """Loopback-only ICE gathering for a loopback server; the machine's own choice otherwise."""
    host = urlsplit(url).hostname or ""
    return ("127.0.0.1",) if host in LOOPBACK_HOSTS else ()


async def sign_in(url: str, username: str, password: str) -> str:
    """The session cookie for an account (POST /api/v1/auth/login)."""
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{url.rstrip('/')}/api/v1/auth/login",
                                   json={"username": username, "password": password})
        if response.status != 200:
            body = await response.json(content_type=None)
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise BotError(error.get("code", f"http_{response.status}"), error.get("message", ""))
        cookie = response.cookies.get(SESSION_COOKIE)
        if cookie is None:
            raise BotError("no_session", "the server set no session cookie")
        return cookie.value


class BotClient:
    """One synthetic participant connected to a Lianshen server."""

    def __init__(self, url: str, meeting_id: int, *, cookie: str | None = None,
                 token: str | None = None, name: str = "bot") -> None:
        self.url = url.rstrip("/")
        self.meeting_id = meeting_id
        self._cookie = cookie
        self._token = token
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, dict[str, Any]]] = []
        """Every server event received, in order (name, payload)."""
        self._changed = asyncio.Condition()
        self.participant: Participant | None = None
        self._ready = asyncio.Event()  # set once joined: offers that come earlier wait for it
        self.participant_id: str | None = None
        self.resume_secret: str | None = None
        self.joined: dict[str, Any] = {}
        self.joined_at: float | None = None
        self.connect_error: dict[str, Any] | None = None
        self.names: dict[str, str] = {}
        """participant id -> display name, from the join snapshot and later joins."""
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("subscribe_offer", self._on_subscribe_offer)
        self.sio.on("*", self._on_event)

    # -- connection -------------------------------------------------------------

    async def connect(self, resume: str | None = None) -> None:
        headers = {"Cookie": f"{SESSION_COOKIE}={self._cookie}"} if self._cookie else {}
        auth: dict[str, str] = {}
        if resume is not None:
            auth["resume"] = resume
        elif self._token is not None:
            auth["token"] = self._token
        try:
            await self.sio.connect(self.url, headers=headers, auth=auth, transports=["websocket"],
                                   socketio_path="socket.io", wait_timeout=CALL_TIMEOUT_S)
        except socketio.exceptions.ConnectionError as exc:
            refusal = self.connect_error or {}
            raise BotError(refusal.get("code", "connect_failed"), refusal.get("message", str(exc))) from None

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send an event and return its ack; BotError if the server refused it."""
        ack = await self.sio.call(event, data, timeout=CALL_TIMEOUT_S)
        if not isinstance(ack, dict) or not ack.get("ok"):
            error = ack.get("error", {}) if isinstance(ack, dict) else {}
            raise BotError(error.get("code", "no_ack"), error.get("message", repr(ack)))
        return ack

    async def join(self, resume: str | None = None, keep_media: bool = False,
                   lobby_timeout: float = 0.0) -> dict[str, Any]:
        """Join (or resume) the meeting. In the lobby, wait up to ``lobby_timeout`` for the chair."""
        request: dict[str, Any] = {"meeting_id": self.meeting_id}
        if resume is not None:
            request.update(resume=resume, keep_media=keep_media)
        ack = await self.call("join", request)
        if ack["status"] == "redirect":  # another node serves us: join there, once
            await self._move_to(ack["node"]["signaling_url"])
            ack = await self.call("join", request)
            if ack["status"] == "redirect":
                raise BotError("redirect_loop", f"{self.url} sent us on to {ack['node']['signaling_url']}")
        if ack["status"] == "lobby":
            if lobby_timeout <= 0:
                self.joined = ack
                return ack
            decision = await self.wait_event(
                lambda name, _data: name in ("lobby_admitted", "lobby_rejected"), lobby_timeout)
            if decision[0] == "lobby_rejected":
                raise BotError("lobby_rejected", "the chair did not admit the bot")
            ack = await self.call("join", request)
        self.joined, self.joined_at = ack, time.monotonic()
        self.participant_id, self.resume_secret = ack["participant_id"], ack["resume_secret"]
        self.names.update({p["id"]: p["display_name"] for p in ack["participants"]})
        if self.participant is None:
            self.participant = Participant(self.name, gather_addresses=gather_addresses_for(self.url),
                                           ice_servers=ack["ice_servers"])
        self._ready.set()
        return ack

    async def _move_to(self, url: str) -> None:
        """Reconnect to the node a join answer named (docs/protocol.md §3): the session cookie and
        a join token are good on every node of the system."""
        if url.rstrip("/") == self.url:
            raise BotError("redirect_loop", f"the node at {url} sent us to itself")
        await self.sio.disconnect()
        self.url = url.rstrip("/")
        await self.connect()

    async def publish(self, kinds: Sequence[str] = ("video", "audio"), simulcast: bool = False) -> dict[str, Any]:
        """Publish the looping clips: ``video``, ``audio`` and optionally a ``screen``; ``simulcast``:
        the camera as three VP8 layers by rid (``simulcast.py``), as a browser sends it."""
        participant = self._participant()
        pc = participant.publish_pc
        tracks = {"audio": participant.audio, "video": participant.video}
        camera = SimulcastCamera() if simulcast and "video" in kinds else None
        added = []
        layered = None
        for kind in kinds:
            if kind == "video" and camera is not None:
                layered = pc.addTransceiver(camera.track, direction="sendonly")
                layered.setCodecPreferences(codec_preferences("video/VP8"))  # the layers are VP8
                added.append((layered, kind))
                continue
            track = tracks.get(kind) or ClipTrack(video_clip(seconds=2.0, width=320, height=180, fps=15))
            transceiver = pc.addTransceiver(track, direction="sendonly")
            intercept_keyframe_requests(transceiver.sender, track.request_keyframe)
            added.append((transceiver, kind))
        with gathering_on(gather_addresses_for(self.url)):
            await pc.setLocalDescription(await pc.createOffer())
        sources = {transceiver.mid: kind for transceiver, kind in added}
        sdp = pc.localDescription.sdp
        if camera is not None and layered is not None and layered.mid is not None:
            sdp = camera.offer(sdp, layered.mid)
            participant.simulcast = camera  # stopped with the participant
        ack = await self.call("publish", {"meeting_id": self.meeting_id, "sdp": sdp, "sources": sources})
        await participant.publish_answer(ack["sdp"])
        if camera is not None and layered is not None:
            camera.start(layered, ack["sdp"])
        return ack

    async def leave(self) -> None:
        await self.call("leave", {"meeting_id": self.meeting_id})

    async def close(self) -> None:
        """Leave (the goodbye: without it a disconnect is a drop with a grace period), disconnect,
        release the media."""
        if self.sio.connected and self.participant_id is not None:
            try:
                await self.leave()
            except (BotError, socketio.exceptions.SocketIOError):
                pass  # already out (removed, or the meeting refused us): nothing to leave
        if self.sio.connected:
            await self.sio.disconnect()
        if self.participant is not None:
            await self.participant.close()

    async def kill(self) -> None:
        """Vanish without a goodbye: the socket and the peer connections just close."""
        ws = self.sio.eio.ws
        if ws is not None:
            await ws.close()
        if self.participant is not None:
            await self.participant.close()
        await self.sio.eio.disconnect(abort=True)

    # -- server events ------------------------------------------------------------

    async def _on_connect_error(self, data: Any = None) -> None:
        detail = data.get("data") if isinstance(data, dict) else None
        self.connect_error = detail if isinstance(detail, dict) else {"message": str(data)}

    async def _on_subscribe_offer(self, data: dict[str, Any]) -> None:
        # The server may send its first offer before our join ack has been handled.
        await asyncio.wait_for(self._ready.wait(), OFFER_BEFORE_JOIN_TIMEOUT_S)
        participant = self._participant()
        sources = {mid: f"{track['participant_id']}:{track['kind']}" for mid, track in data["tracks"].items()}
        answer = await participant.subscribe_offer(data["sdp"], sources)
        if not self.sio.connected:
            return  # closed while answering: the server will re-offer after a resume
        await self.call("subscribe_answer", {"meeting_id": self.meeting_id, "sdp": answer})
        await self._record("subscribe_offer", data)

    async def _on_event(self, event: str, data: Any = None) -> None:
        if event == "participant_joined":
            self.names[data["participant"]["id"]] = data["participant"]["display_name"]
        await self._record(event, data if isinstance(data, dict) else {"data": data})

    async def _record(self, event: str, data: dict[str, Any]) -> None:
        async with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    async def wait_event(self, match: Callable[[str, dict[str, Any]], bool] | str,
                         timeout: float = 10.0) -> tuple[str, dict[str, Any]]:
        """The first recorded event (past or future) that ``match``es: a name or a predicate."""
        test = (lambda name, _data: name == match) if isinstance(match, str) else match

        def found() -> tuple[str, dict[str, Any]] | None:
            return next(((n, d) for n, d in self.events if test(n, d)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

    def seen(self, event: str) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name == event]

    # -- what was received ----------------------------------------------------------

    def frames(self, participant_id: str, kind: str) -> int:
        return self.participant.receiver.frames(f"{participant_id}:{kind}") if self.participant else 0

    async def wait_frames(self, want: Callable[[BotClient], bool], timeout: float) -> None:
        await self._participant().receiver.wait_for(lambda: want(self), timeout)

    def report(self) -> dict[str, Any]:
        """The bot's one-object summary: each remote source's frames, rate, errors, first frame."""
        sources = []
        receiver = self.participant.receiver if self.participant is not None else None
        now = time.monotonic()
        for source, stats in sorted(receiver.stats.items() if receiver else []):
            participant_id, kind = source.rsplit(":", 1)
            span = now - stats.first_frame_at if stats.first_frame_at is not None else 0.0
            first = (stats.first_decoded_at - self.joined_at
                     if stats.first_decoded_at is not None and self.joined_at is not None else None)
            sources.append({
                "participant": participant_id,
                "name": self.names.get(participant_id, ""),
                "kind": kind,
                "frames": stats.frames,
                "bytes": stats.bytes,
                "fps": round(stats.frames / span, 1) if span > 0 else 0.0,
                "decode_errors": stats.decode_errors,
                "first_frame_s": round(first, 3) if first is not None else None,
            })
        return {"joined": bool(self.participant_id), "participant_id": self.participant_id,
                "sources": sources}

    def _participant(self) -> Participant:
        if self.participant is None:
            raise BotError("not_joined", "join first")
        return self.participant
