"""Helpers for the recording media tests: a camera the bot can switch off, and file checks."""

from __future__ import annotations

import asyncio
import contextlib
import time
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


class LoopWatch:
    """When the event loop did not run: in these tests the publishers, the SFU, the recorder's
    arrival stamps and the test's own clock readings all share one loop, so a stall (a loaded
    machine) delays every one of them together. What the recording places relative to a moment the
    test saw can be off by the stalls near that moment, and no more than the normal transit; a
    stall longer than the recorder's gap threshold silences the bots' own senders, a real gap."""

    TICK_S = 0.01
    STALL_S = 0.1
    """A tick this late is a stall (normal scheduling jitter stays well below it)."""

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK_S)
            after = time.monotonic()
            if after - before - self.TICK_S > self.STALL_S:
                self.stalls.append((before, after))

    def stalled(self, start: float, end: float) -> float:
        """Seconds the loop stood still within [start, end] (monotonic)."""
        return sum(max(0.0, min(end, s_end) - max(start, s_start)) for s_start, s_end in self.stalls)

    def covers(self, start: float, end: float, slack: float) -> bool:
        """Whether [start, end] lies within one stall (stalls apart by less than ``slack`` count
        as one), widened by ``slack`` at both ends."""
        merged: list[tuple[float, float]] = []
        for s_start, s_end in self.stalls:
            if merged and s_start - merged[-1][1] < slack:
                merged[-1] = (merged[-1][0], s_end)
            else:
                merged.append((s_start, s_end))
        return any(s_start - slack <= start and end <= s_end + slack for s_start, s_end in merged)
