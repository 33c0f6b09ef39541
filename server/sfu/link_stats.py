"""Link state per participant: what each peer sends up and receives down, read when asked.

The chair's "link state" panel and ``/metrics`` both want rates (kbps, loss over the last few
seconds), but the SFU only keeps counters. Rather than a task per consumer that samples them, a
:class:`LinkSampler` (one per room) keeps the counters it read at the previous snapshot and
divides the difference by the time in between; a snapshot asked for again within
``MIN_INTERVAL_S`` (two chairs' panels, a scraper) repeats the previous rates instead of dividing
by almost nothing.

Where the numbers come from (aiortc 1.16):

- **Publish side** (per producer): the publisher's own sender reports (``remote-outbound-rtp`` in
  the receiver's public ``getStats()``: payload octets it sent, stamped with its clock) give the
  bitrate it sends; the receiver's per-SSRC RTP statistics give packets missing on arrival
  (before any retransmission) and jitter. The SFU cannot measure the publisher's round trip (it
  only receives on that connection), so a peer's RTT is its subscribe connection's.
- **Subscribe side** (per consumer, i.e. per m-line carrying a producer): the m-line's sent payload
  octets (``RtpOut`` on the packet path; the sender's ``getStats()`` on the frame path), the
  consumer's counters (:class:`~.packet_consumer.ConsumerStats`), the subscriber's receiver report
  (loss, jitter) and REMB, and the round-trip time aiortc's sender derives from those receiver
  reports' LSR/DLSR against the sender reports ``rtp_forward`` fills in.
"""

import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.stats import RTCRemoteInboundRtpStreamStats, RTCRemoteOutboundRtpStreamStats

from .packet_consumer import PacketConsumer
from .peer import Peer
from .producer import Producer, ProducerKind
from .slot import Slot

MIN_INTERVAL_S = 1.0
"""A snapshot sooner than this after the previous one repeats its rates (too short to divide by)."""
SENDER_REPORT_STALE_S = 12.0
"""A publisher whose newest sender report is older than this is taken to send nothing (browsers
report audio every 5 s, jittered up to 7.5 s, so an audio rate shows ~10 s after it starts)."""

Quality = Literal["good", "fair", "poor", "unknown"]

GOOD_MAX_LOSS = 0.02
GOOD_MAX_RTT_MS = 150.0
POOR_MIN_LOSS = 0.08
POOR_MIN_RTT_MS = 400.0
"""The one place the panel's coloured dot is decided: below both GOOD_ limits is good, at or over
either POOR_ limit is poor, fair in between."""


def link_quality(loss_fraction: float | None, rtt_ms: float | None) -> Quality:
    """Good / fair / poor from the worse of loss and round-trip time; unknown with neither."""
    if loss_fraction is None and rtt_ms is None:
        return "unknown"
    loss = loss_fraction or 0.0
    rtt = rtt_ms or 0.0
    if loss >= POOR_MIN_LOSS or rtt >= POOR_MIN_RTT_MS:
        return "poor"
    if loss < GOOD_MAX_LOSS and rtt < GOOD_MAX_RTT_MS:
        return "good"
    return "fair"


@dataclass(frozen=True)
class Interval:
    """Counter increases over ``seconds`` (between two samples of the same counters)."""

    seconds: float
    deltas: tuple[int, ...]

    def rate(self, index: int = 0) -> float:
        """Increase per second of counter ``index``."""
        return self.deltas[index] / self.seconds


@dataclass
class _Sample:
    at: float
    counts: tuple[int, ...]
    interval: Interval | None


class CounterSampler:
    """The last sample of each key's counters, and the interval to the one before.

    Counters that went backwards (a restarted stream) start the key afresh.
    """

    def __init__(self, min_interval_s: float = MIN_INTERVAL_S) -> None:
        self._min_interval_s = min_interval_s
        self._samples: dict[Hashable, _Sample] = {}

    def interval(self, key: Hashable, counts: tuple[int, ...], at: float) -> Interval | None:
        """The increase of ``counts`` since the key's previous sample (None for a first sample).

        Within ``min_interval_s`` of that sample the previous interval is returned again and the
        sample is kept, so frequent callers still measure over a useful span.
        """
        previous = self._samples.get(key)
        if previous is None or any(now < before for now, before in zip(counts, previous.counts, strict=True)):
            self._samples[key] = _Sample(at, counts, None)
            return None
        if at - previous.at < self._min_interval_s:
            return previous.interval
        interval = Interval(at - previous.at, tuple(n - b for n, b in zip(counts, previous.counts, strict=True)))
        self._samples[key] = _Sample(at, counts, interval)
        return interval

    def keep_only(self, keys: Iterable[Hashable]) -> None:
        """Forget keys not in ``keys`` (departed peers and producers)."""
        wanted = set(keys)
        for key in [k for k in self._samples if k not in wanted]:
            del self._samples[key]


@dataclass(frozen=True)
class PublishLink:
    """One producer as the SFU receives it from its publisher."""

    producer_id: str
    kind: ProducerKind
    muted: bool
    bitrate_kbps: float | None
    """Payload the publisher says it sent (its sender reports), over the last interval."""
    packets_received: int
    packets_lost: int
    """Packets missing on arrival since the start (before any retransmission arrived)."""
    loss_fraction: float | None
    """Share of packets missing on arrival over the last interval."""
    jitter_ms: float | None
    upstream_nacks: int
    """NACKs the SFU sent the publisher for packets subscribers missed and its cache lacked."""
    layers: int = 1
    """Simulcast layers the publisher is sending now (it may drop some on a weak uplink)."""


@dataclass(frozen=True)
class SubscribeLink:
    """One producer as one subscriber receives it (one m-line of its subscribe connection)."""

    producer_id: str
    publisher_peer_id: str
    kind: ProducerKind
    bitrate_kbps: float | None
    """Payload sent on the m-line over the last interval."""
    bytes_sent: int
    loss_fraction: float | None
    """The subscriber's newest receiver report: share lost since its previous report."""
    jitter_ms: float | None
    remb_kbps: float | None
    rtt_ms: float | None
    forwarded: int
    nacks_answered: int
    nacks_missed: int
    retransmitted: int
    send_dropped: int
    """Packets the subscriber's full socket buffer refused (the m-line's, across producers)."""
    waiting_dropped: int
    """Packets skipped while waiting for a keyframe."""
    layer: int | None = None
    """The simulcast layer forwarded (0 = lowest); None when the producer sends no layers."""
    wanted_layer: int | None = None
    """The layer its tile wants (the smallest that fills it); above ``layer`` while the link holds it back."""
    layers: int = 1


@dataclass(frozen=True)
class PeerLinks:
    """One participant's two directions, summed up for the panel."""

    peer_id: str
    name: str
    publish: tuple[PublishLink, ...]
    subscribe: tuple[SubscribeLink, ...]
    up_kbps: float | None
    down_kbps: float | None
    up_loss: float | None
    """The worst producer's loss on the way in."""
    down_loss: float | None
    """The worst loss the participant reports receiving."""
    rtt_ms: float | None
    """The longest round trip of its subscribe connection's m-lines (the same network path)."""
    quality: Quality
    down_layer: SubscribeLink | None = None
    """Its layered video furthest below what its tile wants (the lowest layer when none is): the
    panel's 画质 column shows its layer out of the layers sent."""
    up_layers: int | None = None
    """The most simulcast layers any of its video producers sends; None when it sends no video."""


@dataclass(frozen=True)
class RoomTotals:
    """Room-wide aggregates (for ``/metrics``)."""

    peers: int
    producers: int
    consumers: int
    bytes_sent: int
    """Payload sent to subscribers by the consumers present now."""
    send_dropped: int
    mean_subscriber_loss: float | None
    max_subscriber_loss: float | None

    @classmethod
    def of(cls, peers: Sequence[PeerLinks]) -> "RoomTotals":
        subscribed = [link for peer in peers for link in peer.subscribe]
        losses = [link.loss_fraction for link in subscribed if link.loss_fraction is not None]
        return cls(
            peers=len(peers),
            producers=sum(len(peer.publish) for peer in peers),
            consumers=len(subscribed),
            bytes_sent=sum(link.bytes_sent for link in subscribed),
            # send_dropped is per m-line; each m-line carries one consumer at a time.
            send_dropped=sum(link.send_dropped for link in subscribed),
            mean_subscriber_loss=sum(losses) / len(losses) if losses else None,
            max_subscriber_loss=max(losses) if losses else None,
        )


@dataclass(frozen=True)
class RoomLinks:
    """A room's link state at one moment."""

    meeting_id: str
    peers: tuple[PeerLinks, ...]
    taken_at: float
    """time.time() of the snapshot."""
    totals: RoomTotals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", RoomTotals.of(self.peers))


def _total(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _worst(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _kbps(interval: Interval | None) -> float | None:
    return interval.rate() * 8 / 1000 if interval is not None else None


class LinkSampler:
    """Takes a room's link snapshots; keeps the previous counters between them."""

    def __init__(self) -> None:
        self._counters = CounterSampler()

    async def snapshot(self, meeting_id: str, peers: Sequence[Peer]) -> RoomLinks:
        seen: list[Hashable] = []
        producers = {producer.id: producer for peer in peers for producer in peer.producers.values()}
        links = []
        for peer in peers:
            publish = [await self._publish_link(peer, producer, seen) for producer in peer.producers.values()]
            subscribe = [
                link
                for slot_index, slot in enumerate(peer.slots)
                if (link := await self._subscribe_link(peer, slot_index, slot, producers, seen)) is not None
            ]
            links.append(self._peer_links(peer, tuple(publish), tuple(subscribe)))
        self._counters.keep_only(seen)
        return RoomLinks(meeting_id, tuple(links), time.time())

    @staticmethod
    def _peer_links(peer: Peer, publish: tuple[PublishLink, ...], subscribe: tuple[SubscribeLink, ...]) -> PeerLinks:
        up_loss = _worst(link.loss_fraction for link in publish)
        down_loss = _worst(link.loss_fraction for link in subscribe)
        rtt_ms = _worst(link.rtt_ms for link in subscribe)
        return PeerLinks(
            peer_id=peer.id,
            name=str(peer.info.get("display_name") or peer.id),
            publish=publish,
            subscribe=subscribe,
            up_kbps=_total(link.bitrate_kbps for link in publish),
            down_kbps=_total(link.bitrate_kbps for link in subscribe),
            up_loss=up_loss,
            down_loss=down_loss,
            rtt_ms=rtt_ms,
            quality=link_quality(_worst((up_loss, down_loss)), rtt_ms),
            down_layer=furthest_below(subscribe),
            up_layers=max((link.layers for link in publish if link.kind != "audio"), default=None),
        )

    async def _publish_link(self, peer: Peer, producer: Producer, seen: list[Hashable]) -> PublishLink:
        ssrc = producer.keyframes.media_ssrc
        receiver = _receiver_of(peer, ssrc)
        received = lost = 0
        loss = jitter_ms = bitrate = None
        if receiver is not None and ssrc is not None:
            # aiortc 1.16 internal: RTCRtpReceiver.__remote_streams, the per-SSRC RFC 3550 counters
            # behind its receiver reports (getStats() files every SSRC under one id, so RTX
            # hides the media stream there). Only side-effect-free fields are read:
            # StreamStatistics.fraction_lost resets the receiver's own report interval.
            stream = receiver._RTCRtpReceiver__remote_streams.get(ssrc)  # type: ignore[attr-defined]
            if stream is not None:
                received, lost = stream.packets_received, stream.packets_lost
                expected = stream.packets_expected
                jitter_ms = stream.jitter * 1000 / producer.codec.clockRate
                # received and expected both only grow (lost shrinks when a late packet arrives)
                span = self._counters.interval(("in-loss", producer.id), (received, expected), time.monotonic())
                if span is not None and span.deltas[1] > 0:
                    loss = min(max(1 - span.deltas[0] / span.deltas[1], 0.0), 1.0)
                seen.append(("in-loss", producer.id))
            bitrate = await self._sent_by_publisher(receiver, ssrc, producer.id, seen)
        return PublishLink(
            producer_id=producer.id,
            kind=producer.kind,
            muted=producer.muted,
            bitrate_kbps=bitrate,
            packets_received=received,
            packets_lost=lost,
            loss_fraction=loss,
            jitter_ms=jitter_ms,
            upstream_nacks=producer.upstream_nacks,
            layers=producer.live_layers(),
        )

    async def _sent_by_publisher(
        self, receiver: RTCRtpReceiver, ssrc: int, producer_id: str, seen: list[Hashable]
    ) -> float | None:
        """The publisher's sending rate from its newest sender reports (octet count, NTP time)."""
        key = ("in-bytes", producer_id)
        seen.append(key)
        report = next(
            (
                stats
                for stats in (await receiver.getStats()).values()
                if isinstance(stats, RTCRemoteOutboundRtpStreamStats) and stats.ssrc == ssrc
            ),
            None,
        )
        if report is None or report.remoteTimestamp is None:
            return None
        if time.time() - report.timestamp.timestamp() > SENDER_REPORT_STALE_S:
            return 0.0
        span = self._counters.interval(key, (report.bytesSent,), report.remoteTimestamp.timestamp())
        return _kbps(span)

    async def _subscribe_link(
        self, peer: Peer, slot_index: int, slot: Slot, producers: dict[str, Producer], seen: list[Hashable]
    ) -> SubscribeLink | None:
        """The m-line's link, or None while it carries nothing (inactive, or not yet answered)."""
        consumer = slot.consumer
        transceiver = slot.transceiver
        publisher = producers.get(slot.producer_id) if slot.producer_id is not None else None
        if consumer is None or transceiver is None or publisher is None:
            return None
        sender = transceiver.sender
        rtt_ms, report_bytes = await _sender_report(sender)
        key = ("out", peer.id, slot_index, slot.producer_id)
        seen.append(key)
        stats = consumer.stats() if isinstance(consumer, PacketConsumer) else None
        bytes_sent = slot.out.octets if slot.out is not None else report_bytes
        report = stats.receiver_report if stats is not None else None
        choice = publisher.layer_choice(consumer) if isinstance(consumer, PacketConsumer) else None
        return SubscribeLink(
            producer_id=publisher.id,
            publisher_peer_id=publisher.peer_id,
            kind=publisher.kind,
            bitrate_kbps=_kbps(self._counters.interval(key, (bytes_sent,), time.monotonic())),
            bytes_sent=bytes_sent,
            loss_fraction=report.fraction_lost if report is not None else None,
            jitter_ms=report.jitter_s * 1000 if report is not None else None,
            remb_kbps=stats.remb_bps / 1000 if stats is not None and stats.remb_bps is not None else None,
            rtt_ms=rtt_ms,
            forwarded=stats.forwarded if stats is not None else 0,
            nacks_answered=stats.nacks_answered if stats is not None else 0,
            nacks_missed=stats.nacks_missed if stats is not None else 0,
            retransmitted=stats.retransmitted if stats is not None else 0,
            send_dropped=stats.send_dropped if stats is not None else 0,
            waiting_dropped=stats.waiting_dropped if stats is not None else 0,
            layer=stats.layer if stats is not None else None,
            wanted_layer=choice.view_limit() if choice is not None else None,
            layers=stats.layers if stats is not None else 1,
        )


def furthest_below(links: Iterable[SubscribeLink]) -> SubscribeLink | None:
    """The layered link furthest below the layer it wants (then the lowest layer)."""
    layered = [link for link in links if link.layer is not None and link.layers > 1]
    return min(
        layered,
        key=lambda link: (-((link.wanted_layer or 0) - (link.layer or 0)), link.layer),
        default=None,
    )


def _receiver_of(peer: Peer, ssrc: int | None) -> RTCRtpReceiver | None:
    """The publish connection's receiver that gets media SSRC ``ssrc``."""
    pc = peer.publish_connection
    if pc is None or ssrc is None:
        return None
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        # aiortc 1.16 internal: see LinkSampler._publish_link.
        if ssrc in receiver._RTCRtpReceiver__remote_streams:  # type: ignore[attr-defined]
            return receiver
    return None


async def _sender_report(sender: RTCRtpSender) -> tuple[float | None, int]:
    """The sender's smoothed round-trip time (ms; None before one was measured) and bytes sent."""
    rtt_ms: float | None = None
    bytes_sent = 0
    for stats in (await sender.getStats()).values():
        if isinstance(stats, RTCRemoteInboundRtpStreamStats) and stats.roundTripTime is not None:
            rtt_ms = stats.roundTripTime * 1000
        elif stats.type == "outbound-rtp":
            bytes_sent = getattr(stats, "bytesSent", 0)
    return rtt_ms, bytes_sent
