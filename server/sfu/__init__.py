"""Selective forwarding of encoded media between aiortc peer connections.

Depends on aiortc 1.16 / aioice 0.13 internals (each use is marked where it
happens); pin those versions and keep tests/media green when upgrading.
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
