"""A synthetic participant's camera and microphone: clips encoded once, replayed.

Encoding per frame would cost a bot (or a test) a core per few participants;
instead a short clip is encoded once and its packets are replayed in real
time, in a loop, through a track whose ``recv()`` returns ``av.Packet`` (aiortc
sends those as they are, without its encoder). A keyframe request restarts the
current group of pictures from its keyframe, which is what a real encoder's
forced keyframe looks like to the receiver.
"""

import asyncio
import fractions
import functools
from dataclasses import dataclass

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.filter import Graph

VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
OPUS_FRAME_SAMPLES = 960  # 20 ms


@dataclass(frozen=True)
class EncodedClip:
    """Encoded frames meant to be played in a loop."""

    kind: str
    mime_type: str
    frames: tuple[bytes, ...]
    keyframes: tuple[bool, ...]
    time_base: fractions.Fraction
    frame_duration: int
    """Duration of one frame in ``time_base`` units."""
    temporal: tuple[tuple[int, bool], ...] = ()
    """Per frame, VP8 temporal layering: (TID, layer sync); empty when encoded without."""

    @property
    def duration_s(self) -> float:
        return float(len(self.frames) * self.frame_duration * self.time_base)


VIDEO_ENCODERS = {"video/VP8": "libvpx", "video/H264": "libx264"}

L1T3_PATTERN = ((0, False), (2, True), (1, True), (2, False))
"""(TID, layer sync) of each frame in libvpx's three-layer pattern (ffmpeg ``ts_layering_mode=3``):
T0 references T0; the first T2 and the T1 reference only T0 (layer sync points); the second T2
references the T1. A keyframe restarts the pattern."""
L1T3_RATE_SHARES = (0.4, 0.6, 1.0)
"""Bitrate up to each temporal layer, as shares of the whole (libwebrtc's split for three)."""


def _encoder_options(mime_type: str, bitrate: int, temporal_layers: int = 1) -> dict[str, str]:
    if mime_type == "video/H264":
        return {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "baseline",  # what aiortc and browsers negotiate (42e01f)
            "x264-params": "keyint=1000000:min-keyint=1000000:scenecut=0",
        }
    options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "minrate": str(bitrate),
        "maxrate": str(bitrate),
        "bufsize": str(bitrate),
    }
    if temporal_layers == 3:
        # error resilience: no entropy state carried from frame to frame, so a frame left out
        # (an upper temporal layer an SFU does not forward) does not change how later ones decode
        targets = ",".join(str(round(bitrate * share / 1000)) for share in L1T3_RATE_SHARES)
        options["error-resilient"] = "default"
        options["ts-parameters"] = (
            f"ts_number_layers=3:ts_target_bitrate={targets}:ts_rate_decimator=4,2,1:"
            "ts_periodicity=4:ts_layer_id=0,2,1,2:ts_layering_mode=3"
        )
    return options


@functools.lru_cache(maxsize=8)
def video_clip(
    mime_type: str = "video/VP8",
    seconds: float = 4.0,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    bitrate: int = 600_000,
    temporal_layers: int = 1,
) -> EncodedClip:
    """A moving test pattern (VP8 or H.264) with one keyframe, at its start.

    ``temporal_layers=3``: VP8 in three temporal layers (L1T3, ``L1T3_PATTERN``), as a browser
    sends with ``scalabilityMode: "L1T3"``.
    """
    if temporal_layers not in (1, 3) or (temporal_layers == 3 and mime_type != "video/VP8"):
        raise ValueError(f"temporal layers: 1, or 3 for VP8 (not {temporal_layers} for {mime_type})")
    graph = Graph()
    source = graph.add("testsrc2", f"size={width}x{height}:rate={fps}")
    convert = graph.add("format", "pix_fmts=yuv420p")
    sink = graph.add("buffersink")
    source.link_to(convert)
    convert.link_to(sink)
    graph.configure()

    encoder = av.CodecContext.create(VIDEO_ENCODERS[mime_type], "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.bit_rate = bitrate
    encoder.time_base = fractions.Fraction(1, fps)
    encoder.gop_size = 1_000_000  # only the first frame is a keyframe
    encoder.options = _encoder_options(mime_type, bitrate, temporal_layers)
    packets: list[av.Packet] = []
    frames = int(seconds * fps)
    for index in range(frames):
        frame = sink.pull()
        assert isinstance(frame, av.VideoFrame)
        frame.pts, frame.time_base = index, encoder.time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # testsrc2 marks all I
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    if temporal_layers > 1 and len(packets) != frames:  # the pattern is told by frame number
        raise RuntimeError(f"the encoder made {len(packets)} frames of {frames}: temporal layers unknown")
    return EncodedClip(
        kind="video",
        mime_type=mime_type,
        frames=tuple(bytes(p) for p in packets),
        keyframes=tuple(p.is_keyframe for p in packets),
        time_base=fractions.Fraction(1, VIDEO_CLOCK),
        frame_duration=VIDEO_CLOCK // fps,
        temporal=tuple(L1T3_PATTERN[index % len(L1T3_PATTERN)] for index in range(frames))
        if temporal_layers > 1 else (),
    )


@functools.lru_cache(maxsize=8)
def audio_clip(loud: bool = True, seconds: float = 1.0, bitrate: int = 32_000) -> EncodedClip:
    """Opus: a 440 Hz tone when ``loud``, otherwise digital silence."""
    graph = Graph()
    source = graph.add(
        "sine" if loud else "anullsrc",
        f"frequency=440:sample_rate={AUDIO_CLOCK}"
        if loud
        else f"channel_layout=stereo:sample_rate={AUDIO_CLOCK}",
    )
    convert = graph.add(
        "aformat", f"sample_fmts=s16:channel_layouts=stereo:sample_rates={AUDIO_CLOCK}"
    )
    sink = graph.add("abuffersink")
    source.link_to(convert)
    convert.link_to(sink)
    graph.configure()

    encoder = av.CodecContext.create("libopus", "w")
    encoder.bit_rate, encoder.format, encoder.layout = bitrate, "s16", "stereo"
    encoder.sample_rate = AUDIO_CLOCK
    encoder.time_base = fractions.Fraction(1, AUDIO_CLOCK)
    encoder.options = {"application": "voip"}
    resampler = av.AudioResampler(
        format="s16", layout="stereo", rate=AUDIO_CLOCK, frame_size=OPUS_FRAME_SAMPLES
    )
    packets: list[av.Packet] = []
    wanted = int(seconds * AUDIO_CLOCK / OPUS_FRAME_SAMPLES)
    while len(packets) < wanted:
        samples = sink.pull()
        assert isinstance(samples, av.AudioFrame)
        for frame in resampler.resample(samples):
            packets += encoder.encode(frame)
    packets = packets[:wanted]
    return EncodedClip(
        kind="audio",
        mime_type="audio/opus",
        frames=tuple(bytes(p) for p in packets),
        keyframes=(True,) * len(packets),
        time_base=fractions.Fraction(1, AUDIO_CLOCK),
        frame_duration=OPUS_FRAME_SAMPLES,
    )


class ClipTrack(MediaStreamTrack):
    """Plays an :class:`EncodedClip` in real time as ``av.Packet``s, looping."""

    def __init__(self, clip: EncodedClip) -> None:
        super().__init__()
        self.kind = clip.kind
        self._clip = clip
        self._index = 0
        self._sent = 0
        self._started_at: float | None = None
        self._keyframe_requested = False
        self.keyframe_requests = 0
        """Keyframe requests received from the remote end."""
        self.forced_keyframes = 0
        """Keyframes sent because one was requested."""

    @property
    def clip(self) -> EncodedClip:
        return self._clip

    def play(self, clip: EncodedClip) -> None:
        """Switch to another clip of the same kind (e.g. silence to tone)."""
        if clip.kind != self.kind:
            raise ValueError(f"a {self.kind} track cannot play a {clip.kind} clip")
        self._clip, self._index = clip, 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._keyframe_requested = True

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        clip = self._clip
        if self._started_at is None:
            self._started_at = loop.time()
        due = self._started_at + float(self._sent * clip.frame_duration * clip.time_base)
        await asyncio.sleep(max(0.0, due - loop.time()))  # real-time pacing

        if self._keyframe_requested and not clip.keyframes[self._index]:
            while not clip.keyframes[self._index]:
                self._index -= 1
            self.forced_keyframes += 1
        self._keyframe_requested = False

        packet = av.Packet(clip.frames[self._index])
        packet.pts = self._sent * clip.frame_duration
        packet.time_base = clip.time_base
        packet.is_keyframe = clip.keyframes[self._index]
        self._index = (self._index + 1) % len(clip.frames)
        self._sent += 1
        return packet
