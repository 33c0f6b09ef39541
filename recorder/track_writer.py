"""One track into one file: encoded packets muxed as they are, never decoded or re-encoded.

VP8 and Opus go into WebM, H.264 into MPEG-TS (self-synchronising, the usual home of H.264 from a
live source, readable without a header index). Both are written so that a process killed at any
moment leaves a playable file: WebM clusters close at least every second and every finished
cluster is handed to the operating system at once (``flush_packets``), which keeps it even when the
process dies; MPEG-TS is written packet by packet. A normal close adds the index (cues) and the
duration on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from recorder.errors import RecorderError

MS = Fraction(1, 1000)
CLUSTER_MS = 1000


@dataclass(frozen=True)
class Codec:
    """How a codec negotiated in WebRTC is stored."""

    name: str
    """As the manifest names it: "VP8", "H264", "opus"."""
    stream: str
    """The FFmpeg codec of the output stream."""
    format: str
    extension: str
    kind: str

    @property
    def needs_keyframe(self) -> bool:
        return self.kind == "video"


CODECS: dict[str, Codec] = {
    "video/vp8": Codec("VP8", "vp8", "webm", "webm", "video"),
    "video/h264": Codec("H264", "h264", "mpegts", "ts", "video"),
    "audio/opus": Codec("opus", "libopus", "webm", "webm", "audio"),
}

FORMAT_OPTIONS: dict[str, dict[str, str]] = {
    "webm": {"cluster_time_limit": str(CLUSTER_MS), "flush_packets": "1"},
    "mpegts": {"flush_packets": "1"},
}


def codec_for(mime_type: str) -> Codec:
    """The storage of a negotiated codec; RecorderError for one this recorder cannot store."""
    codec = CODECS.get(mime_type.lower())
    if codec is None:
        raise RecorderError(f"cannot record {mime_type}: only {', '.join(sorted(CODECS))}")
    return codec


def vp8_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 key frame's header (RFC 6386 section 9.1), else None."""
    if len(frame) < 10 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height


class TrackWriter:
    """Writes one file; the file is created with the first packet that can start it.

    Not thread-safe: one recording's writer thread owns all its TrackWriters.
    """

    def __init__(self, path: Path, codec: Codec) -> None:
        self.path = path
        self.codec = codec
        self.packets = 0
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._last_ms = -1

    @property
    def opened(self) -> bool:
        return self._container is not None

    def write(self, data: bytes, at_ms: int, keyframe: bool) -> bool:
        """Mux one encoded frame at ``at_ms`` (recording timeline); False if it cannot start a file.

        Video files start at a key frame: a decoder cannot use anything before one.
        """
        if self._container is None:
            if self.codec.needs_keyframe and not keyframe:
                return False
            self._open(data)
        assert self._container is not None and self._stream is not None
        at_ms = max(at_ms, self._last_ms + 1)
        packet = av.Packet(data)
        packet.stream = self._stream
        packet.time_base = MS
        packet.pts = packet.dts = at_ms
        packet.is_keyframe = keyframe
        self._container.mux(packet)
        self._last_ms = at_ms
        self.packets += 1
        return True

    def close(self) -> None:
        """Finish the file (index and duration); a writer that never opened leaves no file."""
        container, self._container = self._container, None
        if container is not None:
            container.close()

    def _open(self, first: bytes) -> None:
        options = FORMAT_OPTIONS[self.codec.format]
        try:
            container = av.open(str(self.path), "w", format=self.codec.format, options=options)
        except (OSError, av.FFmpegError) as exc:
            raise RecorderError(f"{self.path}: cannot create the track file: {exc}") from None
        if self.codec.stream == "vp8":
            width, height = vp8_size(first) or (0, 0)
            stream = container.add_mux_stream("vp8", width=width, height=height)
        elif self.codec.kind == "audio":
            # The encoder is only opened, never fed: it writes the OpusHead header (channels,
            # pre-skip) that WebM players need in CodecPrivate.
            stream = container.add_stream(self.codec.stream, rate=48000, layout="stereo")
        else:
            stream = container.add_mux_stream(self.codec.stream)
        stream.time_base = MS
        self._container, self._stream = container, stream
