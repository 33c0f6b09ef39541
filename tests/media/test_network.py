"""Network discipline: loopback-only gathering and refused remote candidates."""

from aiortc import RTCPeerConnection
import pytest

from server.sfu.candidates import NetworkPolicy, announce_address

from .meeting import Meeting, source_name

FOREIGN_CANDIDATES = (
    "a=candidate:1 1 udp 2122260223 10.1.2.3 50000 typ host",
    "a=candidate:2 1 udp 2122260223 192.168.7.7 50001 typ host",
    "a=candidate:3 1 udp 1686052607 203.0.113.9 50002 typ srflx raddr 10.1.2.3 rport 50000",
    "a=candidate:4 1 udp 2122260223 0c4e4a9e-5d7e-4a4e-8f55-3a1f1f7c0d11.local 50003 typ host",
)


def nominated_addresses(pc: RTCPeerConnection) -> set[str]:
    """Local and remote IPs of the candidate pairs ICE selected on ``pc``."""
    addresses: set[str] = set()
    for transceiver in pc.getTransceivers():
        ice = transceiver.receiver.transport.transport
        # aioice 0.13 internal: Connection._nominated maps component -> selected pair
        for pair in ice._connection._nominated.values():
            addresses |= {pair.local_addr[0], pair.remote_addr[0]}
        addresses |= {c.ip for c in ice.iceGatherer.getLocalCandidates()}
        addresses |= {c.ip for c in ice.getRemoteCandidates()}
    return addresses


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_all_candidate_pairs_are_loopback(meeting: Meeting) -> None:
    alice = await meeting.join("alice")
    bob = await meeting.join("bob")
    await bob.receiver.wait_for(lambda: bob.receiver.frames(source_name("alice", "video")) > 0, 15)
    await alice.receiver.wait_for(lambda: alice.receiver.frames(source_name("bob", "video")) > 0, 15)

    connections: list[RTCPeerConnection] = []
    for name in ("alice", "bob"):
        peer, participant = meeting.peers[name], meeting.participants[name]
        assert peer.publish_connection is not None and peer.subscribe_connection is not None
        connections += [peer.publish_connection, peer.subscribe_connection]
        connections += [participant.publish_pc, participant.subscribe_pc]
    for pc in connections:
        assert nominated_addresses(pc) == {"127.0.0.1"}


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_remote_candidates_outside_allowed_networks_are_dropped(meeting: Meeting) -> None:
    alice = await meeting.join("alice", publish=False)
    peer = meeting.peers["alice"]
    offer = await alice.publish_offer()
    lines = offer.splitlines()
    first_candidate = next(i for i, line in enumerate(lines) if line.startswith("a=candidate:"))
    lines[first_candidate:first_candidate] = FOREIGN_CANDIDATES
    answer = await peer.publish("\r\n".join(lines) + "\r\n")
    await alice.publish_answer(answer)

    assert peer.publish_connection is not None
    ice = peer.publish_connection.getTransceivers()[0].receiver.transport.transport
    assert {c.ip for c in ice.getRemoteCandidates()} == {"127.0.0.1"}

    trickled = "candidate:5 1 udp 2122260223 10.9.9.9 50004 typ host"
    assert not await peer.add_remote_candidate("publish", trickled, sdp_mid="0")
    assert {c.ip for c in ice.getRemoteCandidates()} == {"127.0.0.1"}
    allowed = "candidate:6 1 udp 2122260223 127.0.0.1 50005 typ host"
    assert await peer.add_remote_candidate("publish", allowed, sdp_mid="0")

    # and media still flows over what was allowed
    bob = await meeting.join("bob", publish=False)
    await bob.receiver.wait_for(lambda: bob.receiver.frames(source_name("alice", "video")) > 10, 15)


def test_deny_wins_over_allow() -> None:
    policy = NetworkPolicy(allowed=["10.0.0.0/8"], denied=["10.66.0.0/16"])
    assert policy.permits("10.1.1.1")
    assert not policy.permits("10.66.1.1")
    assert not policy.permits("192.0.2.2")
    assert not policy.permits("host.local")
    assert NetworkPolicy(allowed=[], denied=["fe80::/10"]).permits("2001:db8::1")


def test_announced_address_replaces_host_candidates() -> None:
    sdp = (
        "m=audio 40000 UDP/TLS/RTP/SAVPF 96\r\n"
        "c=IN IP4 10.0.0.5\r\n"
        "a=candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host\r\n"
        "a=candidate:2 1 udp 1694498815 198.51.100.1 40000 typ srflx raddr 10.0.0.5 rport 40000\r\n"
    )
    announced = announce_address(sdp, "203.0.113.50")
    assert "c=IN IP4 203.0.113.50" in announced
    assert "203.0.113.50 40000 typ host" in announced
    assert "198.51.100.1 40000 typ srflx" in announced
    assert "10.0.0.5 40000 typ host" not in announced


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_a_refused_offer_does_not_break_the_next_one(meeting: Meeting) -> None:
    alice = await meeting.join("alice", publish=False)
    peer = meeting.peers["alice"]
    offer = await alice.publish_offer()
    broken = "\r\n".join(line for line in offer.splitlines() if not line.startswith("a=ice-ufrag"))
    with pytest.raises(ValueError):
        await peer.publish(broken + "\r\n", alice.sources)
    await alice.publish_answer(await peer.publish(offer, alice.sources))
    bob = await meeting.join("bob", publish=False)
    await bob.receiver.wait_for_frames([source_name("alice", "video")], 10, timeout=15)
