"""Once DTLS is up, SRTP is handled where it is read (server/sfu/rtp_in.py), not queued for aiortc."""

import asyncio
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport

from server.bot.participant import Participant
from server.sfu.rtp_in import SrtpIn

from .meeting import Meeting, source_name

FRAMES = 30
packet_path = pytest.mark.parametrize("settings", ["packet"], indirect=True)


def dtls_of(pc: RTCPeerConnection) -> RTCDtlsTransport:
    dtls = pc.getTransceivers()[0].receiver.transport
    assert dtls is not None
    return dtls


def count_queued_media(dtls: RTCDtlsTransport) -> list[bytes]:
    """Every SRTP/SRTCP datagram that reaches aioice's queue (the old path) from now on."""
    # aioice 0.13 internal: StunProtocol hands non-STUN datagrams to Connection.data_received,
    # looked up on the instance; aiortc's receive task reads them from the queue behind it.
    connection: Any = dtls.transport._connection
    queued: list[bytes] = []
    data_received = connection.data_received

    def counting(data: bytes, component: int) -> None:
        if data and 127 < data[0] < 192:
            queued.append(data)
        data_received(data, component)

    connection.data_received = counting
    return queued


async def receiver_packets(receiver: Any) -> int:
    """Packets an aiortc receiver counted for its RTCP receiver reports, over its SSRCs."""
    return sum(s.packetsReceived for s in (await receiver.getStats()).values() if s.type == "inbound-rtp")


async def alice_to_bob(meeting: Meeting) -> tuple[Participant, list[str], Any]:
    """Alice publishes, Bob receives her first frames; Bob, his sources, Alice's DTLS transport."""
    await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    wanted = [source_name("alice", "video"), source_name("alice", "audio")]
    await bob.receiver.wait_for_frames(wanted, FRAMES, timeout=20)
    publish = meeting.peers["alice"].publish_connection
    assert publish is not None
    return bob, wanted, dtls_of(publish)


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_media_bypasses_aioice_once_dtls_is_up(meeting: Meeting) -> None:
    bob, wanted, dtls = await alice_to_bob(meeting)
    queued = count_queued_media(dtls)
    transport_before = next(iter(dtls._get_stats().values())).packetsReceived
    receivers = list(dtls._rtp_router.receivers)
    counted_before = [await receiver_packets(r) for r in receivers]

    await bob.receiver.wait_for_frames(wanted, 3 * FRAMES, timeout=20)

    assert queued == []  # the publisher's media took the read-callback path
    # ... and aiortc's statistics (its receiver reports to the publisher) and counters kept up
    assert next(iter(dtls._get_stats().values())).packetsReceived > transport_before
    counted_after = [await receiver_packets(r) for r in receivers]
    assert all(after > before for before, after in zip(counted_before, counted_after, strict=True))


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_media_through_aioice_still_arrives(meeting: Meeting) -> None:
    """A TURN relay, or asyncio's own reader, delivers to the StunProtocol: aiortc's path still works."""
    bob, wanted, dtls = await alice_to_bob(meeting)
    queued = count_queued_media(dtls)
    # CPython 3.11 internal: asyncio's one-datagram reader, which hands every datagram to
    # StunProtocol.datagram_received, as aioice's TURN client does with relayed ones.
    for protocol in dtls.transport.iceGatherer._connection._protocols:
        transport = protocol.transport
        asyncio.get_running_loop()._add_reader(transport._sock_fd, transport._read_ready)  # type: ignore[attr-defined]

    await bob.receiver.wait_for_frames(wanted, 3 * FRAMES, timeout=20)

    assert queued  # the old path carried the media


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_only_srtp_on_a_connected_transport_is_taken(meeting: Meeting) -> None:
    await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    await bob.receiver.wait_for_frames([source_name("alice", "audio")], 5, timeout=20)
    publish = meeting.peers["alice"].publish_connection
    assert publish is not None
    dtls = dtls_of(publish)
    srtp_in = SrtpIn(dtls)
    # a datagram still queued for aiortc's receive task (one that came with the handshake): a
    # newer packet queues behind it, in order, until the task has read the queue empty
    queue = dtls.transport._connection._queue
    queue.put_nowait((b"\x00", 1))  # neither DTLS nor SRTP: aiortc's task reads and ignores it
    assert not srtp_in.take(bytes([0x80, 96]) + bytes(30))
    async with asyncio.timeout(5):
        while queue.qsize():
            await asyncio.sleep(0.01)  # polling the task's progress, not a synchronisation by time
    assert not srtp_in.take(b"")
    assert not srtp_in.take(b"\x00\x01\x00\x00" + b"\x21\x12\xa4\x42" + bytes(12))  # STUN binding request
    assert not srtp_in.take(bytes([22, 0xFE, 0xFD]) + bytes(10))  # a DTLS record
    assert srtp_in.take(bytes([0x80, 96]) + bytes(30))  # RTP (it fails authentication: dropped)

    unconnected = RTCPeerConnection()
    unconnected.addTransceiver("audio")
    try:  # DTLS state "new", no SRTP keys yet: aioice and aiortc's handshake get everything
        assert not SrtpIn(dtls_of(unconnected)).take(bytes([0x80, 96]) + bytes(30))
    finally:
        await unconnected.close()
