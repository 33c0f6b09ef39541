"""Settings of the selective forwarding unit."""

from dataclasses import dataclass
from typing import Any, Literal

from aiortc import RTCIceServer

# Remote candidates in these networks are never a legitimate media peer but are
# classic targets for making a server send traffic inward (loopback services,
# cloud metadata at 169.254.169.254, multicast, "this network").
DEFAULT_DENIED_NETWORKS: tuple[str, ...] = (
    "0.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "fe80::/10",
    "ff00::/8",
)


Forwarding = Literal["packet", "frame"]
FORWARDING_MODES: tuple[Forwarding, ...] = ("packet", "frame")


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server, given to clients and used by the SFU itself."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def as_client_dict(self) -> dict[str, Any]:
        """The shape of a browser ``RTCIceServer`` dictionary."""
        entry: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            entry["username"] = self.username
        if self.credential is not None:
            entry["credential"] = self.credential
        return entry

    def as_rtc(self) -> RTCIceServer:
        return RTCIceServer(
            urls=list(self.urls), username=self.username, credential=self.credential
        )


@dataclass(frozen=True)
class SfuSettings:
    """Everything the SFU needs to know about its network and its budgets.

    Empty ``ice_servers`` means no STUN/TURN at all: aiortc's own default would
    send STUN to a public Google server, which a government network must opt
    into, not discover.
    """

    ice_gather_addresses: tuple[str, ...] = ()
    """Local IP addresses or interface names to gather host candidates on; empty = every
    interface but 127.0.0.1 (aioice's choice). docs/network.md says how to choose."""

    announced_address: str | None = None
    """Public address replacing host candidate addresses (server behind 1:1 NAT)."""

    allowed_networks: tuple[str, ...] = ()
    """CIDRs remote candidates must fall in; empty = any network not denied."""

    denied_networks: tuple[str, ...] = DEFAULT_DENIED_NETWORKS
    """CIDRs remote candidates must not fall in; deny wins over allow."""

    ice_servers: tuple[IceServer, ...] = ()

    video_codecs: tuple[str, ...] = ("video/VP8", "video/H264")
    """Video codecs asked of publishers, most preferred first (others still accepted)."""

    keyframe_min_interval_s: float = 0.5
    """At most one keyframe request per producer per interval."""

    consumer_queue_max: int = 60
    """Frames a consumer may hold before it drops to the next keyframe."""

    speaker_interval_s: float = 0.3
    """How often the active speaker is re-evaluated."""

    speaker_hold_s: float = 0.9
    """How long a challenger must stay louder before the speaker changes."""

    mdns_resolve_timeout_s: float = 2.0
    """How long the system resolver may take for a client's ``.local`` candidate (in the background)."""

    negotiation_timeout_s: float = 15.0
    """How long the SFU waits for a subscriber's answer to its offer."""

    forwarding: Forwarding = "packet"
    """How media reaches subscribers.

    "packet": each received RTP packet is rewritten (SSRC, sequence number, timestamp, payload
    type, header extensions) and sent to every subscriber from the publisher's receive task;
    subscribers' NACKs are answered from a per-producer cache. "frame": packets are reassembled
    into frames once per producer and each subscriber's aiortc sender packetises them again.
    """

    nack_cache_packets: int = 512
    """Packets per producer kept for answering NACKs on the packet path (a power of two)."""

    native_send: bool = True
    """Packet path: the native extensions where they are built: each subscriber's copy built,
    protected and sent in one call (``srtp_send.py``), the fan-out's common case decided there
    (``fan_out.py``), incoming SRTP unprotected in one call (``srtp_recv.py``); false, or unbuilt:
    all of it in Python."""

    def __post_init__(self) -> None:
        if self.forwarding not in FORWARDING_MODES:
            raise ValueError(f"sfu forwarding must be one of {FORWARDING_MODES}: {self.forwarding!r}")
        size = self.nack_cache_packets
        if not 1 <= size <= 1 << 16 or size & (size - 1):
            raise ValueError(f"sfu nack_cache_packets must be a power of two up to 65536: {size}")

    def client_ice_servers(self) -> list[dict[str, Any]]:
        """ICE servers to hand to browsers along with the first offer/answer."""
        return [server.as_client_dict() for server in self.ice_servers]
