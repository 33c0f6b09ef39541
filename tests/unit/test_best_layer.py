"""The recording's view of a simulcast camera: real VP8 layers, packetised, on a scripted clock.

The publisher behaves as Chromium does: a keyframe request for one layer is answered with a
keyframe on every layer it sends, and requests within ``KEYFRAME_WINDOW_S`` of the last one it
answered are ignored."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import av
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from recorder.track_writer import vp8_size
from server.bot.media import EncodedClip, video_clip
from server.sfu.best_layer import BestLayerFrames
from server.sfu.layers import SILENT_S, LayerIn
from server.sfu.packets import ForwardedPacket, PacketCache, starts_keyframe

FPS = 15
TICKS = 90_000 // FPS
SIZES = ((160, 90), (320, 180), (640, 360))
VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)
KEYFRAME_WINDOW_S = 0.3


@functools.lru_cache(maxsize=1)
def clips() -> tuple[EncodedClip, ...]:
    """One clip per layer (a key frame at each one's start only, as the bot's)."""
    return tuple(video_clip(width=w, height=h, seconds=2.0, fps=FPS, bitrate=100_000 * (i + 1))
                 for i, (w, h) in enumerate(SIZES))


@dataclass
class Layer:
    """One layer as a publisher sends it: its own sequence numbers and RTP clock base."""

    index: int
    clip: EncodedClip
    sending: bool = True
    frame: int = 5  # joined mid-clip: a keyframe must be asked for
    sequence_number: int = 65_500  # wraps soon: the jitter buffer must not mind
    timestamp_base: int = 0
    keyframe_requests: int = 0
    keyframe_wanted: bool = False
    meta: LayerIn = field(init=False)

    def __post_init__(self) -> None:
        self.timestamp_base = (2**32 - 40 * TICKS) if self.index == 1 else 1234 * (self.index + 1)
        # the keyframe requester is not used by BestLayerFrames (it asks through its callback)
        self.meta = LayerIn(self.index, "qhf"[self.index], PacketCache(512), None)  # type: ignore[arg-type]

    def packets(self, tick: int) -> list[ForwardedPacket]:
        if self.keyframe_wanted:
            self.frame, self.keyframe_wanted = 0, False
        data = self.clip.frames[self.frame % len(self.clip.frames)]
        self.frame += 1
        payloads = Vp8Encoder._packetize(data, self.frame % 32768)
        out = []
        for position, payload in enumerate(payloads):
            out.append(ForwardedPacket(
                self.sequence_number, (self.timestamp_base + tick * TICKS) % 2**32,
                int(position == len(payloads) - 1), payload, None, 0,
                position == 0 and starts_keyframe("video/VP8", payload), self.index))
            self.sequence_number = (self.sequence_number + 1) % 65536
        return out


@dataclass
class Recorded:
    at: float
    pts: int
    width: int


class Publisher:
    """Sends the layers frame by frame; the clock is the frame count."""

    def __init__(self, sending: tuple[bool, ...], recording: bool = True) -> None:
        self.layers = [Layer(i, clip, on) for i, (clip, on) in enumerate(zip(clips(), sending, strict=True))]
        self.now = 100.0
        self.tick = 0
        self.answered_at = -KEYFRAME_WINDOW_S
        self.frames: list[Recorded] = []
        self.decoder = av.CodecContext.create("vp8", "r")
        self.decode_errors = 0
        self.width = 0
        self.feed: BestLayerFrames | None = None
        if recording:
            self.record()

    def record(self) -> None:
        """The recording begins (the producer makes its ``BestLayerFrames`` when a sink is added)."""
        self.feed = BestLayerFrames([layer.meta for layer in self.layers], VP8, self.ask, self._frame,
                                    now=lambda: self.now)

    def ask(self, index: int) -> None:
        """A keyframe request for layer ``index``, from the recording or anyone else."""
        self.layers[index].keyframe_requests += 1
        if self.now - self.answered_at >= KEYFRAME_WINDOW_S:
            self.answered_at = self.now
            for layer in self.layers:
                layer.keyframe_wanted = layer.sending

    def _frame(self, packet: av.Packet) -> None:
        size = vp8_size(bytes(packet))
        if size is not None:
            assert packet.is_keyframe
            self.width = size[0]
        try:
            self.decoder.decode(packet)
        except av.FFmpegError:
            self.decode_errors += 1
        self.frames.append(Recorded(self.now, packet.pts, self.width))

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * FPS)):
            for layer in self.layers:
                if layer.sending:
                    for packet in layer.packets(self.tick):
                        # what the producer keeps of each packet before it forwards it
                        layer.meta.meter.add(len(packet.payload), self.now)
                        layer.meta.cache.add(packet)
                        if packet.starts_keyframe:
                            layer.meta.keyframe_start = (self.now, packet)
                        if self.feed is not None:
                            self.feed.forward(packet)
            self.tick += 1
            self.now += 1 / FPS

    def widths(self) -> list[int]:
        """The recorded widths in order, repeats folded."""
        return [w for i, w in enumerate(f.width for f in self.frames) if i == 0 or self.frames[i - 1].width != w]


def test_the_best_layer_sent_is_followed_up_and_down_as_one_continuous_stream() -> None:
    publisher = Publisher(sending=(True, True, False))  # the top layer comes late
    publisher.run(2)
    assert publisher.widths() == [320]  # the best one sent, from its (asked for) keyframe
    assert sum(layer.keyframe_requests for layer in publisher.layers) >= 1
    assert publisher.feed is not None
    switches = publisher.feed.switches

    publisher.layers[2].sending = True
    publisher.run(2)
    assert publisher.widths() == [320, 640]
    assert publisher.layers[2].keyframe_requests >= 1 and publisher.feed.switches == switches + 1

    publisher.layers[2].sending = False
    stopped = publisher.now
    publisher.run(2)
    assert publisher.widths() == [320, 640, 320]
    back = next(f for f in publisher.frames if f.at > stopped)
    assert back.at - stopped < SILENT_S + 0.3  # asked for as soon as the top was seen stopped

    assert publisher.decode_errors == 0
    steps = [b.pts - a.pts for a, b in itertools.pairwise(publisher.frames)]
    assert min(steps) > 0  # one timeline across three RTP clocks (one of them wrapping)
    # a frame lasts a frame; at a switch the picture is held until the new layer's keyframe
    assert max(steps) <= (SILENT_S + 0.3) * 90_000
    assert sorted(steps)[len(steps) // 2] == TICKS


def test_a_stopped_layer_is_left_for_a_lower_one_and_the_stream_restarts_after_a_mute() -> None:
    publisher = Publisher(sending=(True, False, True))
    publisher.run(1)
    assert publisher.widths() == [640]
    publisher.layers[2].sending = False
    publisher.run(1)
    assert publisher.widths() == [640, 160]  # the only layer left
    for layer in publisher.layers:
        layer.meta.keyframe_start = None  # what the producer forgets at a mute
    assert publisher.feed is not None
    publisher.feed.restart()  # the producer was muted: a fresh start at a keyframe
    before = len(publisher.frames)
    publisher.run(1)
    assert len(publisher.frames) > before and publisher.decode_errors == 0


def test_a_recording_that_begins_just_after_a_keyframe_starts_from_it_at_once() -> None:
    """The sequence that made a camera switched off early in a recording leave no gap in it: a
    subscriber's request had just been answered on every layer when the recording began, so its
    own request went unanswered and its first frame came a window and a retry later, after the
    owner switched the camera off. The keyframe that just went by is taken instead."""
    publisher = Publisher(sending=(True, True, False), recording=False)
    publisher.run(1)
    publisher.ask(0)  # a subscriber's: a keyframe on every layer sent
    publisher.run(3 / FPS)
    requests = [layer.keyframe_requests for layer in publisher.layers]
    begun = publisher.now
    publisher.record()
    publisher.run(1 / FPS)
    assert publisher.frames and publisher.frames[0].at == begun  # at its first packet
    assert publisher.widths() == [320]  # the best layer sent, from its keyframe
    assert [layer.keyframe_requests for layer in publisher.layers] == requests  # nothing asked
    publisher.run(1)
    assert len(publisher.frames) >= FPS and publisher.decode_errors == 0
    steps = [b.pts - a.pts for a, b in itertools.pairwise(publisher.frames)]
    assert min(steps) > 0


def test_a_keyframe_older_than_the_replay_limit_is_asked_for_again() -> None:
    publisher = Publisher(sending=(True, True, False), recording=False)
    publisher.run(1)
    publisher.ask(0)
    publisher.run(1)  # that keyframe is a second old now
    publisher.record()
    publisher.run(1 / FPS)
    assert not publisher.frames and publisher.layers[1].keyframe_requests == 1
    publisher.run(1)
    assert publisher.widths() == [320] and publisher.decode_errors == 0
