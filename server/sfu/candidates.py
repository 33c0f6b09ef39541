"""Which ICE candidates may cross the SFU's boundary, in either direction.

Remote candidates are the addresses the SFU will send STUN checks and media to,
and a client chooses them: unfiltered, an SFU is a tool for sending traffic into
the networks it sits in. They are filtered out of every SDP and every trickled
candidate before aioice sees them. mDNS (``.local``) candidates are dropped
too: their address is only known after aioice resolved them, too late to judge.

Local host candidates are rewritten to the announced address when the server
sits behind a 1:1 NAT.
"""

import ipaddress
from collections.abc import Iterable

from aioice import Candidate

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CANDIDATE_PREFIX = "a=candidate:"


class NetworkPolicy:
    """Allow/deny lists of networks for remote candidate addresses; deny wins."""

    def __init__(self, allowed: Iterable[str], denied: Iterable[str]) -> None:
        self._allowed: list[IpNetwork] = [ipaddress.ip_network(n) for n in allowed]
        self._denied: list[IpNetwork] = [ipaddress.ip_network(n) for n in denied]

    def permits(self, host: str) -> bool:
        """Whether the SFU may send to ``host`` (an IP literal; names are refused)."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if any(address in network for network in self._denied):
            return False
        return not self._allowed or any(address in n for n in self._allowed)

    def permits_candidate(self, candidate_sdp: str) -> bool:
        """Whether an SDP candidate value (with or without ``candidate:``) is allowed."""
        value = candidate_sdp.removeprefix("a=").removeprefix("candidate:")
        try:
            candidate = Candidate.from_sdp(value)
        except ValueError:
            return False
        return self.permits(candidate.host)

    def filter_sdp(self, sdp: str) -> tuple[str, list[str]]:
        """Return ``sdp`` without forbidden candidate lines, and the dropped lines."""
        kept: list[str] = []
        dropped: list[str] = []
        for line in sdp.splitlines():
            if line.startswith(CANDIDATE_PREFIX) and not self.permits_candidate(line):
                dropped.append(line)
            else:
                kept.append(line)
        return "\r\n".join(kept) + "\r\n", dropped


def announce_address(sdp: str, announced: str) -> str:
    """Replace the SFU's host candidate addresses in ``sdp`` with ``announced``.

    Relay and server-reflexive candidates already carry outside addresses and
    stay; connection lines naming a host address follow it. Pin gathering to the
    one address the NAT maps, or every interface will claim the same address.
    """
    hosts: set[str] = set()
    lines: list[str] = []
    for line in sdp.splitlines():
        if line.startswith(CANDIDATE_PREFIX):
            candidate = Candidate.from_sdp(line.removeprefix(CANDIDATE_PREFIX))
            if candidate.type == "host":
                hosts.add(candidate.host)
                candidate.host = announced
                line = CANDIDATE_PREFIX + candidate.to_sdp()
        lines.append(line)
    version = "IP6" if ":" in announced else "IP4"
    return "\r\n".join(
        f"c=IN {version} {announced}"
        if line.startswith("c=IN IP") and line.split(" ")[-1] in hosts
        else line
        for line in lines
    ) + "\r\n"
