"""One meeting's media: its peers, their producers, its active speaker."""

import logging
from typing import Any

from pyee.asyncio import AsyncIOEventEmitter

from .candidates import NetworkPolicy
from .degradation import Episode, Shortfall, SiteDegradation
from .link_stats import LinkSampler, RoomLinks
from .packet_consumer import PacketConsumer
from .peer import OfferCallback, Peer
from .producer import Producer, ProducerInfo
from .settings import SfuSettings
from .speaker import ActiveSpeakerDetector

logger = logging.getLogger(__name__)


class Room(AsyncIOEventEmitter):
    """A meeting's forwarding state; obtained from :meth:`Sfu.room`.

    Events (pyee, like aiortc's own objects; handlers may be coroutines):

    - ``"producer_added"`` (:class:`ProducerInfo`): a peer started publishing.
    - ``"producer_removed"`` (:class:`ProducerInfo`): it stopped or left.
    - ``"producer_muted"`` (:class:`ProducerInfo`): server-side mute changed.
    - ``"producer_paused"`` (:class:`ProducerInfo`, ``bool``): its owner switched the
      camera or microphone off (True) or on (False); see :meth:`Peer.set_paused`.
    - ``"speaker_changed"`` (``str | None``): the active speaker's peer id.
    - ``"link_degraded"`` / ``"link_recovered"`` (:class:`~.degradation.Episode`): a
      subscriber's video stayed below what its tiles want, and came back (``degradation.py``).
    - ``"peer_failed"`` (``str, str``): peer id and reason; the signaling layer
      decides whether to :meth:`leave` it.
    """

    def __init__(self, meeting_id: str, settings: SfuSettings) -> None:
        super().__init__()
        self.meeting_id = meeting_id
        self.settings = settings
        self.network_policy = NetworkPolicy(settings.allowed_networks, settings.denied_networks)
        self._peers: dict[str, Peer] = {}
        self._producers: dict[str, Producer] = {}
        self.detects_speaker = True
        """False on a cascade edge: the meeting's home node, which receives every track, names
        the speaker for all nodes (its broadcast reaches every node's clients)."""
        self._speaker = ActiveSpeakerDetector(
            settings.speaker_interval_s,
            settings.speaker_hold_s,
            on_change=self._speaker_changed,
        )
        self._links = LinkSampler()
        self._degradation = SiteDegradation(self._degradation_changed)

    @property
    def peers(self) -> dict[str, Peer]:
        return dict(self._peers)

    @property
    def speaker(self) -> str | None:
        return self._speaker.speaker

    async def link_snapshot(self) -> RoomLinks:
        """Every peer's link state now; rates cover the time since the previous snapshot."""
        return await self._links.snapshot(self.meeting_id, list(self._peers.values()))

    def producers(self) -> list[ProducerInfo]:
        return [producer.info for producer in self._producers.values()]

    def producer(self, producer_id: str) -> Producer | None:
        return self._producers.get(producer_id)

    def producers_for(self, peer_id: str) -> list[Producer]:
        """Everything ``peer_id`` should receive: every other peer's producers (for a cascade
        link's peer, all but those that came over that same link: no echo)."""
        return [p for p in self._producers.values() if p.peer_id != peer_id and p.origin != peer_id]

    async def join(
        self, peer_id: str, info: dict[str, Any], on_subscribe_offer: OfferCallback
    ) -> Peer:
        """Add a participant; a rejoin with the same id replaces the old one.

        ``on_subscribe_offer`` is awaited with every offer for the peer's
        subscribe connection; answer each with :meth:`Peer.subscribe_answer`.
        """
        while peer_id in self._peers:  # looped: another join of the same id may enter while one leaves
            await self.leave(peer_id)
        peer = Peer(self, peer_id, info, on_subscribe_offer)
        self._peers[peer_id] = peer
        if self.producers_for(peer_id):
            peer.request_negotiation()
        return peer

    async def leave(self, peer_id: str) -> None:
        peer = self._peers.pop(peer_id, None)
        if peer is None:
            return
        for producer in list(peer.producers.values()):
            await self.close_producer(producer)
        await peer.close()
        self._degradation.forget(peer_id)

    async def close(self) -> None:
        for peer_id in list(self._peers):
            await self.leave(peer_id)
        self.remove_all_listeners()

    # -- called by peers and producers ------------------------------------

    def add_producer(self, producer: Producer) -> None:
        self._producers[producer.id] = producer
        self.emit("producer_added", producer.info)
        self._renegotiate_others(producer.peer_id)

    def forget_producer(self, producer: Producer) -> None:
        """Drop a producer that has ended or is being closed."""
        if self._producers.pop(producer.id, None) is None:
            return
        peer = self._peers.get(producer.peer_id)
        if peer is not None:
            peer.forget_producer(producer)
        if producer.kind == "audio":
            self._speaker.forget(producer.peer_id)
        self.emit("producer_removed", producer.info)
        self._renegotiate_others(producer.peer_id)

    async def close_producer(self, producer: Producer) -> None:
        self.forget_producer(producer)
        await producer.close()

    def set_producer_muted(self, producer: Producer, muted: bool) -> None:
        if producer.muted == muted:
            return
        producer.set_muted(muted)
        if muted and producer.kind == "audio":
            self._speaker.forget(producer.peer_id)
        self.emit("producer_muted", producer.info)

    def producer_paused(self, producer: Producer, paused: bool) -> None:
        self.emit("producer_paused", producer.info, paused)

    def is_paused(self, info: ProducerInfo) -> bool:
        """Whether the producer's owner has switched its source off (camera, microphone)."""
        peer = self._peers.get(info.peer_id)
        return peer is not None and info.kind in peer.paused

    def observe_activity(self, peer_id: str, activity: float) -> None:
        if self.detects_speaker:
            self._speaker.observe(peer_id, activity)

    def shortfall(self, subscriber: str, consumer: PacketConsumer, shortfall: Shortfall | None) -> None:
        self._degradation.report(subscriber, consumer, shortfall)

    def _degradation_changed(self, event: str, episode: Episode) -> None:
        self.emit(event, episode)

    def peer_failed(self, peer_id: str, reason: str) -> None:
        logger.warning("room %s: peer %s failed: %s", self.meeting_id, peer_id, reason)
        self.emit("peer_failed", peer_id, reason)

    def _speaker_changed(self, peer_id: str | None) -> None:
        self.emit("speaker_changed", peer_id)

    def _renegotiate_others(self, peer_id: str) -> None:
        for other_id, peer in self._peers.items():
            if other_id != peer_id:
                peer.request_negotiation()
