"""The publisher's receive work the packet path skips: frame reassembly behind a closed FrameGate."""

import queue

import av
from aiortc import RTCRtpReceiver, clock
from aiortc.codecs import get_encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from server.bot.media import video_clip
from server.sfu.packets import SEQ_MOD, ntp_now
from server.sfu.passthrough import DECODER_QUEUE, JITTER_BUFFER, FrameGate

PAYLOAD_TYPE = 96
VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=PAYLOAD_TYPE)
FRAMES = 8


class _Transport:
    """What an ``RTCRtpReceiver`` asks of its DTLS transport while it receives."""

    state = "connected"

    async def _send_rtp(self, data: bytes) -> None:
        raise AssertionError("nothing is sent in these tests")


def gated_receiver(is_open: bool) -> tuple[RTCRtpReceiver, FrameGate, "queue.Queue[object]"]:
    """A VP8 receiver whose reassembled frames land in a queue the test reads (no decoder thread)."""
    receiver = RTCRtpReceiver("video", _Transport())  # type: ignore[arg-type]
    # aiortc 1.16 internals, as receive() would set them: the payload type's codec, and a
    # decoder thread (any truthy value) so that frames are put in the decoder queue.
    receiver._RTCRtpReceiver__codecs[PAYLOAD_TYPE] = VP8  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__decoder_thread = object()  # type: ignore[attr-defined]
    frames: queue.Queue[object] = getattr(receiver, DECODER_QUEUE)
    return receiver, FrameGate(receiver, is_open), frames


def clip_packets(first_seq: int, first_timestamp: int) -> tuple[list[bytes], list[RtpPacket]]:
    """The clip's first frames and their RTP packets, numbered from the given values."""
    clip = video_clip("video/VP8")
    encoder = get_encoder(VP8)
    packets: list[RtpPacket] = []
    for index, data in enumerate(clip.frames[:FRAMES]):
        frame = av.Packet(data)
        frame.pts, frame.time_base = index * clip.frame_duration, clip.time_base
        payloads, _ = encoder.pack(frame)
        for position, payload in enumerate(payloads):
            packets.append(RtpPacket(
                payload_type=PAYLOAD_TYPE, sequence_number=(first_seq + len(packets)) % SEQ_MOD,
                timestamp=first_timestamp + index * 3000, marker=int(position == len(payloads) - 1),
                ssrc=1234, payload=payload))
    return list(clip.frames[:FRAMES]), packets


async def feed(receiver: RTCRtpReceiver, packets: list[RtpPacket]) -> None:
    for packet in packets:
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)


def reassembled(frames: "queue.Queue[object]") -> list[bytes]:
    out = []
    while not frames.empty():
        item = frames.get_nowait()
        assert isinstance(item, tuple)
        frame: JitterFrame = item[1]
        out.append(frame.data)
    return out


async def test_a_closed_gate_keeps_no_packets_and_makes_no_frames() -> None:
    receiver, gate, frames = gated_receiver(is_open=False)
    _clip, packets = clip_packets(1000, 0)
    await feed(receiver, packets)
    assert frames.empty()
    assert getattr(receiver, JITTER_BUFFER) is gate
    assert all(slot is None for slot in gate._jitter_buffer._packets)  # nothing inserted


async def test_an_open_gate_reassembles_every_frame_whole() -> None:
    receiver, _gate, frames = gated_receiver(is_open=True)
    clip, packets = clip_packets(1000, 0)
    await feed(receiver, packets)
    # A frame is complete when the next one starts, so the last one is still held.
    assert reassembled(frames) == clip[:-1]


async def test_a_gate_opened_again_starts_from_an_empty_buffer() -> None:
    """Sequence numbers moved on while closed: here they wrapped round to just before the ones
    the buffer saw last, which an old buffer would drop as late packets."""
    receiver, gate, frames = gated_receiver(is_open=True)
    clip, packets = clip_packets(1000, 0)
    await feed(receiver, packets)
    reassembled(frames)
    gate.open = False
    gate.open = True
    clip, packets = clip_packets(1000 - 50, 900_000)
    await feed(receiver, packets)
    assert reassembled(frames) == clip[:-1]


def test_ntp_now_is_aiortcs_clock() -> None:
    before = clock.current_ntp_time()
    now = ntp_now()
    after = clock.current_ntp_time()
    assert before <= now <= after
