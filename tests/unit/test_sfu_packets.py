"""The packet path's wire format and per-subscriber rewriting, without a network."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import av
import pytest
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
)

from server.bot.media import video_clip
from server.sfu.fan_out import OutState
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import (
    TS_MOD,
    ForwardedPacket,
    PacketCache,
    mapped_sender_clock,
    rtx_payload,
    seq_newer_or_equal,
    starts_keyframe,
    unwrap_rtx_payload,
)
from server.sfu.passthrough import is_keyframe
from server.sfu.settings import SfuSettings


def packetised(mime_type: str) -> list[tuple[bool, list[bytes]]]:
    """The clip's frames as aiortc's sender packetises them: (keyframe, payloads)."""
    clip = video_clip(mime_type)
    encoder = get_encoder(RTCRtpCodecParameters(mimeType=mime_type, clockRate=90000, payloadType=96))
    frames = []
    for index, data in enumerate(clip.frames):
        packet = av.Packet(data)
        packet.pts, packet.time_base = index * clip.frame_duration, clip.time_base
        payloads, _ = encoder.pack(packet)
        frames.append((clip.keyframes[index], payloads))
    return frames


@pytest.mark.parametrize("mime_type", ["video/VP8", "video/H264"])
def test_a_keyframe_is_recognised_on_its_first_packet(mime_type: str) -> None:
    frames = packetised(mime_type)
    for keyframe, payloads in frames:
        assert starts_keyframe(mime_type, payloads[0]) == keyframe
        if not keyframe:
            assert not any(starts_keyframe(mime_type, p) for p in payloads)
    assert frames[0][0] and any(len(payloads) > 1 for _, payloads in frames)


def test_truncated_payloads_are_not_keyframes() -> None:
    for payload in (b"", b"\x90", b"\x90\x80", b"\x10"):  # descriptor cut before the VP8 header
        assert not starts_keyframe("video/VP8", payload)
    for payload in (b"", b"\x7c", b"\x18\x00", b"\x18\x00\x05"):  # FU-A, STAP-A cut short
        assert not starts_keyframe("video/H264", payload)


def test_a_vp8_frame_without_the_start_code_is_not_a_keyframe() -> None:
    """A delta frame whose first packet was lost starts anywhere; its tag bit alone passes half the time."""
    key = next(payloads[0] for keyframe, payloads in packetised("video/VP8") if keyframe)
    code = key.index(b"\x9d\x01\x2a")
    headless = key[:code] + b"\x00\x00\x00" + key[code + 3:]  # descriptor + tag kept, start code gone
    assert starts_keyframe("video/VP8", key)
    assert not starts_keyframe("video/VP8", headless)
    clip = video_clip("video/VP8")
    assert is_keyframe("video/VP8", clip.frames[0]) and clip.keyframes[0]
    assert not is_keyframe("video/VP8", b"\x00" + clip.frames[1][1:])  # tag bit forced to 'key'


def forwarded(seq: int, ts: int = 0, keyframe: bool = False, payload: bytes = b"media") -> ForwardedPacket:
    return ForwardedPacket(seq, ts, 1, payload, (True, 30), 0x1234_5678_9ABC_DEF0, keyframe)


def test_rtx_payloads_round_trip() -> None:
    assert unwrap_rtx_payload(rtx_payload(forwarded(1), 4242)) == (4242, b"media")
    assert unwrap_rtx_payload(b"\x01") is None


def test_the_cache_holds_recent_packets_by_exact_number() -> None:
    cache = PacketCache(4)
    for seq in (65533, 65534, 65535, 0, 1):
        cache.add(forwarded(seq))
    assert cache.get(65533) is None  # pushed out by 1
    assert [p.sequence_number for p in map(cache.get, (65534, 65535, 0, 1)) if p] == [65534, 65535, 0, 1]
    assert cache.get(5) is None  # same ring slot as 1, another number
    with pytest.raises(ValueError):
        PacketCache(500)


def test_sequence_order_wraps_around() -> None:
    assert seq_newer_or_equal(3, 65530) and not seq_newer_or_equal(65530, 3)
    assert seq_newer_or_equal(10, 10)


def test_settings_refuse_unknown_forwarding_and_bad_cache_sizes() -> None:
    with pytest.raises(ValueError):
        SfuSettings(forwarding="frames")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SfuSettings(nack_cache_packets=1000)


@dataclass
class FakeOut:
    """The part of RtpOut a PacketConsumer drives, recording what would go on the wire."""

    ready: bool = True
    next_seq: int = 100
    last_timestamp: int | None = None
    clock_rate: int = 90000
    timeline_owner: object = None
    sender_clock: object = None
    receiver_report: object = None
    state: OutState = field(default_factory=OutState)
    """Its consumers' lanes hang on it (``fan_out.py``); nothing here sends natively."""
    sent: list[tuple[int, int, bytes]] = field(default_factory=list)
    resent: list[tuple[int, int, bytes]] = field(default_factory=list)

    def send(self, packet: ForwardedPacket, seq: int, ts: int, payload: bytes | None = None) -> None:
        self.sent.append((seq, ts, packet.payload if payload is None else payload))
        self.next_seq, self.last_timestamp = (seq + 1) % 65536, ts

    def resend(self, packet: ForwardedPacket, seq: int, ts: int, payload: bytes | None = None) -> None:
        self.resent.append((seq, ts, packet.payload if payload is None else payload))

    def next_timestamp(self) -> int:
        return 5000 if self.last_timestamp is None else self.last_timestamp + self.clock_rate // 50


@dataclass
class Upstream:
    keyframes: int = 0
    nacks: list[int] = field(default_factory=list)


def consumer_on(out: FakeOut, cache: PacketCache, upstream: Upstream, video: bool = True,
                publisher_clock: tuple[int, int] | None = None) -> PacketConsumer:
    def request(layer: int) -> None:
        upstream.keyframes += 1

    return PacketConsumer("p", video, out, [SimpleNamespace(cache=cache)],  # type: ignore[arg-type, list-item]
                          request, lambda layer, seq: upstream.nacks.append(seq),
                          lambda consumer: None, lambda layer: publisher_clock)


def test_a_video_run_starts_at_a_keyframe_and_continues_the_m_lines_numbers() -> None:
    out, cache, upstream = FakeOut(), PacketCache(64), Upstream()
    consumer = consumer_on(out, cache, upstream)
    assert upstream.keyframes == 1  # asked as soon as it is attached to a ready m-line
    for packet in (forwarded(65534, 90), forwarded(65535, 90, keyframe=True), forwarded(0, 3090),
                   forwarded(2, 6090)):  # 1 was lost upstream: the hole stays
        cache.add(packet)
        consumer.forward(packet)
    assert [(seq, ts) for seq, ts, _ in out.sent] == [(100, 5000), (101, 8000), (103, 11000)]
    assert consumer.dropped == 1

    consumer.retransmit(101)  # in the cache
    consumer.retransmit(102)  # lost before the SFU: the publisher is asked for it
    consumer.retransmit(99)  # before the run: nothing to send
    assert [(seq, ts) for seq, ts, _ in out.resent] == [(101, 8000)]
    assert upstream.nacks == [1]

    consumer.restart()  # e.g. unmuted: waits for a keyframe again, with no hole in the numbers
    assert upstream.keyframes == 2
    consumer.forward(forwarded(3, 9090))
    consumer.forward(forwarded(40, 90090, keyframe=True))
    consumer.forward(forwarded(4, 12090))  # late, from before the new run
    assert [(seq, ts) for seq, ts, _ in out.sent][-1] == (104, 95000)  # same producer: same clock
    assert len(out.sent) == 4


def test_the_next_producer_on_an_m_line_continues_its_timeline() -> None:
    out, cache, upstream = FakeOut(), PacketCache(64), Upstream()
    first = consumer_on(out, cache, upstream, video=False)
    first.forward(forwarded(10, 480))
    first.forward(forwarded(11, 1440))
    first.close()
    second = consumer_on(out, cache, upstream, video=False)
    second.forward(forwarded(30000, 7_000_000))  # audio needs no keyframe
    assert [(seq, ts) for seq, ts, _ in out.sent] == [(100, 5000), (101, 5960), (102, 5960 + 1800)]


def test_a_long_run_survives_sequence_number_wrap_arounds() -> None:
    out, cache, upstream = FakeOut(), PacketCache(64), Upstream()
    consumer = consumer_on(out, cache, upstream, video=False)
    for seq in range(3 * 65536):
        consumer.forward(forwarded(seq % 65536, seq))
    assert len(out.sent) == 3 * 65536


def test_a_publishers_sender_clock_moves_with_the_timestamps() -> None:
    assert mapped_sender_clock(123 << 32, TS_MOD - 10, 30) == (123 << 32, 20)  # wraps like timestamps
    out, cache, upstream = FakeOut(), PacketCache(64), Upstream()
    # the publisher said: RTP 7_000_000 is NTP 3.5 s
    consumer = consumer_on(out, cache, upstream, video=False, publisher_clock=((3 << 32) | (1 << 31), 7_000_000))
    assert consumer.sender_clock() == ((3 << 32) | (1 << 31), 7_000_000)  # no run yet: no offset
    consumer.forward(forwarded(30000, 6_999_040))
    consumer.forward(forwarded(30001, 7_000_000))
    # the sender report a subscriber gets pairs the same instant with that packet's new timestamp
    assert out.sender_clock == consumer.sender_clock  # the m-line's reports follow its timeline owner
    assert consumer.sender_clock() == ((3 << 32) | (1 << 31), out.sent[-1][1])
    assert consumer_on(out, cache, upstream).sender_clock() is None  # before the publisher's first report
