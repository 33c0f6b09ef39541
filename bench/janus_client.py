"""A bench bot for Janus's VideoRoom, speaking the Janus HTTP API (aiohttp), for bench/sfu.py --against-janus.

It is the Janus twin of ``server.bot.signaling.BotClient`` as bench/sfu_clients.py uses it
(``connect``, ``join``, ``publish``, ``close``, ``participant``, ``participant_id``, ``joined``,
``joined_at``), and it carries the very same media object, ``server.bot.participant.Participant``:
the publisher sends the clip encoded once per process, subscribers count frames in pass-through
after a 90-frame decode sample (and bench/sfu_light.py takes their sockets over as for Lianshen).
Only the signalling differs, so the two systems are driven alike.

Janus HTTP API (janus.transport.http, plain JSON):
- ``POST /janus {"janus": "create"}`` -> session id; ``POST /janus/<session> {"janus": "attach",
  "plugin": "janus.plugin.videoroom"}`` -> handle id;
- ``POST /janus/<session>/<handle> {"janus": "message", "body": ..., "jsep": ...}``: synchronous
  requests (``listparticipants``) answer in the response; asynchronous ones (``join``, ``publish``,
  ``start``) answer ``ack`` there and their result comes as an event with the same transaction;
- ``GET /janus/<session>?maxev=N``: long poll (up to 30 s) returning a list of events; it also keeps
  the session alive, and a ``keepalive`` is sent every 25 s anyway (session timeout 60 s).

A publisher joins with ``ptype: publisher`` and a feed id, then ``publish``es the clip's offer,
applies Janus's answer and waits for ``webrtcup`` (only then does the room list it as a
publisher). A subscriber lists the room's publishers, joins with ``ptype: subscriber`` and one
stream entry per feed, answers Janus's offer and sends ``start``. Offers and answers carry
every candidate (aiortc gathers before answering; Janus half-trickle waits for its own gathering),
so ``trickle`` is false and no candidate is trickled.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
import zlib
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiortc import sdp as aiortc_sdp

from server.bot.participant import Participant

logger = logging.getLogger(__name__)

PLUGIN = "janus.plugin.videoroom"
CALL_TIMEOUT_S = 15.0
POLL_EVENTS = 10
KEEPALIVE_S = 25.0


class JanusError(Exception):
    """Janus or the VideoRoom plugin refused a request (their error code and reason)."""


class JanusBot:
    """One synthetic VideoRoom participant: a publisher of the clip or a subscriber of every feed."""

    def __init__(self, url: str, room: int, *, name: str, publish: bool) -> None:
        self.url = url.rstrip("/")
        self.room = room
        self.name = name
        self.publisher = publish
        self.participant: Participant | None = None
        self.participant_id: str | None = None
        self.joined: dict[str, Any] = {}
        self.joined_at: float | None = None
        self.events: list[dict[str, Any]] = []
        """Events without a transaction (webrtcup, media, slowlink, hangup), as Janus sent them."""
        self._http: aiohttp.ClientSession | None = None
        self._session: int | None = None
        self._handle: int | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._transactions = itertools.count()
        self._webrtc_up = asyncio.Event()

    # -- Janus API ---------------------------------------------------------------------------

    def _transaction(self) -> str:
        return f"{self.name}-{next(self._transactions)}"

    async def _post(self, path: str, request: dict[str, Any]) -> dict[str, Any]:
        assert self._http is not None, "connect first"
        async with self._http.post(f"{self.url}{path}", json=request) as response:
            reply: dict[str, Any] = await response.json(content_type=None)
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(f"{request.get('janus')}: {error.get('code')} {error.get('reason')}")
        return reply

    async def _message(self, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a plugin request; the plugin's answer (sync reply or the event of its transaction)."""
        transaction = self._transaction()
        request: dict[str, Any] = {"janus": "message", "transaction": transaction, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        try:
            reply = await self._post(f"/{self._session}/{self._handle}", request)
            if reply.get("janus") != "ack":  # a synchronous request answered in the response
                event = reply
            else:
                event = await asyncio.wait_for(future, CALL_TIMEOUT_S)
        finally:
            self._waiting.pop(transaction, None)
        data = event.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(f"{body.get('request')}: {data.get('error_code')} {data['error']}")
        return event

    async def _poll(self) -> None:
        """Long-poll the session's events; hand each to the request waiting for its transaction."""
        assert self._http is not None
        while True:
            async with self._http.get(f"{self.url}/{self._session}", params={"maxev": str(POLL_EVENTS)},
                                      timeout=aiohttp.ClientTimeout(total=60)) as response:
                events = await response.json(content_type=None)
            for event in events if isinstance(events, list) else [events]:
                future = self._waiting.get(event.get("transaction", ""))
                if future is not None and not future.done():
                    future.set_result(event)
                elif event.get("janus") != "keepalive":
                    self.events.append(event)
                    if event.get("janus") == "webrtcup":
                        self._webrtc_up.set()

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)  # a period, not a synchronisation
            await self._post(f"/{self._session}", {"janus": "keepalive", "transaction": self._transaction()})

    def _spawn(self, coroutine: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coroutine))

    # -- the BotClient surface bench/sfu_clients.py uses ---------------------------------------

    async def connect(self) -> None:
        """Create a session and attach the VideoRoom plugin."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_S))
        created = await self._post("", {"janus": "create", "transaction": self._transaction()})
        self._session = int(created["data"]["id"])
        self._spawn(self._poll())
        self._spawn(self._keepalive())
        attached = await self._post(f"/{self._session}", {"janus": "attach", "plugin": PLUGIN,
                                                          "transaction": self._transaction()})
        self._handle = int(attached["data"]["id"])

    async def join(self) -> dict[str, Any]:
        """Join as publisher (feed id from the name), or as subscriber of every publisher present.

        A subscriber's offer is answered in the background, as a Lianshen bot answers the
        server's subscribe offer: ``join`` returns once the request is made.
        """
        self.participant = Participant(self.name)
        if self.publisher:
            feed = zlib.crc32(self.name.encode()) + 1  # stable, nonzero, unique among the bench's names
            event = await self._message({"request": "join", "ptype": "publisher", "room": self.room,
                                         "id": feed, "display": self.name})
            self.participant_id = str(event["plugindata"]["data"]["id"])
        else:
            listed = await self._message({"request": "listparticipants", "room": self.room})
            feeds = [p["id"] for p in listed["plugindata"]["data"]["participants"] if p.get("publisher")]
            if not feeds:
                raise JanusError(f"room {self.room} has no publisher to subscribe to")
            self.participant_id = f"{self.name}-{secrets.token_hex(4)}"
            self._spawn(self._subscribe(feeds))
        self.joined, self.joined_at = {"status": "joined"}, time.monotonic()
        return self.joined

    async def _subscribe(self, feeds: Sequence[int]) -> None:
        assert self.participant is not None
        try:
            event = await self._message({"request": "join", "ptype": "subscriber", "room": self.room,
                                         "streams": [{"feed": feed} for feed in feeds]})
            offer = event["jsep"]["sdp"]
            feed_of_mid = {s["mid"]: s.get("feed_id") for s in event["plugindata"]["data"].get("streams", [])}
            sources = {m.rtp.muxId: f"{feed_of_mid.get(m.rtp.muxId, feeds[0])}:{m.kind}"
                       for m in aiortc_sdp.SessionDescription.parse(offer).media if m.kind in ("audio", "video")}
            answer = await self.participant.subscribe_offer(offer, sources)
            await self._message({"request": "start"}, {"type": "answer", "sdp": answer, "trickle": False})
        except Exception:  # the bench sees the missing frames; the log says why
            logger.exception("%s: subscribing in Janus failed", self.name)

    async def publish(self, kinds: Sequence[str] = ("video", "audio")) -> dict[str, Any]:
        """Publish the clip's audio and video (the only kinds a bench bot sends)."""
        if set(kinds) != {"video", "audio"}:
            raise ValueError(f"the Janus bench bot publishes video and audio, not {sorted(kinds)}")
        assert self.participant is not None, "join first"
        offer = await self.participant.publish_offer()
        event = await self._message({"request": "publish"}, {"type": "offer", "sdp": offer, "trickle": False})
        await self.participant.publish_answer(event["jsep"]["sdp"])
        # VideoRoom lists a feed (and lets subscribers join it) once its PeerConnection is up
        await asyncio.wait_for(self._webrtc_up.wait(), CALL_TIMEOUT_S)
        return event

    async def close(self) -> None:
        """Destroy the session (Janus hangs up its PeerConnections), release the media."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            if self._session is not None:
                try:
                    await self._post(f"/{self._session}", {"janus": "destroy", "transaction": self._transaction()})
                except (aiohttp.ClientError, JanusError, TimeoutError):
                    pass  # Janus is stopped next anyway
            await self._http.close()
        if self.participant is not None:
            await self.participant.close()
