"""Helpers for the recording media tests: a camera the bot can switch off, and file checks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
from aiortc.mediastreams import MediaStreamTrack

from recorder.manifest import Manifest
from recorder.verify import verify
from server.bot.media import ClipTrack, EncodedClip


class SwitchableCamera(MediaStreamTrack):
    """A bot camera that can be switched off: while off no frame is sent, the sender's clock runs
    on (as a browser's camera-off does once its track stops producing)."""

    kind = "video"

    def __init__(self, camera: ClipTrack) -> None:
        super().__init__()
        self._camera = camera
        self.off = False
        self.sent = 0

    @property
    def clip(self) -> EncodedClip:
        return self._camera.clip

    def request_keyframe(self) -> None:
        self._camera.request_keyframe()

    async def recv(self) -> av.Packet:
        while True:
            packet = await self._camera.recv()
            if not self.off:
                self.sent += 1
                return packet


def verified(directory: Path) -> Manifest:
    """The recording's manifest after checking every file (hashes, complete decoding, span)."""
    report = verify(directory)
    assert report.ok, {check.entry.file: check.problems for check in report.tracks}
    assert report.unlisted == [], report.unlisted
    return report.manifest


async def until_exists(path: Path) -> None:
    """A file written by another thread or process has no event to wait on: look every 50 ms
    (the caller bounds the wait with asyncio.wait_for)."""
    while not path.exists():
        await asyncio.sleep(0.05)
