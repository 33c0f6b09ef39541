"""RTP packets as the packet path forwards them: read once per publisher, rewritten per subscriber.

A received packet becomes one :class:`ForwardedPacket`, shared by every subscriber: the payload
is never copied, depacketised or repacketised. Each subscriber's copy is a new 12-byte header
(its SSRC, sequence number, timestamp and payload type), the header extensions it negotiated,
and the original payload. Nothing here touches aiortc internals; only the wire format
(RFC 3550, RFC 8285 header extensions, RFC 4588 retransmission, RFC 7741 VP8, RFC 6184 H.264).
"""

import struct
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from aiortc.rtp import pack_header_extensions

VP8_START_CODE = b"\x9d\x01\x2a"

HEADER = struct.Struct("!BBHLL")
"""The fixed RTP header: V/P/X/CC, M/PT, sequence number, timestamp, SSRC."""
RTP_VERSION_2 = 0x80
EXTENSION_BIT = 0x10
RTX_OSN = struct.Struct("!H")
"""The original sequence number that opens an RTX payload (RFC 4588 section 4)."""

NTP_UNIX_OFFSET_NS = 2_208_988_800 * 1_000_000_000
"""From the NTP epoch (1900) to the Unix epoch (1970)."""
NS_PER_S = 1_000_000_000

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32
HALF_SEQ = 1 << 15

H264_IDR, H264_SPS, H264_STAP_A, H264_FU_A = 5, 7, 24, 28
H264_STARTS_KEYFRAME = (H264_IDR, H264_SPS)


def ntp_now() -> int:
    """The time now in 64-bit NTP format (32.32 fixed-point seconds since 1900).

    The value of aiortc's ``clock.current_ntp_time()``, read from ``time.time_ns()`` instead of
    building and subtracting two ``datetime`` objects: the packet path stamps every packet it
    receives with it.
    """
    seconds, ns = divmod(time.time_ns() + NTP_UNIX_OFFSET_NS, NS_PER_S)
    return (seconds << 32) | ((ns << 32) // NS_PER_S)


def seq_newer_or_equal(seq: int, than: int) -> bool:
    """Whether 16-bit sequence number ``seq`` is at or after ``than`` (RFC 3550 wrap-around)."""
    return (seq - than) % SEQ_MOD < HALF_SEQ


def starts_keyframe(mime_type: str, payload: bytes) -> bool:
    """Whether a decoder can start at this packet, if it is the first packet of its frame.

    Read from the payload's own headers, so the check costs a few byte reads per packet and
    needs no reassembly. (For H.264 the later packets of a keyframe may qualify too, e.g. the
    IDR slice after the SPS: the caller checks that the packet opens a frame.) Audio packets
    always qualify.
    """
    mime = mime_type.lower()
    if mime == "video/vp8":
        return _vp8_starts_keyframe(payload)
    if mime == "video/h264":
        return _h264_starts_keyframe(payload)
    return not mime.startswith("video/")


def _vp8_starts_keyframe(payload: bytes) -> bool:
    # RFC 7741 section 4.2: the descriptor's S bit and partition index 0 mark a frame's first
    # packet; the VP8 payload header after the descriptor has P (bit 0) = 0 for a key frame.
    if not payload or payload[0] & 0x17 != 0x10:  # S set, PID 0
        return False
    index = 1
    if payload[0] & 0x80:  # X: an extension byte follows
        if len(payload) < 2:
            return False
        flags = payload[1]
        index = 2
        if flags & 0x80:  # I: picture id, one byte or two (M bit)
            if len(payload) <= index:
                return False
            index += 2 if payload[index] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX
            index += 1
        if flags & 0x30:  # T or K: TID/Y/KEYIDX
            index += 1
    return vp8_is_key_frame(payload, index)


def vp8_is_key_frame(data: bytes, start: int = 0) -> bool:
    """Whether the VP8 frame beginning at ``data[start]`` is a key frame (RFC 6386 section 9.1).

    Bit 0 of the frame tag alone is not enough: a delta frame whose first packet was lost starts
    with arbitrary bytes, half of which would pass; a key frame also carries the start code
    9d 01 2a right after its 3-byte tag, which a gate on the tag bit alone would let garbage past.
    """
    return len(data) >= start + 6 and data[start] & 0x01 == 0 and data[start + 3:start + 6] == VP8_START_CODE


def _h264_starts_keyframe(payload: bytes) -> bool:
    # RFC 6184: a keyframe's access unit opens with its SPS (alone or in a STAP-A) when the
    # encoder repeats it, otherwise with the first IDR slice (alone or as an FU-A start).
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type in H264_STARTS_KEYFRAME:
        return True
    if nal_type == H264_STAP_A:
        index = 1
        while index + 2 < len(payload):
            size = (payload[index] << 8) | payload[index + 1]
            if payload[index + 2] & 0x1F in H264_STARTS_KEYFRAME:
                return True
            index += 2 + size
        return False
    if nal_type == H264_FU_A:
        return len(payload) > 1 and payload[1] & 0x80 != 0 and payload[1] & 0x1F == H264_IDR
    return False


class ExtensionLayout(NamedTuple):
    """The header extensions one subscriber negotiated, by id (None: not negotiated).

    A tuple rather than a frozen dataclass: it keys each packet's block cache, looked up once per
    packet per subscriber, and a tuple hashes in C (a dataclass's ``__hash__`` builds a tuple in
    Python first, which was half the cost of rewriting a header).
    """

    mid_id: int | None
    mid: bytes
    abs_send_time_id: int | None
    audio_level_id: int | None


@dataclass(slots=True, eq=False)
class ForwardedPacket:
    """One received media packet (RTX already unwrapped), as every subscriber's copy is made from.

    ``ntp`` is the arrival time (64-bit NTP format), taken once: every copy's abs-send-time
    extension (6.18 fixed-point seconds) comes from it, and sender reports pair it with the
    copy's rewritten timestamp.
    """

    sequence_number: int
    timestamp: int
    marker: int
    payload: bytes
    audio_level: tuple[bool, int] | None
    ntp: int
    starts_keyframe: bool
    layer: int = 0
    """The simulcast layer it came in (0 = lowest; always 0 without simulcast)."""
    temporal: tuple[int, bool] | None = None
    """VP8: its frame's temporal layer and layer sync bit (``vp8.read_temporal``); None: not told."""
    _blocks: dict[ExtensionLayout, bytes] = field(default_factory=dict)

    def extension_block(self, layout: ExtensionLayout) -> bytes:
        """The header extension block for ``layout``; built once per packet and layout.

        Subscribers of one room mostly share a layout (aiortc numbers mids and extensions the
        same way on every connection), so this is usually one build per packet, not per copy.
        """
        block = self._blocks.get(layout)
        if block is None:
            block = self._blocks[layout] = self._build_block(layout)
        return block

    def _build_block(self, layout: ExtensionLayout) -> bytes:
        elements: list[tuple[int, bytes]] = []
        if layout.mid_id is not None:
            elements.append((layout.mid_id, layout.mid))
        if layout.abs_send_time_id is not None:
            abs_send_time = (self.ntp >> 14) & 0x00FFFFFF
            elements.append((layout.abs_send_time_id, abs_send_time.to_bytes(3, "big")))
        if layout.audio_level_id is not None and self.audio_level is not None:
            voice, level = self.audio_level
            elements.append((layout.audio_level_id, bytes([(0x80 if voice else 0) | level])))
        if not elements:
            return b""
        profile, value = pack_header_extensions(elements)
        return struct.pack("!HH", profile, len(value) // 4) + value


def rtx_payload(packet: ForwardedPacket, original_sequence_number: int, payload: bytes | None = None) -> bytes:
    """An RTX payload: the sequence number the subscriber missed, then the payload (or ``payload``)."""
    return RTX_OSN.pack(original_sequence_number) + (packet.payload if payload is None else payload)


def mapped_sender_clock(ntp: int, rtp_timestamp: int, timestamp_offset: int) -> tuple[int, int]:
    """A publisher's sender-report clock pair as a subscriber's copy of the stream carries it.

    The NTP half stays the publisher's: audio and video of one publisher are lined up by
    comparing their NTP times, so both must come from the same clock (the publisher's), and an
    exact pair the publisher stated is better than one re-estimated here. The RTP half moves by
    the same offset as every forwarded packet's timestamp.
    """
    return ntp, (rtp_timestamp + timestamp_offset) % TS_MOD


def unwrap_rtx_payload(payload: bytes) -> tuple[int, bytes] | None:
    """(original sequence number, payload) of an RTX payload; None if too short to be one."""
    if len(payload) < RTX_OSN.size:
        return None
    return RTX_OSN.unpack_from(payload)[0], payload[RTX_OSN.size :]


class PacketCache:
    """A producer's last packets by sequence number, for answering subscribers' NACKs.

    A ring indexed by sequence number modulo its size (a power of two, so it divides 2**16
    and wrap-around needs no care); a slot is a hit only if it holds that exact number.
    """

    def __init__(self, size: int) -> None:
        if size <= 0 or size & (size - 1) or size > SEQ_MOD:
            raise ValueError(f"packet cache size must be a power of two up to {SEQ_MOD}: {size}")
        self.size = size
        self._mask = size - 1
        self._slots: list[ForwardedPacket | None] = [None] * size

    def add(self, packet: ForwardedPacket) -> None:
        self._slots[packet.sequence_number & self._mask] = packet

    def get(self, sequence_number: int) -> ForwardedPacket | None:
        packet = self._slots[sequence_number & self._mask]
        if packet is not None and packet.sequence_number == sequence_number:
            return packet
        return None
