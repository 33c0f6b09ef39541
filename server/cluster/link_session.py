"""One live cascade link over a websocket between two nodes: the same object runs at both ends.

Each end puts the link's two halves into its own room (server.sfu.link): a peer ``link:<other
node>`` whose subscribe offers go to the other end, and a receiver that answers the other end's
offers. The websocket carries only those two messages, each direction with one fixed offerer:

    {"type": "offer", "sdp": "...", "tracks": {"<mid>": {"id", "participant_id", "kind", "mime_type", "muted"}}}
    {"type": "answer", "sdp": "..."}

An offer is answered by the receiver, an answer goes to the peer. When the websocket closes (or
either connection fails), both halves leave the room: their tracks' subscribers are told.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal, Protocol

from aiohttp import WSMsgType
from aiortc.exceptions import InvalidStateError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from server.sfu import ProducerInfo, Room, SubscribeOffer
from server.sfu.link import LinkReceiver, link_id
from server.sfu.peer import Peer

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20
"""An SDP of a few hundred m-lines fits; anything larger is not a link message."""


class Track(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=64)
    participant_id: str = Field(min_length=1, max_length=64)
    kind: Literal["audio", "video", "screen"]
    mime_type: str = Field(max_length=64)
    muted: bool = False


class Offer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["offer"]
    sdp: str = Field(max_length=MAX_MESSAGE_BYTES)
    tracks: dict[str, Track]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["answer"]
    sdp: str = Field(max_length=MAX_MESSAGE_BYTES)


MESSAGE: TypeAdapter[Offer | Answer] = TypeAdapter(Annotated[Offer | Answer, Field(discriminator="type")])


class LinkSocket(Protocol):
    """What both aiohttp websocket ends offer (server response, client connection)."""

    async def send_json(self, data: Any) -> None: ...

    async def receive(self) -> Any: ...

    async def close(self) -> bool: ...


def offer_message(offer: SubscribeOffer) -> dict[str, Any]:
    return {"type": "offer", "sdp": offer.sdp,
            "tracks": {mid: {"id": info.id, "participant_id": info.peer_id, "kind": info.kind,
                             "mime_type": info.mime_type, "muted": info.muted}
                       for mid, info in offer.tracks.items()}}


class LinkSession:
    """A link's two halves in ``room``, talking to node ``other`` over ``socket``."""

    def __init__(self, room: Room, other: str, socket: LinkSocket) -> None:
        self.room = room
        self.other = other
        self.link = link_id(other)
        self._socket = socket
        self.receiver = LinkReceiver(room, self.link)
        self.peer: Peer | None = None
        self._failed = asyncio.Event()
        self._closed = False

    async def run(self) -> str:
        """Carry the link until the websocket closes or a connection fails; answers why it ended."""
        self.room.on("peer_failed", self._peer_failed)
        self.receiver.connection.on("connectionstatechange", self._receiver_state)
        try:
            self.peer = await self.room.join(self.link, {"link": self.other}, self._send_offer)
            if self._closed:  # closed while joining: the close found no peer to take out of the room
                if self.room.peers.get(self.link) is self.peer:
                    await self.room.leave(self.link)
                return "closed while joining"
            reading = asyncio.ensure_future(self._read())
            failed = asyncio.ensure_future(self._failed.wait())
            try:
                done, _ = await asyncio.wait((reading, failed), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reading, failed):
                    task.cancel()
                await asyncio.gather(reading, failed, return_exceptions=True)
            return reading.result() if reading in done and not reading.cancelled() else "a link connection failed"
        finally:
            self.room.remove_listener("peer_failed", self._peer_failed)
            await self.close()

    async def close(self) -> None:
        """Both halves leave the room (only this session's: a newer one may have replaced it)."""
        if self._closed:
            return
        self._closed = True
        if self.peer is not None and self.room.peers.get(self.link) is self.peer:
            await self.room.leave(self.link)
        await self.receiver.close()
        await self._socket.close()

    async def _read(self) -> str:
        while True:
            message = await self._socket.receive()
            if message.type != WSMsgType.TEXT:
                return f"websocket {message.type.name.lower()}"
            try:
                parsed = MESSAGE.validate_json(message.data)
            except ValidationError as exc:
                logger.warning("link %s in room %s: bad message: %s", self.link, self.room.meeting_id, exc)
                return "bad message from the other node"
            try:
                if isinstance(parsed, Offer):
                    tracks = {mid: ProducerInfo(t.id, t.participant_id, t.kind, t.mime_type, t.muted)
                              for mid, t in parsed.tracks.items()}
                    answer = await self.receiver.answer(parsed.sdp, tracks)
                    await self._socket.send_json({"type": "answer", "sdp": answer})
                elif self.peer is not None:
                    await self.peer.subscribe_answer(parsed.sdp)
            except InvalidStateError as exc:  # a connection closed under us (DTLS or ICE consent lost)
                return f"{parsed.type} not applied: {exc}"

    async def _send_offer(self, offer: SubscribeOffer) -> None:
        await self._socket.send_json(offer_message(offer))

    def _peer_failed(self, peer_id: str, reason: str) -> None:
        if peer_id == self.link:
            logger.warning("link %s in room %s: %s", self.link, self.room.meeting_id, reason)
            self._failed.set()

    def _receiver_state(self) -> None:
        state = self.receiver.connection.connectionState
        if state == "failed" or (state == "closed" and not self._closed):  # closed: DTLS ended
            logger.warning("link %s in room %s: receiving connection %s", self.link, self.room.meeting_id, state)
            self._failed.set()
