"""One producer's frames on their way to one subscriber."""

import asyncio
from collections import deque
from collections.abc import Callable

import av


class Consumer:
    """A bounded, keyframe-gated queue between a producer and a subscriber.

    A video decoder cannot skip a frame: every delta frame refers to the ones
    before it back to a keyframe. So this queue never hands out a partial group
    of pictures. It starts empty and waits for a keyframe, asking for one at
    once: the consumer is made when the subscriber accepts the m-line, and the
    keyframe travels while its connection comes up (the sender pulls only once
    DTLS is up). Until then only the newest keyframe and the frames after it are
    kept, so the first pull starts there without another round trip to the
    publisher (and asks again, in case that first keyframe is lost). When the
    subscriber falls ``max_frames`` behind, it drops
    everything, asks for a keyframe and waits for it again, instead of dropping
    single frames or growing without bound.
    """

    def __init__(
        self,
        producer_id: str,
        max_frames: int,
        request_keyframe: Callable[[], None],
        on_closed: Callable[["Consumer"], None],
    ) -> None:
        self.producer_id = producer_id
        self._on_closed = on_closed
        self._max_frames = max_frames
        self.request_keyframe = request_keyframe
        """Asks the producer's publisher for a keyframe (throttled upstream)."""
        self._frames: deque[av.Packet] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._pulling = False
        self._awaiting_keyframe = True
        self.closed = False
        self.forwarded = 0
        self.dropped = 0
        self.resyncs = 0
        self.max_depth = 0
        """The most frames ever queued at once (never above ``max_frames``)."""
        self.request_keyframe()

    def push(self, packet: av.Packet) -> None:
        """Queue a frame; before the subscriber pulls, a keyframe replaces what is queued."""
        if self.closed:
            return
        if not self._pulling and packet.is_keyframe and self._frames:
            self.dropped += len(self._frames)
            self._frames.clear()
        if len(self._frames) >= self._max_frames:
            self.resyncs += 1
            self.resync()
        if self._awaiting_keyframe:
            if not packet.is_keyframe:
                self.dropped += 1
                return
            self._awaiting_keyframe = False
        self._frames.append(packet)
        self.max_depth = max(self.max_depth, len(self._frames))
        self._wake()

    def resync(self) -> None:
        """Drop what is queued and restart at the next keyframe."""
        self.dropped += len(self._frames)
        self._frames.clear()
        self._awaiting_keyframe = True
        self.request_keyframe()

    async def pull(self) -> av.Packet | None:
        """The next frame to send, or None once the consumer is closed."""
        if not self._pulling:
            self._pulling = True
            # The kept keyframe goes out as soon as our DTLS is up, which may be before the
            # subscriber's (it reads our Finished after we sent it): ask again (throttled) so a
            # keyframe lost to that race is followed by another a round trip later.
            self.request_keyframe()
        while not self._frames:
            if self.closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self.forwarded += 1
        return self._frames.popleft()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._frames.clear()
        self._wake()
        self._on_closed(self)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
