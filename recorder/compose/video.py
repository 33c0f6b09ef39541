"""The composed picture: tiles scaled and placed by an FFmpeg filter graph, one graph per layout.

All pixel work (scaling, placing, padding) happens inside libavfilter; Python only decides which
frames go in. A graph is built for a layout (which boxes, which source sizes) the first time it is
needed and reused whenever the same layout comes back, so speaker changes cost nothing after the
first time.
"""

from __future__ import annotations

from fractions import Fraction
from typing import cast

import av
from av.filter import Graph

from recorder.compose.geometry import Box, boxes, fit

PIXEL_FORMAT = "yuv420p"
MAX_GRAPHS = 64
BLACK = (16, 128, 128)  # limited-range yuv


def black_frame(width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, PIXEL_FORMAT)
    for plane, value in zip(frame.planes, BLACK, strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


GraphKey = tuple[tuple[int, int, str, Box], ...]


class _LayoutGraph:
    """Each tile scaled to its box, the tiles placed by one xstack (holes filled black), padded
    to the full canvas. One tile: scale and pad."""

    def __init__(self, width: int, height: int, key: GraphKey, time_base: Fraction) -> None:
        self.graph = Graph()
        self.inputs = []
        scaled = []
        for src_w, src_h, src_format, box in key:
            source = self.graph.add_buffer(width=src_w, height=src_h, format=av.VideoFormat(src_format),
                                           time_base=time_base)
            scale = self.graph.add("scale", f"{box.w}:{box.h}:flags=bilinear")
            source.link_to(scale)
            self.inputs.append(source)
            scaled.append(scale)
        boxes_ = [box for *_, box in key]
        if len(scaled) == 1:
            last = scaled[0]
            offset = (boxes_[0].x, boxes_[0].y)
        else:
            last = self.graph.add("xstack", f"inputs={len(scaled)}:fill=black:layout="
                                  + "|".join(f"{b.x}_{b.y}" for b in boxes_))
            for index, scale in enumerate(scaled):
                scale.link_to(last, 0, index)
            offset = (0, 0)
        pad = self.graph.add("pad", f"{width}:{height}:{offset[0]}:{offset[1]}:black")
        last.link_to(pad)
        formatted = self.graph.add("format", PIXEL_FORMAT)
        pad.link_to(formatted)
        self.sink = self.graph.add("buffersink")
        formatted.link_to(self.sink)
        self.graph.configure()

    def run(self, frames: list[av.VideoFrame], pts: int) -> av.VideoFrame:
        for source, frame in zip(self.inputs, frames, strict=True):
            frame.pts = pts
            source.push(frame)
        return cast(av.VideoFrame, self.sink.pull())  # a video graph's sink gives video frames


class Compositor:
    """Turns (large frame, small frames) into one output frame of the configured size."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height = width, height
        self.time_base = Fraction(1, fps)
        self._graphs: dict[GraphKey, _LayoutGraph] = {}
        self._black = black_frame(width, height)

    def compose(self, large: av.VideoFrame | None, small: list[av.VideoFrame], pts: int) -> av.VideoFrame:
        frames = ([large] if large is not None else []) + small
        if not frames:
            out = self._black
        else:
            spots = boxes(self.width, self.height, large is not None, len(small))
            key: GraphKey = tuple((f.width, f.height, f.format.name, fit(f.width, f.height, box))
                                  for f, box in zip(frames, spots, strict=True))
            graph = self._graphs.get(key)
            if graph is None:
                if len(self._graphs) >= MAX_GRAPHS:
                    self._graphs.clear()
                graph = self._graphs[key] = _LayoutGraph(self.width, self.height, key, self.time_base)
            out = graph.run(frames, pts)
        out.pts, out.time_base = pts, self.time_base
        return out
