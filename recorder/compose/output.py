"""The MP4 being written: H.264 video, AAC audio, chapters, moov atom at the front.

`+faststart` puts the index before the media, so a browser can start playing and seek (with HTTP
range requests) before it has the whole file. A keyframe every two seconds keeps a jump from the
chapter list or the minutes (?t=) close to the instant asked for.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from recorder.compose.audio import LAYOUT, RATE

VIDEO_PRESET = "veryfast"
VIDEO_CRF = "26"
AUDIO_BITRATE = 96_000
KEYFRAME_SECONDS = 2


class Mp4Writer:
    def __init__(self, path: Path, *, width: int, height: int, fps: int, title: str,
                 chapters: list[tuple[int, int, str]], preset: str = VIDEO_PRESET) -> None:
        self._container = av.open(str(path), "w", format="mp4",
                                  options={"movflags": "+faststart"})
        self._container.metadata["title"] = title
        video = self._container.add_stream("libx264", rate=fps, options={
            "preset": preset, "crf": VIDEO_CRF, "g": str(fps * KEYFRAME_SECONDS),
            "keyint_min": str(fps), "profile": "high"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        audio = self._container.add_stream("aac", rate=RATE, layout=LAYOUT)
        audio.bit_rate = AUDIO_BITRATE
        self._video, self._audio = video, audio
        if chapters:
            self._container.set_chapters([
                {"id": index + 1, "start": start, "end": end, "time_base": Fraction(1, 1000),
                 "metadata": {"title": title_}}
                for index, (start, end, title_) in enumerate(chapters)])

    def video(self, frame: av.VideoFrame | None) -> None:
        self._container.mux(self._video.encode(frame))

    def audio(self, frame: av.AudioFrame | None) -> None:
        self._container.mux(self._audio.encode(frame))

    def finish(self) -> None:
        self.video(None)
        self.audio(None)
        self._container.close()

    def abort(self) -> None:
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass
