"""Which ICE candidates may cross the SFU's boundary, in either direction.

Remote candidates are the addresses the SFU will send STUN checks and media to,
and a client chooses them: unfiltered, an SFU is a tool for sending traffic into
the networks it sits in. They are filtered out of every SDP and every trickled
candidate before aioice sees them.

Browsers hide their host addresses behind mDNS names (``<uuid>.local``) until
the page may use the camera. Such a name is resolved here with the system
resolver in the background, and the address it gives is judged by the same
policy; aioice never resolves one itself (it would add the address unjudged).
An unresolvable name costs nothing: the client's own STUN checks reach the SFU
from its real address and aioice learns it as a peer-reflexive candidate. For
that, whenever a connection lost a candidate to the policy or to resolution,
end-of-candidates is kept from aioice: with an empty check list it would
otherwise declare ICE failed before the client's first check arrives.

Local host candidates are rewritten to the announced address when the server
sits behind a 1:1 NAT.
"""

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aioice import Candidate
from aiortc import RTCPeerConnection, RTCSessionDescription, sdp as aiortc_sdp

logger = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, float], Awaitable[str | None]]

CANDIDATE_PREFIX = "a=candidate:"
END_OF_CANDIDATES = "a=end-of-candidates"
MDNS_SUFFIX = ".local"


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


def parse_candidate(candidate_sdp: str) -> Candidate:
    """An SDP candidate value (with or without ``a=`` / ``candidate:``); ValueError if malformed."""
    try:
        return Candidate.from_sdp(candidate_sdp.removeprefix("a=").removeprefix("candidate:"))
    except IndexError:
        raise ValueError(f"malformed candidate: {candidate_sdp!r}") from None


def is_mdns_name(host: str) -> bool:
    """Whether a candidate's host is an mDNS name (``<uuid>.local``) rather than an address."""
    return host.lower().endswith(MDNS_SUFFIX)


async def resolve_host(name: str, timeout_s: float) -> str | None:
    """The first address the system resolver gives for ``name`` within ``timeout_s``, else None.

    The system resolver answers ``.local`` names where the machine runs an mDNS resolver
    (nss-mdns / systemd-resolved) or lists them in /etc/hosts; elsewhere it fails quickly.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(name, None, type=socket.SOCK_DGRAM), timeout_s)
    except (OSError, TimeoutError, UnicodeError):
        return None
    return str(infos[0][4][0]) if infos else None


@dataclass
class _Placed:
    """A remote candidate and the m-section it belongs to (by mid or index, as aiortc wants)."""

    candidate: Candidate
    sdp_mid: str | None
    sdp_mline_index: int | None


class RemoteCandidates:
    """One peer connection's remote candidates on their way to aioice (see the module doc)."""

    def __init__(self, pc: RTCPeerConnection, policy: NetworkPolicy, label: str,
                 resolve_timeout_s: float, resolve: Resolver | None = None) -> None:
        self._pc = pc
        self._policy = policy
        self._label = label
        self._timeout_s = resolve_timeout_s
        self._resolve = resolve or resolve_host
        self._withholding_end = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def set_remote_description(self, sdp: str, kind: str) -> None:
        """Apply the client's ``sdp`` without the candidates it may not use; resolve its mDNS ones."""
        filtered, names = self._filter_sdp(sdp)
        await self._pc.setRemoteDescription(RTCSessionDescription(filtered, kind))
        for placed in names:  # only once aiortc has the m-sections they belong to
            self._start_resolving(placed)

    async def add(self, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None) -> bool:
        """Add a trickled candidate ('' ends them); False if the policy refused it.

        An mDNS candidate is accepted for resolution (True) and added once it resolved to an
        allowed address.
        """
        if not candidate:
            if self._withholding_end:
                logger.info("%s: end of candidates withheld (waiting for peer-reflexive)", self._label)
            else:
                await self._pc.addIceCandidate(None)
            return True
        placed = _Placed(parse_candidate(candidate), sdp_mid, sdp_mline_index)
        if is_mdns_name(placed.candidate.host):
            self._withholding_end = True
            self._start_resolving(placed)
            return True
        if not self._policy.permits(placed.candidate.host):
            self._withholding_end = True
            logger.info("%s: refused remote candidate %s", self._label, candidate)
            return False
        await self._add_placed(placed)
        return True

    async def settled(self) -> None:
        """Wait until every name being resolved was added or given up (tests, diagnostics)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop resolving; nothing is added to the connection after this."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _filter_sdp(self, sdp: str) -> tuple[str, list[_Placed]]:
        """``sdp`` without the candidates aioice may not see, and its mDNS candidates."""
        kept: list[str] = []
        names: list[_Placed] = []
        mline_index, mid = -1, None
        section: list[Candidate] = []  # this m-section's mDNS candidates (their mid may come later)
        for line in sdp.splitlines():
            if line.startswith("m="):
                names += [_Placed(c, mid, mline_index) for c in section]
                mline_index, mid, section = mline_index + 1, None, []
            elif line.startswith("a=mid:"):
                mid = line.removeprefix("a=mid:")
            if line.startswith(CANDIDATE_PREFIX):
                try:
                    candidate = parse_candidate(line)
                except ValueError:
                    logger.info("%s: dropped malformed candidate %s", self._label, line)
                    continue
                if is_mdns_name(candidate.host):
                    self._withholding_end = True
                    section.append(candidate)
                    continue
                if not self._policy.permits(candidate.host):
                    self._withholding_end = True
                    logger.info("%s: refused remote candidate %s", self._label, line)
                    continue
            kept.append(line)
        names += [_Placed(c, mid, mline_index) for c in section]
        if self._withholding_end:
            kept = [line for line in kept if line != END_OF_CANDIDATES]
        return "\r\n".join(kept) + "\r\n", names

    def _start_resolving(self, placed: _Placed) -> None:
        task = asyncio.create_task(self._resolve_and_add(placed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve_and_add(self, placed: _Placed) -> None:
        name = placed.candidate.host
        address = await self._resolve(name, self._timeout_s)
        if self._closed:
            return
        if address is None:
            logger.info("%s: mDNS candidate %s did not resolve; relying on peer-reflexive",
                        self._label, name)
            return
        if not self._policy.permits(address):
            logger.info("%s: refused mDNS candidate %s = %s", self._label, name, address)
            return
        placed.candidate.host = address
        try:
            await self._add_placed(placed)
        except Exception:  # the connection may have closed meanwhile
            logger.exception("%s: could not add resolved candidate %s", self._label, name)
            return
        logger.info("%s: mDNS candidate %s resolved to %s", self._label, name, address)

    async def _add_placed(self, placed: _Placed) -> None:
        rtc = aiortc_sdp.candidate_from_sdp(placed.candidate.to_sdp())
        rtc.sdpMid, rtc.sdpMLineIndex = placed.sdp_mid, placed.sdp_mline_index
        await self._pc.addIceCandidate(rtc)


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
