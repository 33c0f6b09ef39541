"""Both ends of a cascade link inside one node's room (docs/sfu.md, "Cascade").

A link joins one meeting's rooms on two nodes. Each direction is one connection with one fixed
offerer, as for a participant: the sending node's room holds a :class:`~server.sfu.peer.Peer`
named ``link:<other node>`` whose subscribe connection offers every track of the room that did not
come over this link (the ordinary packet path: one copy per track, whatever the number of
subscribers behind the link, PLI/NACK answered as for any subscriber); the receiving node answers
with a :class:`LinkReceiver`, which turns each track into a producer of its own room, owned by the
track's real participant and keeping its producer id, so local subscribers take it like any other.
A subscriber's PLI on the receiving node goes up the link as the receiver's PLI, and from the
sending node's link peer to the publisher, throttled at each hop.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, sdp as aiortc_sdp
from aiortc.mediastreams import MediaStreamTrack

from .candidates import RemoteCandidates, announce_address
from .ice import gathering_on
from .passthrough import pass_through
from .peer import Peer
from .producer import Producer, ProducerInfo
from .receiving import receiving_producer
from .room import Room
from .sockets import drain_sockets

LINK_PREFIX = "link:"


def link_id(node_id: str) -> str:
    """The peer id (and producer origin) of the link to ``node_id`` in a room."""
    return f"{LINK_PREFIX}{node_id}"


@dataclass(frozen=True)
class DirectionCounters:
    """One direction of a link since it opened: what crossed it and what the far end reports."""

    tracks: int
    """Tracks carried now (active m-lines)."""
    packets: int
    payload_bytes: int
    """RTP payload bytes (media and retransmissions; no headers)."""
    packets_lost: int
    fraction_lost: float
    """Sending: the worst share lost in the far end's latest reports; receiving: the share lost
    since the link opened (0..1)."""
    rtt_s: float | None
    """Round-trip time from sender/receiver reports (sending direction only)."""


async def sending_counters(peer: Peer) -> DirectionCounters:
    """What a link peer's subscribe connection sent (the packet path's counters)."""
    outs = [slot.out for slot in peer.slots if slot.out is not None]
    reports = [out.receiver_report for out in outs if out.receiver_report is not None]
    rtts: list[float] = []
    pc = peer.subscribe_connection
    if pc is not None:
        stats = await pc.getStats()
        rtts = [s.roundTripTime for s in stats.values() if s.type == "remote-inbound-rtp" and s.roundTripTime]
    return DirectionCounters(
        tracks=sum(1 for slot in peer.slots if slot.consumer is not None),
        packets=sum(out.packets for out in outs),
        payload_bytes=sum(out.octets for out in outs),
        packets_lost=sum(r.packets_lost for r in reports),
        fraction_lost=max((r.fraction_lost for r in reports), default=0.0),
        rtt_s=sum(rtts) / len(rtts) if rtts else None,
    )


class LinkReceiver:
    """The receiving end of one link direction: answers the other node's offers, feeds the room."""

    def __init__(self, room: Room, link: str) -> None:
        self.link = link
        self._room = room
        settings = room.settings
        self._settings = settings
        pc = self._pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=[server.as_rtc() for server in settings.ice_servers],
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )
        self._remote = RemoteCandidates(pc, room.network_policy, f"{link} receiving",
                                        settings.mdns_resolve_timeout_s)
        self._producers: dict[str, Producer] = {}  # by mid
        self._done_packets = 0
        self._done_bytes = 0
        """Counts of producers already replaced or ended (the link's totals outlive them)."""
        self._lock = asyncio.Lock()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    pass_through(transceiver.receiver)

    @property
    def connection(self) -> RTCPeerConnection:
        return self._pc

    @property
    def producers(self) -> list[Producer]:
        return list(self._producers.values())

    async def answer(self, offer_sdp: str, tracks: Mapping[str, ProducerInfo]) -> str:
        """Apply the other node's offer; each active mid in ``tracks`` becomes (or stays) a producer."""
        async with self._lock:
            pc = self._pc
            await self._remote.set_remote_description(offer_sdp, "offer")
            with gathering_on(self._settings.ice_gather_addresses):
                await pc.setLocalDescription(await pc.createAnswer())
            drain_sockets(pc, self._settings.native_send)
            answer = aiortc_sdp.SessionDescription.parse(pc.localDescription.sdp)
            for transceiver in pc.getTransceivers():
                mid = transceiver.mid
                if mid is None:
                    continue
                receiving = transceiver.currentDirection in ("recvonly", "sendrecv")
                wanted = tracks.get(mid) if receiving else None
                current = self._producers.get(mid)
                if current is not None and (wanted is None or wanted.id != current.id):
                    await self._retire(mid, current)
                    current = None
                if wanted is not None and current is None:
                    media = next(m for m in answer.media if m.rtp.muxId == mid)
                    producer = receiving_producer(self._room, transceiver, media, wanted.kind,
                                                  wanted.peer_id, producer_id=wanted.id, origin=self.link)
                    self._producers[mid] = producer
                    self._room.add_producer(producer)
            sdp = pc.localDescription.sdp
            announced = self._settings.announced_address
            return announce_address(sdp, announced) if announced else sdp

    async def _retire(self, mid: str, producer: Producer) -> None:
        """The track left the m-line: its producer goes; the receiver stays if the m-line goes on."""
        del self._producers[mid]
        packets, payload_bytes = producer.received
        self._done_packets += packets
        self._done_bytes += payload_bytes
        self._room.forget_producer(producer)
        # An inactive m-line's receiver may carry the next track (the sender recycles m-lines).
        await producer.close(stop_receiver=False)

    async def counters(self) -> DirectionCounters:
        stats = await self._pc.getStats()
        lost = sum(max(0, s.packetsLost) for s in stats.values() if s.type == "inbound-rtp")
        received = [p.received for p in self._producers.values()]
        packets = self._done_packets + sum(p for p, _ in received)
        return DirectionCounters(
            tracks=len(self._producers),
            packets=packets,
            payload_bytes=self._done_bytes + sum(b for _, b in received),
            packets_lost=lost,
            fraction_lost=lost / (lost + packets) if lost + packets else 0.0,
            rtt_s=None,
        )

    async def close(self) -> None:
        """The link is gone: its tracks leave the room (subscribers are told), the connection closes."""
        async with self._lock:
            for mid, producer in list(self._producers.items()):
                del self._producers[mid]
                await self._room.close_producer(producer)
            await self._remote.close()
            await self._pc.close()
