"""What a synthetic participant receives: frames per source, and whether they decode.

Tracks are switched to pass-through so counting frames costs nothing; a sample
of each source (the first ``decode_frames`` frames from its first keyframe on)
goes through a real PyAV decoder, which is what tells a broken forwarder (a
dropped frame, a missing keyframe) from a working one.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import av
from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.sfu.passthrough import pass_through

DECODERS = {"video/vp8": "libvpx", "video/h264": "h264", "audio/opus": "libopus"}


Decoder = av.AudioCodecContext | av.VideoCodecContext


def _decoder(mime_type: str) -> Decoder:
    decoder = av.CodecContext.create(DECODERS[mime_type.lower()], "r")
    assert isinstance(decoder, (av.AudioCodecContext, av.VideoCodecContext))
    if isinstance(decoder, av.AudioCodecContext):
        # as aiortc's OpusDecoder: libopus needs the output shape up front
        decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", 48000
    return decoder


@dataclass
class SourceStats:
    """Reception of one remote source (e.g. ``"alice:video"``)."""

    mime_type: str
    frames: int = 0
    bytes: int = 0
    keyframes: int = 0
    decoded: int = 0
    decode_errors: int = 0
    subscribed_at: float = field(default_factory=time.monotonic)
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    longest_gap_s: float = 0.0
    """Longest wait between two frames: a freeze as a viewer sees it (lost packets stall the
    receiver's jitter buffer until they are resent)."""
    first_decoded_at: float | None = None
    """When the first frame decoded into a picture/samples (monotonic clock)."""
    width: int | None = None
    """The newest decoded picture's width (which simulcast layer arrives)."""

    @property
    def first_decoded_after_s(self) -> float | None:
        """Seconds from being told of the source to its first decoded frame."""
        if self.first_decoded_at is None:
            return None
        return self.first_decoded_at - self.subscribed_at


class MediaReceiver:
    """Counts and samples the tracks arriving on a subscribe connection."""

    def __init__(self, decode_frames: int = 90) -> None:
        self._decode_frames = decode_frames
        self._sources: dict[str, str] = {}  # mid -> source name
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._decoders: dict[str, Decoder] = {}
        self._changed = asyncio.Condition()
        self.stats: dict[str, SourceStats] = {}

    def set_sources(self, pc: RTCPeerConnection, sources: Mapping[str, str], mime_types: Mapping[str, str]) -> None:
        """Learn which source each mid now carries and start reading new tracks.

        Call after applying an offer; ``mime_types`` gives each mid's codec.
        """
        for mid, source in sources.items():
            if self._sources.get(mid) != source:
                self.stats[source] = SourceStats(mime_type=mime_types[mid])
                self._decoders.pop(source, None)
            self._sources[mid] = source
        for mid in set(self._sources) - set(sources):
            del self._sources[mid]
        for transceiver in pc.getTransceivers():
            new = transceiver.mid
            if new is not None and new in self._sources and new not in self._tasks:
                self._tasks[new] = asyncio.get_running_loop().create_task(
                    self._read(new, transceiver)
                )

    @staticmethod
    def attach(pc: RTCPeerConnection) -> None:
        """Switch every receiver ``pc`` creates to pass-through before it starts."""

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    pass_through(transceiver.receiver)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until ``predicate()`` holds, re-checked after every frame."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_for_frames(self, sources: Iterable[str], count: int, timeout: float) -> None:
        """Wait until each of ``sources`` has delivered ``count`` frames."""
        wanted = tuple(sources)
        await self.wait_for(lambda: all(self.frames(s) >= count for s in wanted), timeout)

    def source(self, mid: str) -> str | None:
        """The source ``mid`` carries now (None: none)."""
        return self._sources.get(mid)

    def frames(self, source: str) -> int:
        stats = self.stats.get(source)
        return stats.frames if stats is not None else 0

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    async def _read(self, mid: str, transceiver: RTCRtpTransceiver) -> None:
        track = transceiver.receiver.track
        try:
            while True:
                packet = await track.recv()
                assert isinstance(packet, av.Packet), "receiver is not pass-through"
                source = self._sources.get(mid)
                if source is not None:
                    self._count(source, packet)
                async with self._changed:
                    self._changed.notify_all()
        except MediaStreamError:
            pass

    def _count(self, source: str, packet: av.Packet) -> None:
        stats = self.stats[source]
        now = time.monotonic()
        stats.frames += 1
        stats.bytes += packet.size
        stats.keyframes += packet.is_keyframe
        if stats.first_frame_at is None:
            stats.first_frame_at = now
        if stats.last_frame_at is not None:
            stats.longest_gap_s = max(stats.longest_gap_s, now - stats.last_frame_at)
        stats.last_frame_at = now
        if stats.decoded + stats.decode_errors >= self._decode_frames:
            return
        decoder = self._decoders.get(source)
        if decoder is None:
            if not packet.is_keyframe:
                return  # nothing before the first keyframe can decode
            decoder = self._decoders[source] = _decoder(stats.mime_type)
        try:
            frames = decoder.decode(packet)
        except av.FFmpegError:
            stats.decode_errors += 1
            return
        if frames:
            stats.decoded += len(frames)
            if isinstance(frames[-1], av.VideoFrame):
                stats.width = frames[-1].width
            if stats.first_decoded_at is None:
                stats.first_decoded_at = now
