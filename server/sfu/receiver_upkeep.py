"""A packet-path receiver's per-packet upkeep, without the work only frame reassembly needs.

aiortc's ``RTCRtpReceiver._handle_rtp_packet`` does, for every packet: feed the bandwidth
estimator (and send REMB), stamp the source with ``clock.current_datetime()``, count it in the
receiver statistics its RTCP reports come from, unwrap RTX, update the NACK generator, depayload
(VP8: parse the payload descriptor and copy the payload), add to the jitter buffer and hand
finished frames to the decoder thread. On the packet path nobody reads those frames while the
producer's :class:`~.passthrough.FrameGate` is closed (no recording taps it), yet the depayload
and the ``datetime`` stamp still cost every packet (bench/RESULTS.md, issue 15).
:class:`ReceiverUpkeep` runs in its place: while the gate is closed it keeps what the publisher
depends on (REMB, receiver reports, NACKs, RTX unwrapping, PLI after a decoder error) and
skips depayload and reassembly; it stamps each source's ``getSynchronizationSources`` time
once per :data:`SOURCE_STAMP_MS` instead of per packet. While the gate is open (a recording
taps the producer) it hands every packet to aiortc's own handler, so frames flow as before.

The bandwidth estimate behind REMB stays aiortc's, fed every packet as before (the publisher's
congestion control depends on it), but two of its parts get cheaper equivalents: the incoming
bitrate's ``RateCounter`` walks its ring of 1 ms buckets one millisecond at a time, twice per
packet (:class:`WindowRate` keeps one entry per packet instead), and the overuse estimator's
``update_min_frame_period`` calls ``min`` once per remembered frame period (one ``min`` over
the list gives the same). Of the REMBs it asks for, :class:`RembThrottle` sends what libwebrtc's
receiver would: under overuse aiortc asks with every packet.

Depends on aiortc 1.16 internals, all in this module: the receiver's private attributes
``__remote_bitrate_estimator``, ``__rtcp_ssrc``, ``__active_ssrc``, ``__codecs``,
``__remote_streams``, ``__rtx_ssrc``, ``__nack_generator``, ``__decoder_error``, ``__kind``,
``__log_debug``, its ``_send_rtcp`` / ``_send_rtcp_nack`` / ``_send_rtcp_pli`` coroutines, and
``_handle_rtp_packet(packet, arrival_time_ms)`` being looked up on the instance (as
``rtptap.py`` relies on too); of ``aiortc.rate``: ``RemoteBitrateEstimator.incoming_bitrate``
and ``.estimator``, ``RateCounter``'s ``_origin_ms`` / ``_window_size`` / ``_scale`` and its
results, ``OveruseEstimator.ts_delta_hist`` and ``update_min_frame_period`` (the tests compare
both equivalents with aiortc's own, so an upgrade that changes them shows).
"""

import datetime
import heapq
from collections.abc import Callable

from aiortc import RTCRtpReceiver, clock
from aiortc.codecs import is_rtx
from aiortc.rate import MIN_FRAME_PERIOD_HISTORY_LENGTH, OveruseEstimator, RateCounter, RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, pack_remb_fci, unwrap_rtx

from .passthrough import FrameGate
from .rtp_in import PlainRtpHandler, plain_take, run_handler

SOURCE_STAMP_MS = 1000
"""How stale a source's ``getSynchronizationSources`` timestamp may get (aiortc stamps every
packet; the method only asks whether a source sent in the last 10 s)."""

REMB_INTERVAL_MS = 200
REMB_FALL_PERCENT = 3
"""A REMB goes out at most every :data:`REMB_INTERVAL_MS`, unless the estimate fell by more than
this since the last one sent (libwebrtc's ``RembThrottler``: 200 ms, 3 %)."""


class RembThrottle:
    """Which of the estimator's REMBs go to the publisher: libwebrtc's rule, for one receiver.

    aiortc's estimator hands out a REMB every 500 ms, and with every packet while its detector
    sees overuse; on a loaded server that is most packets, each a trip through DTLS and ICE to a
    publisher that acts on the newest value alone. A fall that matters (more than
    :data:`REMB_FALL_PERCENT`) still goes at once, so a congested publisher backs off as fast.
    """

    def __init__(self) -> None:
        self._sent_ms: int | None = None
        self._sent_bps = 0

    def due(self, bitrate_bps: int, now_ms: int) -> bool:
        """Whether to send a REMB of ``bitrate_bps`` now (and remember it as sent)."""
        sent_ms = self._sent_ms
        if (sent_ms is not None and now_ms - sent_ms < REMB_INTERVAL_MS
                and bitrate_bps * (100 + REMB_FALL_PERCENT) > self._sent_bps * 100):
            return False
        self._sent_ms, self._sent_bps = now_ms, bitrate_bps
        return True


class WindowRate:
    """aiortc 1.16's ``RateCounter`` (what arrived in the last ``window_size`` ms, in 1 ms
    buckets), same results, with one heap entry per ``add`` instead of a ring of buckets.

    Each arrival is kept under the millisecond of the bucket aiortc would have put it in
    (``origin + (now - origin) mod window``, which also places an arrival from before the
    origin where aiortc's ring does), and dropped when the window's origin passes it.
    """

    def __init__(self, window_size: int, scale: int) -> None:
        self._window_size = window_size
        self._scale = scale
        self.reset()

    def reset(self) -> None:
        self._origin_ms: int | None = None
        self._arrivals: list[tuple[int, int]] = []
        """Heap of (bucket millisecond, value)."""
        self._count = 0
        self._value = 0

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        origin = self._origin_ms
        heapq.heappush(self._arrivals, (origin + (now_ms - origin) % self._window_size, value))
        self._count += 1
        self._value += value

    def rate(self, now_ms: int) -> int | None:
        if self._origin_ms is not None:
            self._erase_old(now_ms)
            active_window_size = now_ms - self._origin_ms + 1
            if self._count > 0 and active_window_size > 1:
                return round(self._scale * self._value / active_window_size)
        return None

    def _erase_old(self, now_ms: int) -> None:
        new_origin_ms = now_ms - self._window_size + 1
        assert self._origin_ms is not None
        if self._origin_ms < new_origin_ms:
            arrivals = self._arrivals
            while arrivals and arrivals[0][0] < new_origin_ms:
                _bucket, value = heapq.heappop(arrivals)
                self._count -= 1
                self._value -= value
            self._origin_ms = new_origin_ms


def min_frame_period(estimator: OveruseEstimator) -> Callable[[float], float]:
    """aiortc 1.16's ``OveruseEstimator.update_min_frame_period`` with one ``min`` call."""
    history = estimator.ts_delta_hist

    def update_min_frame_period(ts_delta: float) -> float:
        if len(history) >= MIN_FRAME_PERIOD_HISTORY_LENGTH:
            history.pop(0)
        smallest = min(history, default=ts_delta)
        history.append(ts_delta)
        return ts_delta if ts_delta < smallest else smallest

    return update_min_frame_period


def cheaper_estimate(estimator: RemoteBitrateEstimator) -> None:
    """Give a fresh estimator the cheaper equivalents of its per-packet parts (a used one keeps
    its own: its state stays where it is)."""
    counter = estimator.incoming_bitrate
    if isinstance(counter, RateCounter) and counter._origin_ms is None:
        estimator.incoming_bitrate = WindowRate(counter._window_size, counter._scale)  # type: ignore[assignment]
    # aiortc 1.16 internal: RemoteBitrateEstimator.estimator, looked up per packet group.
    inner = estimator.estimator
    if "update_min_frame_period" not in inner.__dict__:
        inner.update_min_frame_period = min_frame_period(inner)  # type: ignore[method-assign, assignment]


def remb_for(receiver: RTCRtpReceiver, packet: RtpPacket, arrival_time_ms: int,
             throttle: RembThrottle) -> RtcpPsfbPacket | None:
    """Count ``packet`` in the receiver's bandwidth estimate; the REMB to send now, if one is due.

    What aiortc's receiver does with each packet it gets, for a packet it may not get itself
    (a simulcast layer, ``layers.py``) or one it gets through :class:`ReceiverUpkeep`, with
    ``throttle`` (the receiver's, shared by both) deciding which REMBs are sent.
    ``arrival_time_ms`` is on aiortc's clock (NTP milliseconds, ``clock.current_ms()``).
    """
    # aiortc 1.16 internals: the receiver's RemoteBitrateEstimator (None for audio) and RTCP SSRC.
    estimator: RemoteBitrateEstimator | None = receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
    abs_send_time = packet.extensions.abs_send_time
    if estimator is None or abs_send_time is None:
        return None
    remb = estimator.add(
        abs_send_time=abs_send_time,
        arrival_time_ms=arrival_time_ms,
        payload_size=len(packet.payload) + packet.padding_size,
        ssrc=packet.ssrc,
    )
    rtcp_ssrc: int | None = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
    if remb is None or rtcp_ssrc is None or not throttle.due(remb[0], arrival_time_ms):
        return None
    return RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb))


class ReceiverUpkeep:
    """Stands in for one receiver's ``_handle_rtp_packet`` while its producer forwards packets.

    Install it before anything else wraps the handler (``RtpTap`` calls what it finds), detach
    it when the producer lets the receiver go (a cascade link's next producer installs its own).
    """

    def __init__(self, receiver: RTCRtpReceiver, gate: FrameGate, remb: RembThrottle) -> None:
        self._receiver = receiver
        self._gate = gate
        self._remb = remb
        self._aiortc = plain_take(receiver._handle_rtp_packet)
        # aiortc 1.16 internals: containers the receiver made in __init__ and fills in receive();
        # the same objects for its whole life, so they are read once here.
        self._codecs: dict[int, RTCRtpCodecParameters] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        self._streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        self._rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
        self._sources: dict[int, datetime.datetime] = receiver._RTCRtpReceiver__active_ssrc  # type: ignore[attr-defined]
        self._nacks: NackGenerator | None = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
        self._video = receiver._RTCRtpReceiver__kind == "video"  # type: ignore[attr-defined]
        self._stamped_ms: dict[int, int] = {}
        self._rtx: dict[int, tuple[RTCRtpCodecParameters, bool]] = {}
        """Per payload type: its codec (as last seen) and whether it is RTX."""
        estimator = receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
        if estimator is not None:
            cheaper_estimate(estimator)
        self._handler = PlainRtpHandler(self.take)
        receiver._handle_rtp_packet = self._handler  # type: ignore[method-assign]

    def take(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """aiortc's handler, minus depayload and reassembly while the gate is closed."""
        receiver = self._receiver
        if self._gate.open:
            self._aiortc(packet, arrival_time_ms)
            return
        receiver._RTCRtpReceiver__log_debug("< %s", packet)  # type: ignore[attr-defined]
        if not receiver._enabled:
            return
        remb = remb_for(receiver, packet, arrival_time_ms, self._remb)
        if remb is not None:
            run_handler(receiver._send_rtcp(remb))
        ssrc = packet.ssrc
        if arrival_time_ms - self._stamped_ms.get(ssrc, -SOURCE_STAMP_MS) >= SOURCE_STAMP_MS:
            self._stamped_ms[ssrc] = arrival_time_ms
            self._sources[ssrc] = clock.current_datetime()
        payload_type = packet.payload_type
        codec = self._codecs.get(payload_type)
        if codec is None:
            return
        statistics = self._streams.get(ssrc)
        if statistics is None:
            statistics = self._streams[ssrc] = StreamStatistics(codec.clockRate)
        statistics.add(packet)
        kind = self._rtx.get(payload_type)
        if kind is None or kind[0] is not codec:  # aiortc's is_rtx splits the MIME type every time
            kind = self._rtx[payload_type] = (codec, is_rtx(codec))
        if kind[1]:
            original_ssrc = self._rtx_ssrc.get(ssrc)
            apt = codec.parameters.get("apt")
            if original_ssrc is None or len(packet.payload) < 2 or not isinstance(apt, int) or apt not in self._codecs:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        if self._nacks is not None and self._nacks.add(packet):
            run_handler(receiver._send_rtcp_nack(packet.ssrc, sorted(self._nacks.missing)))
        # The closed gate's jitter buffer never asks for a keyframe; a decoder error still does.
        decoder_error = receiver._RTCRtpReceiver__decoder_error  # type: ignore[attr-defined]
        if decoder_error.is_set():
            decoder_error.clear()
            if self._video:
                run_handler(receiver._send_rtcp_pli(packet.ssrc))

    def detach(self) -> None:
        if self._receiver.__dict__.get("_handle_rtp_packet") is self._handler:
            del self._receiver._handle_rtp_packet
