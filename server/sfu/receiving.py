"""A producer from a receiving m-line: what a publisher's connection and a cascade link share.

Both read an m-line some other party sends on, and both need the same facts of its negotiated SDP
(the codec sent first, the media and RTX payload types) to forward its packets as they come.
"""

from aiortc import RTCRtpTransceiver, sdp as aiortc_sdp
from aiortc.codecs import is_rtx

from .host import PeerHost
from .producer import Producer, ProducerKind
from .simulcast_sdp import SimulcastOffer


def receiving_producer(
    host: PeerHost,
    transceiver: RTCRtpTransceiver,
    media: aiortc_sdp.MediaDescription,
    kind: ProducerKind,
    peer_id: str,
    *,
    simulcast: SimulcastOffer | None = None,
    producer_id: str | None = None,
    origin: str | None = None,
) -> Producer:
    """A producer of ``peer_id`` reading ``transceiver``, whose negotiated m-line is ``media``
    (not yet added to the room: the caller does, once it has filed it); ``simulcast``: the layers
    a publisher offered (a cascade link carries one stream per track)."""
    codecs = [c for c in media.rtp.codecs if not is_rtx(c)]
    rtx = {
        c.payloadType: apt
        for c in media.rtp.codecs
        if is_rtx(c) and c.payloadType is not None and isinstance(apt := c.parameters.get("apt"), int)
    }
    settings = host.settings
    return Producer(
        peer_id=peer_id,
        kind=kind,
        track=transceiver.receiver.track,
        receiver=transceiver.receiver,
        codec=codecs[0],
        media_payload_types={c.payloadType for c in codecs if c.payloadType is not None},
        rtx_payload_types=rtx,
        keyframe_min_interval_s=settings.keyframe_min_interval_s,
        forwarding=settings.forwarding,
        nack_cache_packets=settings.nack_cache_packets,
        on_activity=host.observe_activity,
        on_ended=host.forget_producer,
        on_shortfall=host.shortfall,
        simulcast=simulcast,
        producer_id=producer_id,
        origin=origin,
    )
