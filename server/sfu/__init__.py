"""Selective forwarding of encoded media between aiortc peer connections.

Received RTP packets are rewritten and sent on to each subscriber (the packet
path, ``SfuSettings.forwarding = "packet"``), or reassembled into frames that
each subscriber's aiortc sender packetises again (``"frame"``).

Depends on aiortc 1.16 / aioice 0.13 internals (each use is marked where it
happens; the packet path's sending side is all in ``rtp_forward.py``); pin those
versions and keep tests/media green, on both paths, when upgrading.
"""

from .peer import Peer, SubscribeOffer
from .producer import ProducerInfo, ProducerKind
from .room import Room
from .settings import IceServer, SfuSettings
from .sfu import Sfu

__all__ = [
    "IceServer",
    "Peer",
    "ProducerInfo",
    "ProducerKind",
    "Room",
    "Sfu",
    "SfuSettings",
    "SubscribeOffer",
]
