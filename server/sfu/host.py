"""What a peer needs of the room it is in.

A Peer calls back into its room (producers come and go, activity, failures); it is typed against
this protocol, which Room satisfies, so that peer.py and room.py do not import each other.
"""

from typing import Protocol

from .candidates import NetworkPolicy
from .degradation import Shortfall
from .packet_consumer import PacketConsumer
from .producer import Producer
from .settings import SfuSettings


class PeerHost(Protocol):
    settings: SfuSettings
    network_policy: NetworkPolicy

    def producer(self, producer_id: str) -> Producer | None: ...

    def producers_for(self, peer_id: str) -> list[Producer]: ...

    def add_producer(self, producer: Producer) -> None: ...

    def forget_producer(self, producer: Producer) -> None: ...

    async def close_producer(self, producer: Producer) -> None: ...

    def set_producer_muted(self, producer: Producer, muted: bool) -> None: ...

    def producer_paused(self, producer: Producer, paused: bool) -> None: ...

    def observe_activity(self, peer_id: str, activity: float) -> None: ...

    def shortfall(self, subscriber: str, consumer: PacketConsumer, shortfall: Shortfall | None) -> None: ...

    def peer_failed(self, peer_id: str, reason: str) -> None: ...
