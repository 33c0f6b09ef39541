"""One participant: a publish connection in, a subscribe connection out.

Two connections instead of one keep both offer/answer exchanges one-way and
free of glare: on the publish connection the client always offers (its own
tracks, sendonly) and the SFU answers; on the subscribe connection the SFU
always offers (one sendonly m-line per forwarded producer) and the client
answers, and the SFU re-offers whenever producers come or go.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    sdp as aiortc_sdp,
)
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamTrack

from .candidates import RemoteCandidates, announce_address
from .codecs import prefer_publish_codecs, subscribe_preferences
from .host import PeerHost
from .ice import gathering_on
from .keyframes import intercept_keyframe_requests
from .layer_choice import View
from .layers import negotiate_rid_extensions
from .packet_consumer import PacketConsumer
from .passthrough import pass_through
from .producer import PRODUCER_KINDS, Producer, ProducerInfo, ProducerKind, media_kind
from .receiving import receiving_producer
from .simulcast_sdp import SimulcastOffer, accept_simulcast, read_simulcast
from .slot import Slot
from .sockets import drain_sockets

logger = logging.getLogger(__name__)

Connection = Literal["publish", "subscribe"]


@dataclass(frozen=True)
class SubscribeOffer:
    """An SDP offer for a client's subscribe connection.

    ``tracks`` says which producer each active m-line (by mid) carries; m-lines
    not listed are inactive, kept for reuse.
    """

    sdp: str
    tracks: dict[str, ProducerInfo]


OfferCallback = Callable[[SubscribeOffer], Awaitable[None]]


class Peer:
    """A participant's media state in a room; created by :meth:`Room.join`."""

    def __init__(
        self,
        room: PeerHost,
        peer_id: str,
        info: dict[str, Any],
        on_subscribe_offer: OfferCallback,
    ) -> None:
        self.id = peer_id
        self.info = info
        self._room = room
        self._settings = room.settings
        self._on_subscribe_offer = on_subscribe_offer
        self._publish_pc: RTCPeerConnection | None = None
        self._subscribe_pc: RTCPeerConnection | None = None
        self._remote: dict[Connection, RemoteCandidates] = {}
        self._producers: dict[str, Producer] = {}  # by publish mid
        self._stopped_mids: set[str] = set()
        self._slots: list[Slot] = []
        self._negotiation: asyncio.Task[None] | None = None
        self._renegotiate = False
        self._answer: asyncio.Future[None] | None = None
        self._publish_lock = asyncio.Lock()
        self._closed = False
        self._paused: set[ProducerKind] = set()

    @property
    def producers(self) -> dict[ProducerKind, Producer]:
        return {producer.kind: producer for producer in self._producers.values()}

    @property
    def paused(self) -> frozenset[ProducerKind]:
        """Media kinds ("audio", "video") its owner switched off (see :meth:`set_paused`)."""
        return frozenset(self._paused)

    @property
    def publish_connection(self) -> RTCPeerConnection | None:
        return self._publish_pc

    @property
    def subscribe_connection(self) -> RTCPeerConnection | None:
        return self._subscribe_pc

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(self._slots)

    # -- publishing -------------------------------------------------------

    async def publish(
        self, offer_sdp: str, sources: Mapping[str, ProducerKind] | None = None
    ) -> str:
        """Apply the client's publish offer and return the SFU's answer.

        ``sources`` maps an m-line's mid to what it carries; by default audio is
        "audio", the first video "video" and a second video "screen". Call it
        again with a new offer to add or remove tracks.
        """
        self._check_open()
        for kind in (sources or {}).values():
            if kind not in PRODUCER_KINDS:
                raise ValueError(f"unknown producer kind {kind!r}")
        # Simulcast needs the packet path: the frame path reassembles one stream per m-line.
        simulcast = read_simulcast(offer_sdp) if self._settings.forwarding == "packet" else {}
        async with self._publish_lock:  # one offer/answer at a time
            pc = self._publish_connection()
            await self._remote["publish"].set_remote_description(offer_sdp, "offer")
            for transceiver in pc.getTransceivers():
                prefer_publish_codecs(transceiver, self._settings.video_codecs)
                offer = simulcast.get(transceiver.mid or "")
                if offer is not None and transceiver.receiver.transport is not None:
                    negotiate_rid_extensions(transceiver.receiver.transport, offer)
            with gathering_on(self._settings.ice_gather_addresses):
                await pc.setLocalDescription(await pc.createAnswer())
            drain_sockets(pc, self._settings.native_send)
            answer = aiortc_sdp.SessionDescription.parse(pc.localDescription.sdp)
            await self._sync_producers(pc, answer, sources or {}, simulcast)
            return self._outgoing(accept_simulcast(pc.localDescription.sdp, simulcast))

    def _publish_connection(self) -> RTCPeerConnection:
        """The publish connection; its receivers yield encoded frames.

        The receivers are left to aiortc to create from the client's offer
        (creating them ahead would leave unusable ones behind when an offer
        fails), and switched to pass-through from the ``track`` event, which
        aiortc emits before it starts them.
        """
        if self._publish_pc is None:
            pc = self._publish_pc = self._new_connection("publish")

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                for transceiver in pc.getTransceivers():
                    if transceiver.receiver.track is track:
                        pass_through(transceiver.receiver)

        return self._publish_pc

    async def _sync_producers(
        self,
        pc: RTCPeerConnection,
        answer: aiortc_sdp.SessionDescription,
        sources: Mapping[str, ProducerKind],
        simulcast: Mapping[str, SimulcastOffer],
    ) -> None:
        for transceiver in pc.getTransceivers():
            mid = transceiver.mid
            if mid is None:
                continue
            producer = self._producers.get(mid)
            receiving = transceiver.currentDirection in ("recvonly", "sendrecv")
            if producer is not None and not receiving:
                await self._room.close_producer(producer)
            elif producer is None and receiving and mid not in self._stopped_mids:
                kind = sources.get(mid) or self._free_kind(transceiver.kind)
                if kind is None or media_kind(kind) != transceiver.kind:
                    logger.warning("peer %s: m-line %s (%s) not used", self.id, mid, kind)
                    continue
                replaced = self.producers.get(kind)  # the client moved it to a new m-line
                if replaced is not None:
                    await self._room.close_producer(replaced)
                media = next(m for m in answer.media if m.rtp.muxId == mid)
                self._add_producer(transceiver, media, kind, simulcast.get(mid))

    def _free_kind(self, kind: str) -> ProducerKind | None:
        """The default kind for an unlabelled m-line: audio; video, then screen."""
        candidates: tuple[ProducerKind, ...] = ("audio",) if kind == "audio" else ("video", "screen")
        return next((c for c in candidates if c not in self.producers), None)

    def _add_producer(
        self,
        transceiver: RTCRtpTransceiver,
        media: aiortc_sdp.MediaDescription,
        kind: ProducerKind,
        simulcast: SimulcastOffer | None,
    ) -> None:
        producer = receiving_producer(self._room, transceiver, media, kind, self.id, simulcast=simulcast)
        assert transceiver.mid is not None
        self._producers[transceiver.mid] = producer
        self._room.add_producer(producer)

    async def stop_producer(self, kind: ProducerKind) -> None:
        """Stop receiving and forwarding ``kind`` (the client should unpublish too)."""
        producer = self.producers.get(kind)
        if producer is not None:
            await self._room.close_producer(producer)

    def set_muted(self, kind: ProducerKind, muted: bool) -> None:
        """Moderation: stop (or resume) forwarding ``kind`` to everyone."""
        producer = self.producers.get(kind)
        if producer is not None:
            self._room.set_producer_muted(producer, muted)

    def set_paused(self, kind: ProducerKind, paused: bool) -> None:
        """Its owner switched the camera ("video") or microphone ("audio") off, or on again.

        Forwarding goes on (the client sends black frames or silence, or nothing); the room tells
        whoever keeps the media (the recorder), which marks a gap. The state outlives producers:
        one published while paused starts paused. (A shared screen is stopped, not paused.)
        """
        if (kind in self._paused) == paused:
            return
        (self._paused.add if paused else self._paused.discard)(kind)
        producer = self.producers.get(kind)
        if producer is not None:
            self._room.producer_paused(producer, paused)

    def forget_producer(self, producer: Producer) -> None:
        """Called by the room once a producer of this peer is gone."""
        for mid, known in list(self._producers.items()):
            if known is producer:
                del self._producers[mid]
                self._stopped_mids.add(mid)

    # -- subscribing ------------------------------------------------------

    def request_negotiation(self) -> None:
        """Re-offer the subscribe connection soon: the room's producers changed.

        Changes arriving while an offer waits for its answer are batched into
        the next offer, so the signaling state never sees two offers at once.
        """
        if self._closed:
            return
        self._renegotiate = True
        if self._negotiation is None or self._negotiation.done():
            self._negotiation = asyncio.get_running_loop().create_task(self._negotiate())

    async def subscribe_answer(self, sdp: str) -> None:
        """Apply the client's answer to the latest subscribe offer."""
        self._check_open()
        if self._answer is None or self._answer.done() or self._subscribe_pc is None:
            raise InvalidStateError("no subscribe offer is waiting for an answer")
        await self._remote["subscribe"].set_remote_description(sdp, "answer")
        self._answer.set_result(None)

    async def negotiated(self) -> None:
        """Wait until no subscribe offer is outstanding or due (or it timed out)."""
        while self._negotiation is not None and not self._negotiation.done():
            await asyncio.shield(self._negotiation)

    async def _negotiate(self) -> None:
        try:
            while self._renegotiate and not self._closed:
                self._renegotiate = False
                offer = await self._next_offer()
                if offer is None:
                    continue
                self._answer = asyncio.get_running_loop().create_future()
                await self._on_subscribe_offer(offer)
                await asyncio.wait_for(self._answer, self._settings.negotiation_timeout_s)
                self._attach_consumers()
        except TimeoutError:
            self._room.peer_failed(self.id, "no answer to subscribe offer")
        except Exception as exc:  # the signaling callback, or aiortc, failed
            logger.exception("peer %s: subscribe negotiation failed", self.id)
            self._room.peer_failed(self.id, f"subscribe negotiation failed: {exc}")

    async def _next_offer(self) -> SubscribeOffer | None:
        """Bring the slots in line with the room's producers and offer the result."""
        wanted = {p.id: p for p in self._room.producers_for(self.id)}
        changed = False
        for slot in self._slots:
            # A slot offered and answered has its consumer; one without (or with a closed one)
            # lost its producer, even if one of the same id is back (a cascade link that came
            # again keeps the ids): it is offered anew, for the new producer to be attached.
            ended = slot.consumer is None or slot.consumer.closed
            if slot.producer_id is not None and (slot.producer_id not in wanted or ended):
                slot.detach()
                slot.producer_id = None
                assert slot.transceiver is not None
                slot.transceiver.direction = "inactive"
                changed = True
        assigned = {slot.producer_id for slot in self._slots}
        for producer in wanted.values():
            if producer.id not in assigned:
                self._assign_slot(producer)
                changed = True
        if not changed:
            return None
        pc = self._subscribe_connection()
        with gathering_on(self._settings.ice_gather_addresses):
            await pc.setLocalDescription(await pc.createOffer())
        drain_sockets(pc, self._settings.native_send)
        tracks = {
            slot.mid: wanted[slot.producer_id].info
            for slot in self._slots
            if slot.mid is not None and slot.producer_id in wanted
        }
        return SubscribeOffer(self._outgoing(pc.localDescription.sdp), tracks)

    def _assign_slot(self, producer: Producer) -> None:
        kind, codec = media_kind(producer.kind), producer.capability
        slot = next((s for s in self._slots if s.accepts(kind, codec)), None)
        if slot is None:
            slot = Slot(kind, codec)
            transceiver = self._subscribe_connection().addTransceiver(slot, direction="sendonly")
            transceiver.setCodecPreferences(subscribe_preferences(codec))
            intercept_keyframe_requests(transceiver.sender, slot.request_keyframe)
            if self._settings.forwarding == "packet":
                slot.send_packets(transceiver, self._settings.native_send)
            slot.transceiver = transceiver
            self._slots.append(slot)
        else:
            assert slot.transceiver is not None
            slot.transceiver.direction = "sendonly"
        slot.producer_id = producer.id

    def _attach_consumers(self) -> None:
        """Start forwarding into m-lines the client has just accepted."""
        for slot in self._slots:
            if slot.producer_id is None or slot.consumer is not None:
                continue
            producer = self._room.producer(slot.producer_id)
            if producer is None:
                continue
            if slot.out is not None:
                slot.attach(producer.consume_packets(slot.out, self.id))
            else:
                slot.attach(producer.consume(self._settings.consumer_queue_max))

    def set_view(self, producer_id: str, width: int, height: int, visible: bool) -> bool:
        """How this subscriber's client shows a video (tile size in device pixels, shown or not).

        It caps the simulcast layer forwarded to it (``layer_choice.py``); other producers take
        no layers and ignore it. False if this peer does not receive ``producer_id``.
        """
        if width < 0 or height < 0:
            raise ValueError(f"tile size must not be negative: {width}x{height}")
        producer = self._room.producer(producer_id)
        slot = next((s for s in self._slots if s.producer_id == producer_id), None)
        if producer is None or slot is None:
            return False
        if isinstance(slot.consumer, PacketConsumer):
            producer.set_view(slot.consumer, View(width, height, visible))
        return True

    def _subscribe_connection(self) -> RTCPeerConnection:
        if self._subscribe_pc is None:
            self._subscribe_pc = self._new_connection("subscribe")
        return self._subscribe_pc

    # -- both connections -------------------------------------------------

    async def add_remote_candidate(
        self,
        connection: Connection,
        candidate: str,
        sdp_mid: str | None = None,
        sdp_mline_index: int | None = None,
    ) -> bool:
        """Add a trickled remote candidate; False if the network policy refused it.

        An empty ``candidate`` signals the end of candidates; mDNS ones are resolved
        first (candidates.RemoteCandidates). Trickle is optional: complete SDPs work
        without it.
        """
        remote = self._remote.get(connection)
        if remote is None:
            raise InvalidStateError(f"no {connection} connection yet")
        return await remote.add(candidate, sdp_mid, sdp_mline_index)

    async def close(self) -> None:
        """Release everything: tasks, consumers, connections (and their sockets)."""
        self._closed = True
        if self._negotiation is not None:
            self._negotiation.cancel()
            await asyncio.gather(self._negotiation, return_exceptions=True)
        for remote in self._remote.values():
            await remote.close()
        for slot in self._slots:
            slot.stop()
        for pc in (self._publish_pc, self._subscribe_pc):
            if pc is not None:
                await pc.close()

    def _new_connection(self, name: Connection) -> RTCPeerConnection:
        pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=[server.as_rtc() for server in self._settings.ice_servers],
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )

        self._remote[name] = RemoteCandidates(
            pc, self._room.network_policy, f"peer {self.id} {name}",
            self._settings.mdns_resolve_timeout_s,
        )

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "failed":
                self._room.peer_failed(self.id, f"{name} connection failed")

        return pc

    def _outgoing(self, sdp: str) -> str:
        announced = self._settings.announced_address
        return announce_address(sdp, announced) if announced else sdp

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidStateError(f"peer {self.id} has left")
