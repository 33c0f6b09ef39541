"""Encoded frames out of an ``RTCRtpReceiver`` instead of decoded pictures.

aiortc always decodes what it receives. Its decoder thread obtains a decoder
through the module global ``aiortc.rtcrtpreceiver.get_decoder``; replacing that
global with a dispatcher lets chosen receivers get a "decoder" that only wraps
each reassembled frame into an ``av.Packet``, so their track yields encoded
packets the SFU can forward. Receivers are chosen one by one, so every other
connection in the process (a test client, the bot) still decodes normally.

The packet path needs those frames only while a recording taps the producer.
Reassembling them costs a jitter-buffer insert per packet (aiortc scans the
buffer from its oldest packet on every insert, and joins every frame's payloads)
and a decoder-thread wake-up plus a trip back to the event loop per frame.
:class:`FrameGate` closes both while nobody reads the frames; aiortc's other
per-packet work (receiver statistics for its reports, NACKs and REMB to the
publisher) goes on.
"""

import fractions
import queue
import threading
import weakref
from collections.abc import Callable

import aiortc.rtcrtpreceiver
import av
from aiortc import RTCRtpReceiver
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from .packets import vp8_is_key_frame

DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
"""aiortc 1.16 internal: the ``queue.Queue`` from which a receiver's decoder thread takes
(codec, frame) pairs; ``_handle_rtp_packet`` puts each reassembled frame in it, ``receive()``
hands it to the thread it starts and ``__stop_decoder`` puts the ``None`` that ends it."""

JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
"""aiortc 1.16 internal: the receiver's ``JitterBuffer``, whose ``add(packet)`` returns
``(pli_flag, frame or None)``; ``_handle_rtp_packet`` calls it for every media packet (after
statistics, RTX unwrapping and NACKs) and puts each returned frame in the decoder queue."""

H264_NAL_IDR = 5
H264_START_CODE = b"\x00\x00\x01"


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether an encoded frame can be decoded without any earlier frame."""
    mime = mime_type.lower()
    if mime == "video/vp8":
        return vp8_is_key_frame(data)
    if mime == "video/h264":
        return _has_h264_idr(data)
    return True  # audio frames stand alone


def _has_h264_idr(data: bytes) -> bool:
    position = data.find(H264_START_CODE)
    while position != -1 and position + 3 < len(data):
        if data[position + 3] & 0x1F == H264_NAL_IDR:
            return True
        position = data.find(H264_START_CODE, position + 3)
    return False


def encoded_packet(data: bytes, pts: int, time_base: fractions.Fraction, mime_type: str) -> av.Packet:
    """A reassembled frame as the SFU hands frames on (to consumers and sinks): an ``av.Packet``."""
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = time_base
    packet.is_keyframe = is_keyframe(mime_type, data)
    return packet


class PassthroughDecoder(Decoder):
    """A ``Decoder`` that returns the encoded frame as an ``av.Packet``.

    pts is the receiver's RTP timestamp (already rebased to start at 0 by
    aiortc's TimestampMapper) in the codec's clock rate.
    """

    def __init__(self, codec: RTCRtpCodecParameters) -> None:
        self._mime_type = codec.mimeType
        self._time_base = fractions.Fraction(1, codec.clockRate)

    def decode(self, encoded_frame: JitterFrame) -> list[av.Packet]:  # type: ignore[override]
        return [encoded_packet(encoded_frame.data, encoded_frame.timestamp, self._time_base, self._mime_type)]


_chosen: "weakref.WeakSet[RTCRtpReceiver]" = weakref.WeakSet()
_lock = threading.Lock()
# aiortc 1.16 internal: decoder_worker() calls the module global
# aiortc.rtcrtpreceiver.get_decoder(codec) from the receiver's decoder thread.
HOOK = "get_decoder"
_aiortc_get_decoder: Callable[[RTCRtpCodecParameters], Decoder] = getattr(
    aiortc.rtcrtpreceiver, HOOK
)


def _get_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    thread = threading.current_thread()
    with _lock:
        chosen = list(_chosen)
    for receiver in chosen:
        # aiortc 1.16 internal: RTCRtpReceiver.__decoder_thread is set before the
        # thread starts, and get_decoder() only runs on that thread.
        if getattr(receiver, "_RTCRtpReceiver__decoder_thread", None) is thread:
            return PassthroughDecoder(codec)
    return _aiortc_get_decoder(codec)


def pass_through(receiver: RTCRtpReceiver) -> None:
    """Make ``receiver``'s track yield ``av.Packet`` instead of decoded frames.

    Call it before the receiver gets its first frame, e.g. from the connection's
    ``track`` event, which aiortc emits before it starts receivers.
    """
    with _lock:
        if getattr(aiortc.rtcrtpreceiver, HOOK) is not _get_decoder:
            setattr(aiortc.rtcrtpreceiver, HOOK, _get_decoder)
        _chosen.add(receiver)


class FrameGate:
    """Stands in for a receiver's jitter buffer and decoder queue; while closed, reassembles nothing.

    Closed, a packet costs aiortc no jitter-buffer insert and no frame: ``add`` keeps nothing
    and tells of no loss (the packet path's subscribers ask for keyframes themselves). Opened
    again, reassembly restarts from an empty buffer, as at a receiver's start: sequence numbers
    that moved on (or wrapped) meanwhile are not taken for late packets or a gap, and the first
    frame may lack its opening packets (a recording waits for a keyframe anyway; audio frames
    are single packets). The end-of-stream ``None`` always passes the
    queue, so the decoder thread and the track still end. Works whether or not the receiver
    has started its decoder thread: the thread reads from the queue behind the gate.
    """

    def __init__(self, receiver: RTCRtpReceiver, is_open: bool) -> None:
        self._open = is_open
        inner = getattr(receiver, DECODER_QUEUE)
        jitter_buffer = getattr(receiver, JITTER_BUFFER)
        if isinstance(inner, FrameGate):  # a cascade link's m-line, taken over by its next producer
            jitter_buffer = inner._jitter_buffer
            inner = inner._queue
        assert isinstance(inner, queue.Queue), "aiortc's receiver internals changed"
        assert isinstance(jitter_buffer, JitterBuffer), "aiortc's receiver internals changed"
        self._queue: queue.Queue[object] = inner
        self._jitter_buffer: JitterBuffer = jitter_buffer
        # aiortc 1.16 internal: the buffer's own settings, as the receiver made it.
        self._jitter_settings = (jitter_buffer.capacity, jitter_buffer._prefetch, jitter_buffer._is_video)
        setattr(receiver, DECODER_QUEUE, self)
        setattr(receiver, JITTER_BUFFER, self)

    @property
    def open(self) -> bool:
        return self._open

    @open.setter
    def open(self, value: bool) -> None:
        if value and not self._open:
            capacity, prefetch, is_video = self._jitter_settings
            self._jitter_buffer = JitterBuffer(capacity, prefetch, is_video)
        self._open = value

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """aiortc's ``JitterBuffer.add``: (ask for a keyframe, a reassembled frame or None)."""
        if self._open:
            return self._jitter_buffer.add(packet)
        return False, None

    def put(self, item: object) -> None:
        if self._open or item is None:
            self._queue.put(item)

    def get(self) -> object:
        return self._queue.get()
