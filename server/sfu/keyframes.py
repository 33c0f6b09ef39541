"""Keyframe requests: from subscribers to the SFU, and from the SFU to publishers.

A forwarded stream is never re-encoded, so when a subscriber reports picture
loss (PLI/FIR) only the publisher can help. aiortc's sender answers PLI/FIR by
setting a flag that only its encoder reads, and pass-through packets never meet
the encoder; so the SFU takes the request from the subscriber's sender and
sends its own PLI from the publisher's receiver, throttled, because N
subscribers asking at once must not become N keyframes (each costs ~10x a
delta frame of bandwidth to every subscriber).
"""

import asyncio
from collections.abc import Callable

from aiortc import RTCRtpReceiver, RTCRtpSender


def intercept_keyframe_requests(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the remote end of ``sender`` asks for a keyframe."""
    # aiortc 1.16 internal: RTCRtpSender._handle_rtcp_packet() calls
    # self._send_keyframe() for RTCP PSFB PLI and FIR; an instance attribute
    # shadows the method for this sender only.
    sender._send_keyframe = callback  # type: ignore[method-assign]


class KeyframeRequester:
    """Sends PLI for one publisher's stream, at most once per interval.

    A request inside the interval is not lost: one PLI is sent when the interval
    ends, unless a keyframe arrived meanwhile and already satisfied it.
    """

    def __init__(self, receiver: RTCRtpReceiver, min_interval_s: float) -> None:
        self._receiver = receiver
        self._min_interval_s = min_interval_s
        self._loop = asyncio.get_running_loop()
        self._last_sent: float | None = None
        self._deferred: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.media_ssrc: int | None = None
        self.requests = 0
        """Keyframe requests received (from consumers and subscribers)."""
        self.plis_sent = 0
        """PLIs actually sent to the publisher."""

    def request(self) -> None:
        self.requests += 1
        if self._deferred is not None:
            return
        now = self._loop.time()
        if self._last_sent is None or now - self._last_sent >= self._min_interval_s:
            self._send()
        else:
            self._deferred = self._loop.call_at(
                self._last_sent + self._min_interval_s, self._send_deferred
            )

    @property
    def pending(self) -> bool:
        """A request inside the interval waits to be sent at its end."""
        return self._deferred is not None

    def keyframe_arrived(self) -> None:
        """A keyframe went out to everyone waiting, so a deferred PLI is moot."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None

    def close(self) -> None:
        self.keyframe_arrived()
        for task in self._sending:
            task.cancel()

    def _send_deferred(self) -> None:
        self._deferred = None
        self._send()

    def _send(self) -> None:
        if self.media_ssrc is None:
            return  # nothing received yet: the first frame will be a keyframe
        self._last_sent = self._loop.time()
        self.plis_sent += 1
        # aiortc 1.16 internal: RTCRtpReceiver._send_rtcp_pli(media_ssrc) sends a
        # PSFB PLI from the receiver's RTCP SSRC.
        task = self._loop.create_task(self._receiver._send_rtcp_pli(self.media_ssrc))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
