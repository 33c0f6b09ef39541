"""The packet path: packets go out rewritten, numbered without holes, and lost ones are resent."""

import asyncio
import itertools
import random

import pytest
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from server.sfu import SfuSettings
from server.sfu.fan_out import OutState
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import SEQ_MOD, TS_MOD, ForwardedPacket
from server.sfu.rtp_forward import RtpOut
from server.sfu.slot import Slot

from .conftest import PYTHON_SEND
from .meeting import Meeting, source_name

FRAMES = 45
LOSS = 0.03
packet_path = pytest.mark.parametrize("settings", ["packet", "packet" + PYTHON_SEND], indirect=True)
"""Both senders of the packet path (``srtp_send.py``): the native one and the Python one."""


def slot_for(meeting: Meeting, subscriber: str, publisher: str, kind: str) -> Slot:
    producer = meeting.peers[publisher].producers[kind]  # type: ignore[index]
    return next(s for s in meeting.peers[subscriber].slots if s.producer_id == producer.id)


def out_of(slot: Slot) -> RtpOut:
    assert slot.out is not None
    return slot.out


def client_receiver(meeting: Meeting, subscriber: str, slot: Slot) -> RTCRtpReceiver:
    transceivers = meeting.participants[subscriber].subscribe_pc.getTransceivers()
    return next(t.receiver for t in transceivers if t.mid == slot.mid)


def through_send(out: RtpOut) -> None:
    """Every copy on ``out`` through ``RtpOut.send`` from now on, where a test can listen: the
    native fan-out (``fan_out.py``) sends only where the m-line's state names a native sender."""
    out.state.sender = None


def record_sent(out: RtpOut) -> list[tuple[int, int]]:
    """(sequence number, timestamp) of every first transmission through ``out`` from now on."""
    sent: list[tuple[int, int]] = []
    send = out.send
    through_send(out)

    def recording(packet: ForwardedPacket, sequence_number: int, timestamp: int, payload: bytes | None = None) -> None:
        sent.append((sequence_number, timestamp))
        send(packet, sequence_number, timestamp, payload)

    out.send = recording  # type: ignore[method-assign]
    return sent


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_packets_reach_subscribers_without_the_frame_path(meeting: Meeting, settings: SfuSettings) -> None:
    """On either sender (the native one must be built here: scripts/setup.sh builds it)."""
    await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    wanted = [source_name("alice", "video"), source_name("alice", "audio")]
    await bob.receiver.wait_for_frames(wanted, 3 * FRAMES, timeout=20)  # > 3 s: several RTCP intervals

    for kind in ("video", "audio"):
        producer = meeting.peers["alice"].producers[kind]
        slot = slot_for(meeting, "bob", "alice", kind)
        assert isinstance(slot.consumer, PacketConsumer) and slot.consumer.forwarded > 0
        assert all(isinstance(c, PacketConsumer) for c in producer.consumers)
        out = out_of(slot)
        assert out.packets == slot.consumer.forwarded and out.send_failures == 0
        assert out.native == settings.native_send, kind
        # natively, the fan-out's common case took this consumer's copies (fan_out.py)
        assert (type(out.state) is not OutState) == settings.native_send, kind
        # the subscriber's sender reports count what the packet path sent (aiortc's stay at 0)
        stats = await client_receiver(meeting, "bob", slot).getStats()
        sent = [s for s in stats.values() if s.type == "remote-outbound-rtp"]
        assert sent and 0 < sent[0].packetsSent <= out.packets, kind
        # and the subscriber's receiver reports are read per consumer
        report = slot.consumer.receiver_report
        assert report is not None and report.packets_lost == 0 and report.fraction_lost == 0, kind
        assert 0 <= report.jitter_s < 0.1, kind
        # the publisher's sender reports are mapped into the subscriber's timeline
        publisher_clock = slot.consumer.sender_clock()
        assert publisher_clock is not None and out.sender_clock == slot.consumer.sender_clock, kind
        (stats_of_bob,) = producer.consumer_stats()
        assert stats_of_bob.forwarded == slot.consumer.forwarded and stats_of_bob.receiver_report == report
        assert stats_of_bob.send_dropped == 0 and stats_of_bob.send_failures == 0
    for source in wanted:
        assert bob.receiver.stats[source].decode_errors == 0


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(90)
async def test_an_m_line_reused_by_the_next_producer_continues_its_numbers(meeting: Meeting) -> None:
    alice = await meeting.join("alice", publish=False)
    await meeting.join("bob")
    await alice.receiver.wait_for(lambda: alice.receiver.frames("bob:video") >= 10, 15)
    slot = slot_for(meeting, "alice", "bob", "video")
    sent = record_sent(out_of(slot))
    await alice.receiver.wait_for(lambda: alice.receiver.frames("bob:video") >= 20, 15)
    removed = asyncio.Event()
    meeting.room.on("producer_removed", lambda info: removed.set())

    await meeting.leave("bob")
    await asyncio.wait_for(removed.wait(), 5)
    switched_at = len(sent)
    await meeting.join("dave")
    await alice.receiver.wait_for_frames([source_name("dave", "video")], FRAMES, timeout=15)

    assert slot_for(meeting, "alice", "dave", "video") is slot
    assert 0 < switched_at < len(sent)
    steps = [(b[0] - a[0]) % SEQ_MOD for a, b in itertools.pairwise(sent)]
    assert set(steps) == {1}, "a hole or a jump in the m-line's sequence numbers"
    before, after = sent[switched_at - 1][1], sent[switched_at][1]
    assert 0 < (after - before) % TS_MOD < TS_MOD // 2, "the timestamps went backwards"
    assert alice.receiver.stats["dave:video"].decode_errors == 0


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(90)
async def test_audio_resumes_after_mute_without_a_hole(meeting: Meeting) -> None:
    await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    audio = source_name("alice", "audio")
    await bob.receiver.wait_for_frames([audio], 25, timeout=15)
    sent = record_sent(out_of(slot_for(meeting, "bob", "alice", "audio")))

    meeting.peers["alice"].set_muted("audio", True)
    video = bob.receiver.frames(source_name("alice", "video"))
    await bob.receiver.wait_for_frames([source_name("alice", "video")], video + 30, timeout=10)
    muted_at = len(sent)
    meeting.peers["alice"].set_muted("audio", False)
    count = bob.receiver.frames(audio)
    await bob.receiver.wait_for_frames([audio], count + 25, timeout=10)

    assert len(sent) > muted_at
    steps = [(b[0] - a[0]) % SEQ_MOD for a, b in itertools.pairwise(sent)]
    assert set(steps) == {1}
    gap = (sent[muted_at][1] - sent[muted_at - 1][1]) % TS_MOD
    assert gap >= 48000 * 0.5, "the pause must show in the timestamps (>= 0.5 s at 48 kHz)"


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_lost_packets_are_resent_from_the_cache(meeting: Meeting) -> None:
    await meeting.join("alice")
    bob = await meeting.join("bob", publish=False, decode_frames=10_000)
    carol = await meeting.join("carol", publish=False, decode_frames=10_000)
    video = source_name("alice", "video")
    await bob.receiver.wait_for_frames([video], FRAMES, timeout=15)
    await carol.receiver.wait_for_frames([video], FRAMES, timeout=15)

    slot = slot_for(meeting, "bob", "alice", "video")
    out = out_of(slot)
    assert isinstance(slot.consumer, PacketConsumer)
    send, chance = out.send, random.Random(15)
    lost: list[int] = []

    def lossy(packet: ForwardedPacket, sequence_number: int, timestamp: int) -> None:
        if chance.random() < LOSS:
            lost.append(sequence_number)  # as if the network dropped it on the way to bob
            return
        send(packet, sequence_number, timestamp)

    out.send = lossy  # type: ignore[method-assign]
    through_send(out)
    producer = meeting.peers["alice"].producers["video"]
    upstream_before = producer.upstream_nacks
    frames = {p: p.receiver.frames(video) for p in (bob, carol)}
    await bob.receiver.wait_for_frames([video], frames[bob] + 4 * FRAMES, timeout=20)
    await carol.receiver.wait_for_frames([video], frames[carol] + 4 * FRAMES, timeout=20)

    assert len(lost) >= 5
    assert out.retransmitted >= len(lost) - 2  # the last losses may not be reported yet
    assert slot.consumer.nacks_answered >= out.retransmitted
    assert producer.upstream_nacks == upstream_before  # every answer came from the cache
    for participant in (bob, carol):
        stats = participant.receiver.stats[video]
        assert stats.decode_errors == 0 and stats.decoded >= stats.frames - 2
    print(f"{len(lost)} packets lost to bob, {out.retransmitted} resent")


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_frames_are_reassembled_only_while_someone_reads_them(meeting: Meeting) -> None:
    await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    video = source_name("alice", "video")
    await bob.receiver.wait_for_frames([video], FRAMES, timeout=15)
    producer = meeting.peers["alice"].producers["video"]
    assert producer.frames == 0  # forwarded packet by packet, no frame handed to the decoder thread

    frames: list[object] = []
    enough = asyncio.Event()

    def sink(packet: object) -> None:  # e.g. the recorder's tap
        frames.append(packet)
        if len(frames) >= 10:
            enough.set()

    producer.add_sink(sink)
    await asyncio.wait_for(enough.wait(), 10)
    producer.remove_sink(sink)
    count = bob.receiver.frames(video)
    await bob.receiver.wait_for_frames([video], count + 15, timeout=10)
    assert producer.frames - len(frames) <= 2  # the gate closed again (a frame or two in flight)
