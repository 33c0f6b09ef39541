"""ReceiverUpkeep: aiortc's per-packet receiver work on the packet path, minus depayload and reassembly.

Two receivers get the same packets (a VP8 clip with a lost packet, its retransmission over RTX,
abs-send-time stamps): one runs aiortc's handler behind a closed FrameGate, as the packet path
did before, the other ReceiverUpkeep. What the publisher sees (REMB, NACKs, the statistics its
receiver reports come from) must be the same; only the depayload is gone.
"""

import asyncio
import random

from aiortc import RTCRtpReceiver
from aiortc.rate import OveruseEstimator, RateCounter
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtcpPacket, RtcpPsfbPacket, RtcpRtpfbPacket, RtpPacket, unpack_remb_fci, wrap_rtx

from server.sfu.passthrough import FrameGate
from server.sfu.receiver_upkeep import (
    REMB_INTERVAL_MS,
    ReceiverUpkeep,
    RembThrottle,
    WindowRate,
    min_frame_period,
)
from tests.unit.test_sfu_frame_gate import PAYLOAD_TYPE, VP8, clip_packets, reassembled

RTX_PAYLOAD_TYPE = 97
RTX = RTCRtpCodecParameters(mimeType="video/rtx", clockRate=90000, payloadType=RTX_PAYLOAD_TYPE,
                            parameters={"apt": PAYLOAD_TYPE})
MEDIA_SSRC, RTX_SSRC, RTCP_SSRC = 1234, 4321, 5678
LOST = 5
"""Index of the packet that arrives only as a retransmission, after the rest."""
SPACING_MS = 40
REPEATS = 8
"""~6 s of packets: aiortc's rate control sends its first estimate after 5 s."""


class _Transport:
    """Records what the receiver sends (its RTCP to the publisher)."""

    state = "connected"

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.sent_at: list[int] = []
        self.now_ms = 0
        """The arrival time of the packet being handled (set by :func:`run`)."""

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)
        self.sent_at.append(self.now_ms)


def receiver_with(transport: _Transport) -> RTCRtpReceiver:
    receiver = RTCRtpReceiver("video", transport)  # type: ignore[arg-type]
    # aiortc 1.16 internals, as receive() would set them (without starting a decoder thread).
    receiver._RTCRtpReceiver__codecs.update({PAYLOAD_TYPE: VP8, RTX_PAYLOAD_TYPE: RTX})  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__rtx_ssrc[RTX_SSRC] = MEDIA_SSRC  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__decoder_thread = object()  # type: ignore[attr-defined]
    receiver._set_rtcp_ssrc(RTCP_SSRC)
    return receiver


def arrivals() -> list[tuple[RtpPacket, int]]:
    """The clip's packets, REPEATS times over, SPACING_MS apart, one lost and then retransmitted."""
    _frames, first = clip_packets(1000, 0)
    packets = list(first)
    for repeat in range(1, REPEATS):
        _frames, more = clip_packets(1000 + repeat * len(first), repeat * 8 * 3000)
        packets.extend(more)
    out = []
    for index, packet in enumerate(packets):
        packet.ssrc = MEDIA_SSRC
        packet.extensions.abs_send_time = ((index * SPACING_MS) << 18) // 1000 & 0xFFFFFF  # 6.18 fixed-point s
        if index != LOST:
            out.append((packet, index * SPACING_MS))
    rtx = wrap_rtx(packets[LOST], payload_type=RTX_PAYLOAD_TYPE, sequence_number=1, ssrc=RTX_SSRC)
    rtx.extensions.abs_send_time = packets[-1].extensions.abs_send_time
    out.append((rtx, len(packets) * SPACING_MS))
    return out


def congested_arrivals() -> list[tuple[RtpPacket, int]]:
    """Sent SPACING_MS apart; arriving so for 6 s (the estimate settles), then 50 % further apart
    (a queue on the path grows): aiortc's detector sees overuse."""
    packets: list[RtpPacket] = []
    while len(packets) * SPACING_MS < 9000:
        repeat = len(packets)
        _frames, more = clip_packets(1000 + repeat, repeat * 3000)
        packets.extend(more)
    out, arrival_ms = [], 0
    for index, packet in enumerate(packets):
        packet.ssrc = MEDIA_SSRC
        packet.extensions.abs_send_time = ((index * SPACING_MS) << 18) // 1000 & 0xFFFFFF
        arrival_ms += SPACING_MS if index * SPACING_MS < 6000 else SPACING_MS * 3 // 2
        out.append((packet, arrival_ms))
    return out


async def run(upkeep: bool, fed: list[tuple[RtpPacket, int]] | None = None,
              ) -> tuple[RTCRtpReceiver, _Transport, list[RtpPacket]]:
    transport = _Transport()
    receiver = receiver_with(transport)
    gate = FrameGate(receiver, is_open=False)
    if upkeep:
        ReceiverUpkeep(receiver, gate, RembThrottle())
    fed = arrivals() if fed is None else fed
    for packet, arrival_ms in fed:
        transport.now_ms = arrival_ms
        await receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_ms)
    return receiver, transport, [packet for packet, _ in fed]


def feedback(transport: _Transport) -> list[tuple[str, int, bytes]]:
    parsed = [packet for data in transport.sent for packet in RtcpPacket.parse(data)]
    return [(type(packet).__name__, packet.fmt, bytes(packet)) for packet in parsed]  # type: ignore[union-attr]


def test_the_publisher_gets_the_same_remb_nacks_and_statistics() -> None:
    before, before_sent, _ = asyncio.run(run(upkeep=False))
    after, after_sent, packets = asyncio.run(run(upkeep=True))
    sent = feedback(after_sent)
    kinds = {(kind, fmt) for kind, fmt, _ in sent}
    assert (RtcpPsfbPacket.__name__, 15) in kinds, "no REMB"  # PSFB APP (REMB)
    assert (RtcpRtpfbPacket.__name__, 1) in kinds, "no NACK for the lost packet"
    assert sent == feedback(before_sent)
    statistics = after._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
    reference = before._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
    assert statistics.keys() == reference.keys() == {MEDIA_SSRC, RTX_SSRC}
    for ssrc, stream in statistics.items():
        assert (stream.packets_received, stream.packets_expected, stream.packets_lost) == (
            reference[ssrc].packets_received, reference[ssrc].packets_expected, reference[ssrc].packets_lost)
    nacks = after._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
    assert nacks.missing == set() and nacks.max_seq == before._RTCRtpReceiver__nack_generator.max_seq  # type: ignore[attr-defined]
    assert {source.source for source in after.getSynchronizationSources()} == {MEDIA_SSRC, RTX_SSRC}
    assert not any(hasattr(packet, "_data") for packet in packets), "depayloaded though nobody reads frames"


def rembs(transport: _Transport) -> list[tuple[int, int]]:
    """(when, bitrate) of the REMBs sent, in order."""
    return [(at, unpack_remb_fci(packet.fci)[0]) for at, data in zip(transport.sent_at, transport.sent, strict=True)
            for packet in RtcpPacket.parse(data) if isinstance(packet, RtcpPsfbPacket)]


def test_under_overuse_remb_goes_as_libwebrtc_sends_it() -> None:
    """aiortc asks for a REMB with every packet while it sees overuse. The publisher gets at
    most one per REMB_INTERVAL_MS, except that a fall of more than 3 % goes at once: whenever
    aiortc asks, the last REMB sent is at most 3 % above what it asks for."""
    _, theirs, _ = asyncio.run(run(upkeep=False, fed=congested_arrivals()))
    _, ours, _ = asyncio.run(run(upkeep=True, fed=congested_arrivals()))
    unthrottled, throttled = rembs(theirs), rembs(ours)
    assert len(unthrottled) > 2 * 3000 // REMB_INTERVAL_MS, "the clip did not make aiortc see overuse"
    assert len(throttled) < len(unthrottled) // 2
    assert all(later - earlier >= REMB_INTERVAL_MS or after * 103 <= before * 100
               for (earlier, before), (later, after) in zip(throttled, throttled[1:]))
    for at, bps in unthrottled:
        sent_at, sent_bps = [remb for remb in throttled if remb[0] <= at][-1]
        assert sent_bps * 100 <= bps * 103, (at, bps, sent_at, sent_bps)


def test_the_throttle_is_libwebrtcs_rule() -> None:
    throttle = RembThrottle()
    assert throttle.due(1_000_000, 0)
    assert not throttle.due(1_000_000, REMB_INTERVAL_MS - 1)  # too soon, not lower
    assert not throttle.due(980_000, 10)  # 2 % lower: waits
    assert throttle.due(960_000, 20)  # 4 % lower: at once
    assert not throttle.due(2_000_000, 100)  # higher: waits for the interval
    assert throttle.due(2_000_000, 20 + REMB_INTERVAL_MS)


def test_an_open_gate_hands_every_packet_to_aiortc() -> None:
    async def scenario() -> list[bytes]:
        receiver = receiver_with(_Transport())
        gate = FrameGate(receiver, is_open=False)
        upkeep = ReceiverUpkeep(receiver, gate, RembThrottle())
        gate.open = True
        frames, packets = clip_packets(2000, 0)
        for packet in packets:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        upkeep.detach()
        assert "_handle_rtp_packet" not in receiver.__dict__
        assert reassembled(gate._queue)[0] == frames[0]
        return frames

    frames = asyncio.run(scenario())
    assert frames


def test_window_rate_answers_as_aiortcs_rate_counter() -> None:
    """Same rates and adds, arrivals jittered, bunched, paused past the window, and a few
    from before the window's origin (a wall clock stepped back)."""
    rng = random.Random(15)
    reference, ours = RateCounter(1000, 8000), WindowRate(1000, 8000)
    now = 10_000
    answers = []
    for _ in range(20_000):
        now += rng.choice((0, 0, 1, 3, 8, 17, 40, 1500)) if rng.random() > 0.002 else -rng.randint(1, 2500)
        size = rng.randint(0, 1200)
        if rng.random() < 0.001:
            reference.reset()
            ours.reset()
        for counter in (reference, ours):
            counter.add(size, now)
        answers.append((reference.rate(now), ours.rate(now)))
        probe = now + rng.randint(-5, 1200)
        answers.append((reference.rate(probe), ours.rate(probe)))
        now = max(now, probe)
    assert [mine for _, mine in answers] == [theirs for theirs, _ in answers]
    assert sum(1 for theirs, _ in answers if theirs) > len(answers) // 2


def test_min_frame_period_is_aiortcs() -> None:
    rng = random.Random(16)
    reference, ours = OveruseEstimator(), OveruseEstimator()
    ours.update_min_frame_period = min_frame_period(ours)  # type: ignore[method-assign]
    deltas = [rng.choice((33.3, 16.7, 0.0, 66.6, rng.uniform(0, 100))) for _ in range(500)]
    assert [ours.update_min_frame_period(d) for d in deltas] == [reference.update_min_frame_period(d) for d in deltas]
    assert ours.ts_delta_hist == reference.ts_delta_hist
