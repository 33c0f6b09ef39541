"""VP8 temporal layers on the packet path: the descriptor read, what a consumer leaves out, and
the numbers the subscriber sees (continuous sequence numbers and picture ids, NACKs mapped back)."""

from dataclasses import dataclass, field
from itertools import pairwise
from types import SimpleNamespace
from typing import Any, cast

import av
import pytest
from aiortc.codecs.vpx import VpxPayloadDescriptor

from server.bot.media import L1T3_PATTERN, video_clip
from server.bot.simulcast import packetize
from server.sfu import temporal as temporal_module
from server.sfu.fan_out import OutState
from server.sfu.layer_choice import LayerChoice, View, step
from server.sfu.layers import LayerIn, LayerMeter
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import SEQ_MOD, ForwardedPacket, PacketCache
from server.sfu.vp8 import NO_DESCRIPTOR, PictureNumbering, read_descriptor, read_temporal

KEY = b"\x10\x02\x00\x9d\x01\x2a" + b"\x00" * 30
DELTA = b"\x01" + b"\x00" * 40
FIRST_SEQ = 65_500
"""Near the wrap-around, so every mapping crosses it."""


def test_the_descriptor_tells_tid_layer_sync_tl0_and_keyidx() -> None:
    payload = bytes(VpxPayloadDescriptor(1, 0, picture_id=300, tl0picidx=17, tid=(2, 1), keyidx=5)) + DELTA
    ids = read_descriptor(payload)
    assert (ids.picture_id, ids.long_picture_id, ids.tl0, ids.tid, ids.layer_sync, ids.keyidx) == (
        300, True, 17, 2, True, 5)
    assert payload[ids.tl0_at] == 17
    assert read_temporal(payload) == (2, True)
    assert read_temporal(b"\x00\x00" + payload, start=2) == (2, True)  # after an RTX header
    no_tid = bytes(VpxPayloadDescriptor(1, 0, picture_id=300, tl0picidx=17)) + DELTA
    assert read_temporal(no_tid) is None and read_descriptor(no_tid).tid is None
    assert read_temporal(bytes(VpxPayloadDescriptor(1, 0, picture_id=3, tid=(3, 0))) + DELTA) == (2, False)
    # truncated descriptors are no descriptors, not an IndexError
    assert read_descriptor(payload[:4]) == NO_DESCRIPTOR and read_temporal(payload[:4]) is None
    assert read_descriptor(b"\x90") == NO_DESCRIPTOR and read_temporal(b"") is None


def test_picture_ids_close_up_behind_frames_left_out() -> None:
    numbering = PictureNumbering()
    assert read_descriptor(numbering.rewrite(packetize(DELTA, 1000, 7, (0, False))[0])).picture_id == 1000
    # frames 1001 and 1002 were left out: 1003 goes out as 1001, a resend of it too
    later = packetize(DELTA, 1003, 8, (0, False))[0]
    assert read_descriptor(numbering.rewrite(later, True, 2)).picture_id == 1001
    assert read_descriptor(numbering.rewrite(later, False, 2)).picture_id == 1001
    assert read_descriptor(numbering.rewrite(later, False, 2)).tl0 == 8  # the base layer has no holes


@dataclass
class Sink:
    """The part of RtpOut a consumer drives: remembers what it sent and resent."""

    ready: bool = True
    next_seq: int = 0
    last_timestamp: int | None = None
    clock_rate: int = 90000
    timeline_owner: object = None
    sender_clock: object = None
    receiver_report: None = None
    remb_bps: None = None
    send_dropped: int = 0
    send_failures: int = 0
    retransmitted: int = 0
    state: OutState = field(default_factory=OutState)
    """Its consumers' lanes hang on it (``fan_out.py``); nothing here sends natively."""
    sent: list[tuple[int, bytes]] = field(default_factory=list)
    resent: list[tuple[int, bytes]] = field(default_factory=list)

    def send(self, packet: ForwardedPacket, seq: int, ts: int, payload: bytes | None = None) -> None:
        self.next_seq, self.last_timestamp = (seq + 1) % SEQ_MOD, ts
        self.sent.append((seq, packet.payload if payload is None else payload))

    def resend(self, packet: ForwardedPacket, seq: int, ts: int, payload: bytes | None = None) -> None:
        self.resent.append((seq, packet.payload if payload is None else payload))

    def next_timestamp(self) -> int:
        return 0 if self.last_timestamp is None else self.last_timestamp + 3000


def stream(frames: int, per_frame: int = 2) -> list[ForwardedPacket]:
    """An L1T3 stream: ``per_frame`` packets a frame, a keyframe first, the 0-2-1-2 pattern."""
    packets = []
    seq = FIRST_SEQ
    tl0 = 0
    for frame in range(frames):
        tid, sync = L1T3_PATTERN[frame % 4]
        tl0 += tid == 0
        payloads = packetize((KEY if frame == 0 else DELTA) * per_frame, frame, tl0 % 256, (tid, sync))
        assert len(payloads) == 1
        payload = payloads[0]
        for part in range(per_frame):
            packets.append(ForwardedPacket(seq % SEQ_MOD, frame * 3000, int(part == per_frame - 1),
                                           payload if part == 0 else bytes([payload[0] & ~0x10]) + payload[1:],
                                           None, 0, frame == 0 and part == 0, 0, (tid, sync)))
            seq += 1
    return packets


@dataclass
class Setup:
    consumer: PacketConsumer
    out: Sink
    cache: PacketCache
    keyframes: list[int]
    upstream: list[int]


def consumer() -> Setup:
    out = Sink()
    cache = PacketCache(1024)
    keyframes: list[int] = []
    upstream: list[int] = []
    layer = LayerIn(0, None, cache, cast(Any, None))
    packet_consumer = PacketConsumer("cam", True, cast(Any, out), [layer], keyframes.append,
                                     lambda layer, seq: upstream.append(seq), lambda c: None,
                                     lambda layer: None, "video/VP8")
    return Setup(packet_consumer, out, cache, keyframes, upstream)


def feed(setup: Setup, packets: list[ForwardedPacket]) -> None:
    for packet in packets:
        setup.cache.add(packet)
        setup.consumer.forward(packet)


def picture_ids(sent: list[tuple[int, bytes]]) -> list[int | None]:
    return [read_descriptor(payload).picture_id for _, payload in sent]


def continuous(sent: list[tuple[int, bytes]]) -> bool:
    return all((b[0] - a[0]) % SEQ_MOD == 1 for a, b in pairwise(sent))


def test_a_consumer_at_t0_gets_a_quarter_of_the_frames_numbered_without_holes() -> None:
    setup = consumer()
    setup.consumer.set_target_layer(0, 0)
    feed(setup, stream(40))
    out = setup.out
    frames = sorted({read_descriptor(payload).picture_id for _, payload in out.sent})
    assert len(frames) == 10 and all(read_descriptor(p).tid == 0 for _, p in out.sent)
    assert continuous(out.sent) and len(out.sent) == 20
    assert frames == list(range(10))  # picture ids 0, 4, 8 ... went out as 0, 1, 2 ...
    assert [read_descriptor(p).tl0 for _, p in out.sent][::2] == list(range(1, 11))
    stats = setup.consumer.stats()
    assert (stats.temporal_layer, stats.temporal_target, stats.temporal_dropped) == (0, 0, 60)


def test_up_one_layer_at_a_time_at_its_sync_frames_down_at_the_next_frame() -> None:
    setup = consumer()
    setup.consumer.set_target_layer(0, 0)
    packets = stream(24)
    feed(setup, packets[:8])  # frames 0-3: only the keyframe goes
    setup.consumer.set_target_layer(0, 2)
    # frame 4 (T0) goes; frame 5 (T2, sync) cannot: T1 first; frame 6 (T1, sync) lifts to T1;
    # frame 7 (T2, not sync) waits; frame 9 (T2, sync) lifts to T2
    tids = []
    for frame in range(4, 11):
        before = len(setup.out.sent)
        feed(setup, packets[2 * frame:2 * frame + 2])
        tids.append((frame, setup.consumer.temporal_layer, len(setup.out.sent) > before))
    assert tids == [(4, 0, True), (5, 0, False), (6, 1, True), (7, 1, False),
                    (8, 1, True), (9, 2, True), (10, 2, True)]
    assert continuous(setup.out.sent)
    assert picture_ids(setup.out.sent)[::2] == [0, 1, 2, 3, 4, 5]
    # down: the frame under way (11, T2) finishes, the next T2 frame (13) stays out
    feed(setup, packets[22:23])
    setup.consumer.set_target_layer(0, 0)
    feed(setup, packets[23:28])
    assert [read_descriptor(p).tid for _, p in setup.out.sent[-4:]] == [2, 2, 0, 0]
    assert continuous(setup.out.sent) and setup.consumer.temporal_layer == 0
    assert setup.keyframes == [0]  # only the consumer's first request: the climb needed no keyframe


def test_nacks_late_packets_and_resends_map_to_the_numbers_first_sent() -> None:
    setup = consumer()
    setup.consumer.set_target_layer(0, 1)  # T2 (every other frame) left out
    packets = stream(20)
    late = packets[30]  # frame 15 (T2): dropped anyway
    lost = packets[33]  # frame 16 (T0), second packet: the publisher's network lost it
    late_kept = packets[37]  # frame 18 (T1), second packet: arrives after frame 19
    feed(setup, [p for p in packets if p not in (late, lost, late_kept)])
    first_copies = dict(setup.out.sent)
    start = setup.out.sent[0][0]
    span = (setup.out.sent[-1][0] - start) % SEQ_MOD + 1
    holes = [(start + i) % SEQ_MOD for i in range(span) if (start + i) % SEQ_MOD not in first_copies]
    # missing packets keep their places (holes the subscriber asks for): the lost one, and the
    # late one of a frame left out (nobody knew which frame it was of)
    assert len(holes) == 2
    feed(setup, [late, late_kept])
    assert len(setup.out.sent) == len(first_copies) + 1
    late_seq, late_payload = setup.out.sent[-1]
    assert late_seq == (start + span) % SEQ_MOD  # its place: right after its frame's first packet
    same_frame = first_copies[(late_seq - 1) % SEQ_MOD]
    assert read_descriptor(late_payload).picture_id == read_descriptor(same_frame).picture_id

    # the subscriber asks for the lost one: the cache lacks it, so the publisher is asked for it
    setup.consumer.retransmit(holes[1])
    assert setup.upstream == [lost.sequence_number]
    # the one of the frame left out is in the cache now, but stays out
    setup.consumer.retransmit(holes[0])
    assert setup.out.resent == [] and setup.upstream == [lost.sequence_number]
    # and for packets it has: each resent as its first copy
    for seq in list(first_copies)[::3]:
        setup.consumer.retransmit(seq)
    assert setup.out.resent == [(seq, first_copies[seq]) for seq in list(first_copies)[::3]]


def test_a_packet_lost_inside_a_frame_left_out_is_not_resent_from_the_cache() -> None:
    setup = consumer()
    setup.consumer.set_target_layer(0, 0)
    packets = stream(8)
    lost = packets[3]  # frame 1 (T2, left out), its second packet
    feed(setup, [p for p in packets if p is not lost])
    setup.cache.add(lost)  # it arrived since (for another subscriber)
    seqs = [seq for seq, _ in setup.out.sent]
    gap = next(seq + 1 for seq, following in pairwise(seqs) if (following - seq) % SEQ_MOD > 1)
    setup.consumer.retransmit(gap % SEQ_MOD)
    assert setup.out.resent == [] and setup.upstream == []


def test_a_climb_without_sync_frames_asks_for_a_keyframe(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(temporal_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    setup = consumer()
    setup.consumer.set_target_layer(0, 0)
    unsynced = [ForwardedPacket(p.sequence_number, p.timestamp, p.marker, p.payload, None, 0, p.starts_keyframe, 0,
                                (p.temporal[0], False) if p.temporal else None) for p in stream(40)]
    feed(setup, unsynced[:8])
    setup.consumer.set_target_layer(0, 2)
    for frame in range(4, 20):
        now[0] += 1 / 30
        feed(setup, unsynced[2 * frame:2 * frame + 2])
    assert setup.keyframes == [0] and setup.consumer.temporal_layer == 0
    for frame in range(20, 40):
        now[0] += 0.2
        feed(setup, unsynced[2 * frame:2 * frame + 2])
    assert setup.keyframes[1:] and setup.consumer.temporal_layer == 0


def test_a_layer_meter_tells_the_bitrate_up_to_each_temporal_layer() -> None:
    meter = LayerMeter()
    start = meter._window_start
    for frame in range(30):  # one second of L1T3: T0 frames 4000 bytes, T1 2000, T2 1000
        tid = L1T3_PATTERN[frame % 4][0]
        meter.add((4000, 2000, 1000)[tid], start + frame / 30, tid)
    meter.add(0, start + 1.0, 0)  # the window closes
    assert meter.temporal_bps[0] < meter.temporal_bps[1] < meter.temporal_bps[2] == meter.bitrate_bps
    # 8 T0 frames, 7 T1, 15 T2: T0 is 32 of 61 kB, T0+T1 46 of 61
    assert abs(meter.temporal_bps[0] / meter.bitrate_bps - 32 / 61) < 0.01
    assert abs(meter.temporal_bps[1] / meter.bitrate_bps - 46 / 61) < 0.01
    plain = LayerMeter()
    plain.add(1000, plain._window_start, None)
    plain.add(1000, plain._window_start + 1.0, None)
    assert plain.temporal_bps == () and plain.bitrate_bps > 0


class Meter:
    """A layer's meter as LayerChoice reads it: sending, its latest packet at the choice's clock."""

    last_packet_at = 0.0

    def __init__(self, temporal_bps: tuple[int, ...], bitrate_bps: int) -> None:
        self.temporal_bps, self.bitrate_bps = temporal_bps, bitrate_bps


@dataclass
class ChosenConsumer:
    layer: int = 2
    target_layer: int = 2
    temporal_layer: int = 2
    temporal_target: int = 2
    receiver_report: None = None
    remb_bps: int | None = None

    def set_target_layer(self, layer: int, temporal: int = 2) -> None:
        self.layer, self.target_layer, self.temporal_layer, self.temporal_target = layer, layer, temporal, temporal

    def probe(self, size: int) -> None:
        pass


def test_the_choice_keeps_the_size_at_a_lower_frame_rate_before_a_smaller_layer() -> None:
    layers = [LayerIn(i, rid, PacketCache(64), cast(Any, None)) for i, rid in enumerate("qhf")]
    for layer, bitrate in zip(layers, (120_000, 300_000, 700_000), strict=True):
        layer.meter = cast(Any, Meter((int(bitrate * 0.4), int(bitrate * 0.6), bitrate), bitrate))
        layer.size = (320 * 2**layer.index, 180 * 2**layer.index)
    chosen = ChosenConsumer()
    choice = LayerChoice(cast(PacketConsumer, chosen), layers, "test", now=lambda: Meter.last_packet_at)
    choice.update()
    assert (chosen.layer, chosen.temporal_layer) == (2, 2)
    choice.link_limit = step(2, 1)  # the link carries the top size at half its rate
    choice.update()
    assert (chosen.layer, chosen.temporal_layer) == (2, 1)
    choice.link_limit = step(1, 2) + 1  # between steps: the highest below
    choice.update()
    assert (chosen.layer, chosen.temporal_layer) == (2, 0)
    choice.link_limit = -1  # the floor: the lowest layer at T0
    choice.update()
    assert (chosen.layer, chosen.temporal_layer) == (0, 0)
    choice.link_limit = step(2)
    choice.set_view(View(300, 170, False))  # hidden: the lowest step
    assert (chosen.layer, chosen.temporal_layer) == (0, 0)
    choice.set_view(View(300, 170, True))  # a small tile: the small layer at full rate
    assert (chosen.layer, chosen.temporal_layer) == (0, 2)


def test_the_bot_l1t3_clip_decodes_the_same_without_its_upper_layers() -> None:
    clip = video_clip(seconds=1.0, width=160, height=90, bitrate=100_000, temporal_layers=3)
    assert [tid for tid, _ in clip.temporal[:8]] == [0, 2, 1, 2, 0, 2, 1, 2]

    def decoded(highest: int) -> dict[int, bytes]:
        decoder = av.CodecContext.create("libvpx", "r")
        pictures = {}
        for index, frame in enumerate(clip.frames):
            if clip.temporal[index][0] <= highest:
                for picture in decoder.decode(av.Packet(frame)):
                    assert isinstance(picture, av.VideoFrame)
                    pictures[index] = b"".join(bytes(plane) for plane in picture.planes)
        return pictures

    full = decoded(2)
    assert len(full) == len(clip.frames)
    for highest in (0, 1):
        part = decoded(highest)
        assert len(part) == sum(1 for tid, _ in clip.temporal if tid <= highest)
        assert all(part[index] == full[index] for index in part), f"T{highest} alone decodes differently"
    with pytest.raises(ValueError):
        video_clip("video/H264", temporal_layers=3)
