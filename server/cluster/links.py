"""A node's cascade links as plain data: for `lianshen node status`, for /metrics, for tests.

A link is named ``<meeting id>:<other node id>``; ``role`` says which end this node is (``edge``
opened it, ``home`` accepted it). Counters are per direction since the link (re)connected.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from server.sfu.link import DirectionCounters

LinkRole = Literal["edge", "home"]
LinkStatus = Literal["connecting", "connected", "retrying"]


@dataclass
class LinkState:
    """One link as this node sees it now."""

    meeting_id: int
    peer_node: str
    role: LinkRole
    status: LinkStatus = "connecting"
    connected_at: float | None = None
    error: str = ""
    """Why the last attempt failed (edge, while retrying)."""
    sent: DirectionCounters | None = None
    received: DirectionCounters | None = None
    history: list[tuple[float, int, int]] = field(default_factory=list, repr=False)
    """(time, sent bytes, received bytes) of the last samples: the bitrates."""

    @property
    def name(self) -> str:
        return f"{self.meeting_id}:{self.peer_node}"

    def connected(self, now: float) -> None:
        """A new connection: counters start again (they are the connection's)."""
        self.status, self.error, self.connected_at = "connected", "", now
        self.sent = self.received = None
        self.history = []

    def sample(self, now: float, sent: DirectionCounters, received: DirectionCounters) -> None:
        self.sent, self.received = sent, received
        self.history = [*self.history[-4:], (now, sent.payload_bytes, received.payload_bytes)]

    def bitrates(self) -> tuple[float | None, float | None]:
        """Sent and received payload bits per second over the last samples."""
        if len(self.history) < 2:
            return None, None
        (t0, s0, r0), (t1, s1, r1) = self.history[0], self.history[-1]
        if t1 <= t0:
            return None, None
        return (s1 - s0) * 8 / (t1 - t0), (r1 - r0) * 8 / (t1 - t0)

    def as_dict(self) -> dict[str, Any]:
        sent_bps, received_bps = self.bitrates()
        return {"name": self.name, "meeting_id": self.meeting_id, "peer_node": self.peer_node,
                "role": self.role, "status": self.status, "connected_at": self.connected_at,
                "error": self.error,
                "sent": asdict(self.sent) if self.sent else None,
                "received": asdict(self.received) if self.received else None,
                "sent_bps": sent_bps, "received_bps": received_bps}


def links_json(links: list[LinkState]) -> str:
    return json.dumps([link.as_dict() for link in links], ensure_ascii=False)


def links_metrics(node_id: str, links: list[LinkState]) -> str:
    """Prometheus text exposition of the links (for a /metrics endpoint)."""
    lines = ["# TYPE lianshen_cascade_link_up gauge",
             "# TYPE lianshen_cascade_link_bytes_total counter",
             "# TYPE lianshen_cascade_link_packets_total counter",
             "# TYPE lianshen_cascade_link_packets_lost_total counter",
             "# TYPE lianshen_cascade_link_tracks gauge",
             "# TYPE lianshen_cascade_link_rtt_seconds gauge"]
    for link in links:
        labels = f'node="{node_id}",meeting="{link.meeting_id}",peer="{link.peer_node}",role="{link.role}"'
        lines.append(f"lianshen_cascade_link_up{{{labels}}} {int(link.status == 'connected')}")
        for direction, counters in (("sent", link.sent), ("received", link.received)):
            if counters is None:
                continue
            where = f'{labels},direction="{direction}"'
            lines += [f"lianshen_cascade_link_bytes_total{{{where}}} {counters.payload_bytes}",
                      f"lianshen_cascade_link_packets_total{{{where}}} {counters.packets}",
                      f"lianshen_cascade_link_packets_lost_total{{{where}}} {counters.packets_lost}",
                      f"lianshen_cascade_link_tracks{{{where}}} {counters.tracks}"]
            if counters.rtt_s is not None:
                lines.append(f"lianshen_cascade_link_rtt_seconds{{{where}}} {counters.rtt_s:.4f}")
    return "\n".join(lines) + "\n"
