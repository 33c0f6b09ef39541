"""The baseline for bench/sfu.py: a naive aiortc relay that decodes and re-encodes.

What a first aiortc server does: receive each publisher's tracks with aiortc's normal receiver (the
VP8 and Opus decoders run), fan the decoded frames out with ``aiortc.contrib.media.MediaRelay``
(one decode per incoming track), and give every subscriber its own sender, so aiortc encodes
every forwarded track once per subscriber (VP8 and Opus encoders per subscriber). Nothing else
differs from the real server's media path: same bots, same two-connection negotiation, same
socket.io events (only the subset ``lianshen bot`` uses: join, publish, subscribe_offer /
subscribe_answer, leave), ICE gathered on 127.0.0.1 only.

Run by bench/sfu.py as its own process: ``python bench/naive_relay.py --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import socketio
from aiohttp import web
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from server.sfu.ice import gathering_on

LOOPBACK = ("127.0.0.1",)
ANSWER_TIMEOUT_S = 15.0
logger = logging.getLogger("naive_relay")


def _connection() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


def _codec(kind: str) -> list[Any]:
    wanted = "video/vp8" if kind == "video" else "audio/opus"
    return [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() == wanted]


@dataclass(eq=False)
class Member:
    id: str
    sid: str
    publish_pc: RTCPeerConnection = field(default_factory=_connection)
    subscribe_pc: RTCPeerConnection = field(default_factory=_connection)
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    """Published (decoded) tracks by kind."""
    sent: set[tuple[str, str]] = field(default_factory=set)
    """(publisher id, kind) already given an m-line on the subscribe connection."""
    dirty: bool = False
    negotiation: asyncio.Task[None] | None = None
    answer: asyncio.Future[None] | None = None


class NaiveRelay:
    def __init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="aiohttp", async_handlers=True, logger=False,
                                        engineio_logger=False, cors_allowed_origins=None)
        self.relay = MediaRelay()
        self.members: dict[str, Member] = {}  # by sid
        self._ids = itertools.count(1)
        for event in ("join", "publish", "subscribe_answer", "leave"):
            self.sio.on(event, self._guard(getattr(self, f"_{event}")))
        self.sio.on("disconnect", self._disconnect)

    def _guard(self, handler: Any) -> Any:
        async def run(sid: str, data: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"ok": True, **await handler(sid, data)}
            except Exception as exc:  # noqa: BLE001 - a benchmark host: report, keep serving
                logger.exception("%s failed", handler.__name__)
                return {"ok": False, "error": {"code": "internal", "message": str(exc)}}
        return run

    async def _join(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        member = Member(id=f"p{next(self._ids)}", sid=sid)
        self.members[sid] = member
        self._renegotiate(member)
        return {"status": "joined", "participant_id": member.id, "resume_secret": "-", "resumed": False,
                "ice_servers": [], "capacity": "observer", "producers": [],
                "meeting": {"id": data.get("meeting_id"), "title": "naive relay", "locked": False},
                "participants": [{"id": m.id, "display_name": m.id} for m in self.members.values()]}

    async def _publish(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        member = self.members[sid]
        pc = member.publish_pc
        sources: dict[str, str] = data.get("sources") or {}
        received: dict[str, MediaStreamTrack] = {}

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track and transceiver.mid is not None:
                    received[sources.get(transceiver.mid, track.kind)] = track

        await pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
        with gathering_on(LOOPBACK):
            await pc.setLocalDescription(await pc.createAnswer())
        member.tracks.update(received)
        for other in self.members.values():
            if other is not member:
                self._renegotiate(other)
        return {"sdp": pc.localDescription.sdp, "producers": []}

    def _renegotiate(self, member: Member) -> None:
        member.dirty = True
        if member.negotiation is None or member.negotiation.done():
            member.negotiation = asyncio.get_running_loop().create_task(self._negotiate(member))

    async def _negotiate(self, member: Member) -> None:
        pc = member.subscribe_pc
        while member.dirty and member.sid in self.members:
            member.dirty = False
            tracks: dict[str, dict[str, Any]] = {}
            added = []
            for publisher in list(self.members.values()):
                if publisher is member:
                    continue
                for kind, track in publisher.tracks.items():
                    if (publisher.id, kind) in member.sent:
                        continue
                    # a relay proxy per subscriber: one decode upstream, one encoder per sender
                    transceiver = pc.addTransceiver(self.relay.subscribe(track, buffered=False),
                                                    direction="sendonly")
                    transceiver.setCodecPreferences(_codec(track.kind))
                    member.sent.add((publisher.id, kind))
                    added.append((transceiver, publisher.id, kind))
            if not added:
                continue
            with gathering_on(LOOPBACK):
                await pc.setLocalDescription(await pc.createOffer())
            for transceiver, publisher_id, kind in added:
                tracks[transceiver.mid] = {"participant_id": publisher_id, "kind": kind,
                                           "mime_type": "", "muted": False, "id": ""}
            member.answer = asyncio.get_running_loop().create_future()
            await self.sio.emit("subscribe_offer", {"sdp": pc.localDescription.sdp, "tracks": tracks},
                                to=member.sid)
            await asyncio.wait_for(member.answer, ANSWER_TIMEOUT_S)

    async def _subscribe_answer(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        member = self.members[sid]
        await member.subscribe_pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))
        if member.answer is not None and not member.answer.done():
            member.answer.set_result(None)
        return {}

    async def _leave(self, sid: str, _data: dict[str, Any]) -> dict[str, Any]:
        await self._drop(sid)
        return {}

    async def _disconnect(self, sid: str, *_args: Any) -> None:
        await self._drop(sid)

    async def _drop(self, sid: str) -> None:
        member = self.members.pop(sid, None)
        if member is None:
            return
        if member.negotiation is not None:
            member.negotiation.cancel()
        await member.publish_pc.close()
        await member.subscribe_pc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    relay = NaiveRelay()
    app = web.Application()
    relay.sio.attach(app)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
