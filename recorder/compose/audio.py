"""Everyone's audio, aligned on the recording timeline and mixed by FFmpeg's amix.

Each track is converted to 48 kHz stereo float and kept as a short list of (position, samples)
pieces; the mix is built block by block, and a track contributes to a block only where it has
samples, so silence before a late joiner, inside gaps and after a leaver costs nothing and needs no
memory. Blocks where several people are heard go through an amix graph (summing, not averaging:
in a meeting mostly one person speaks and averaging would make them quieter the more sites join).
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from typing import cast

import av
from av.filter import Graph

from recorder.compose.sources import TrackReader

RATE = 48000
LAYOUT = "stereo"
FORMAT = "flt"  # packed float: one plane, so a block is one bytes object
BYTES_PER_SAMPLE = 8
BLOCK_SAMPLES = 4096
CONTINUITY_SAMPLES = 960  # timestamps closer than 20 ms to the running position are jitter, not gaps
TIME_BASE = Fraction(1, RATE)


def audio_frame(data: bytes, samples: int, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame(format=FORMAT, layout=LAYOUT, samples=samples)
    frame.planes[0].update(data)
    frame.sample_rate, frame.pts, frame.time_base = RATE, pts, TIME_BASE
    return frame


class AudioTrack:
    """One track's samples, on demand, for any block of the timeline."""

    def __init__(self, reader: TrackReader) -> None:
        self._reader = reader
        self._resampler = av.AudioResampler(format=FORMAT, layout=LAYOUT, rate=RATE)
        self._pieces: deque[tuple[int, bytes]] = deque()
        self._cursor: int | None = None
        self._ended = False

    def _read_one(self) -> None:
        placed = self._reader.next()
        if placed is None:
            self._ended = True
            return
        position = round(placed.at_ms * RATE / 1000)
        if self._cursor is not None and abs(position - self._cursor) < CONTINUITY_SAMPLES:
            position = self._cursor
        for frame in self._resampler.resample(placed.frame):  # type: ignore[arg-type]
            data = bytes(frame.planes[0])[: frame.samples * BYTES_PER_SAMPLE]
            self._pieces.append((position, data))
            position += frame.samples
        self._cursor = position

    def block(self, start: int, end: int) -> bytes | None:
        """The track's samples in [start, end) (silence where it has none), or None if it has
        none at all there."""
        while not self._ended and (self._cursor is None or self._cursor < end):
            self._read_one()
        while self._pieces and self._pieces[0][0] + len(self._pieces[0][1]) // BYTES_PER_SAMPLE <= start:
            self._pieces.popleft()
        overlapping = [(p, d) for p, d in self._pieces if p < end]
        if not overlapping:
            return None
        out = bytearray((end - start) * BYTES_PER_SAMPLE)
        for position, data in overlapping:
            lo, hi = max(start, position), min(end, position + len(data) // BYTES_PER_SAMPLE)
            if lo < hi:
                out[(lo - start) * BYTES_PER_SAMPLE:(hi - start) * BYTES_PER_SAMPLE] = \
                    data[(lo - position) * BYTES_PER_SAMPLE:(hi - position) * BYTES_PER_SAMPLE]
        return bytes(out)

    def close(self) -> None:
        self._reader.close()


class _MixGraph:
    def __init__(self, inputs: int) -> None:
        self.graph = Graph()
        self.sources = [self.graph.add_abuffer(format=FORMAT, sample_rate=RATE, layout=LAYOUT,
                                               time_base=TIME_BASE) for _ in range(inputs)]
        mix = self.graph.add("amix", f"inputs={inputs}:normalize=0:duration=first:dropout_transition=0")
        for index, source in enumerate(self.sources):
            source.link_to(mix, 0, index)
        fmt = self.graph.add("aformat", f"sample_fmts={FORMAT}:channel_layouts={LAYOUT}")
        mix.link_to(fmt)
        self.sink = self.graph.add("abuffersink")
        fmt.link_to(self.sink)
        self.graph.configure()

    def mix(self, blocks: list[bytes], samples: int, pts: int) -> bytes:
        for source, data in zip(self.sources, blocks, strict=True):
            source.push(audio_frame(data, samples, pts))
        out = b""
        while len(out) < samples * BYTES_PER_SAMPLE:
            frame = cast(av.AudioFrame, self.sink.pull())  # an audio graph's sink gives audio frames
            out += bytes(frame.planes[0])[: frame.samples * BYTES_PER_SAMPLE]
        return out


class Mixer:
    """Produces the mixed audio of every track, block after block, up to the recording's end."""

    def __init__(self, tracks: list[AudioTrack], total_samples: int) -> None:
        self._tracks = tracks
        self._total = total_samples
        self.position = 0
        self._graphs: dict[int, _MixGraph] = {}

    def next_frame(self) -> av.AudioFrame | None:
        if self.position >= self._total:
            return None
        start, end = self.position, min(self.position + BLOCK_SAMPLES, self._total)
        samples = end - start
        blocks = [b for b in (t.block(start, end) for t in self._tracks) if b is not None]
        if not blocks:
            data = bytes(samples * BYTES_PER_SAMPLE)
        elif len(blocks) == 1:
            data = blocks[0]
        else:
            graph = self._graphs.get(len(blocks)) or self._graphs.setdefault(len(blocks), _MixGraph(len(blocks)))
            data = graph.mix(blocks, samples, start)
        self.position = end
        return audio_frame(data, samples, start)
