"""Recording in live meetings: the chair starts and stops it (or the centre's setting starts it at
the first join), everyone is told, the event log has it, and a full disk stops it cleanly.

One ``RecordingDesk`` per server, wired to the live meetings by the composition root
(server.live_recording). Starting checks the free space, creates the recording directory and
session, attaches the SFU bridge and logs ``recording_started`` (the record carries the
``recording`` flag every client shows). Stopping detaches, logs ``recording_stopped``, then
finishes the files and writes the manifest off the event loop. A meeting that empties, and the
server shutting down, stop their recordings the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from recorder.errors import RecorderError
from recorder.manifest import Manifest
from recorder.session import RecordingInfo, RecordingSession
from server.context import AppContext
from server.recording.bridge import MeetingRecorder
from server.recording.live import RecordedMeeting, RecordingRefused
from server.recording.store import CONSENT_NOTICE, free_mb, logged_events, new_key, recordings_root

logger = logging.getLogger(__name__)

DISK_CHECK_S = 5.0


@dataclass(eq=False)
class ActiveRecording:
    key: str
    session: RecordingSession
    bridge: MeetingRecorder
    watch: asyncio.Task[None] | None = field(default=None)


class RecordingDesk:
    """The recordings of every live meeting of one server."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._settings = context.settings.recording
        self.root = recordings_root(context.settings.data_dir)
        self.active: dict[int, ActiveRecording] = {}
        self._auto_started: set[int] = set()
        """Live meetings whose automatic start was tried (until they close)."""
        self._starting: dict[int, asyncio.Event] = {}
        """Meetings whose recording is being set up (set when done either way)."""
        self.free_mb: Callable[[Path], int] = free_mb
        """Measures free space (replaced in tests to simulate a filling disk)."""
        self.check_interval_s = DISK_CHECK_S

    # -- life of a recording ------------------------------------------------------------

    async def joined(self, meeting: RecordedMeeting) -> None:
        """After a join: with ``recording.auto_start`` a live meeting records from its first join."""
        if not self._settings.auto_start or meeting.id in self._auto_started:
            return
        self._auto_started.add(meeting.id)
        try:
            await self.start(meeting, None, CONSENT_NOTICE)
        except RecordingRefused as refusal:
            logger.error("meeting %s: automatic recording did not start: %s", meeting.id, refusal)
            meeting.warn_chairs(refusal)

    async def start(self, meeting: RecordedMeeting, actor_id: int | None, notice: str) -> str:
        """Start recording (``actor_id`` None: automatically); the recording's key.
        RecordingRefused if it is already recording, the disk is low, or the files cannot start."""
        if meeting.id in self.active or meeting.id in self._starting:
            raise RecordingRefused("recording_active")
        done = self._starting[meeting.id] = asyncio.Event()
        try:
            return await self._start(meeting, actor_id, notice)
        finally:
            del self._starting[meeting.id]
            done.set()

    async def _start(self, meeting: RecordedMeeting, actor_id: int | None, notice: str) -> str:
        available = await asyncio.to_thread(self.free_mb, self.root)
        if available < self._settings.min_free_mb:
            raise RecordingRefused("disk_low", free_mb=available, min_free_mb=self._settings.min_free_mb)
        facts = meeting.facts
        key = new_key(self.root, meeting.id, datetime.now(UTC), meeting.recording_keys)
        session = RecordingSession(self.root / str(meeting.id) / key,
                                   RecordingInfo(key, meeting.id, facts.title, facts.case_codes))
        try:
            await asyncio.to_thread(session.start)
        except (OSError, RecorderError) as exc:
            logger.exception("meeting %s: recording %s did not start", meeting.id, key)
            raise RecordingRefused("recording_failed", reason=str(exc)) from None
        bridge = MeetingRecorder(meeting, session)
        bridge.attach()
        active = self.active[meeting.id] = ActiveRecording(key, session, bridge)
        active.watch = asyncio.get_running_loop().create_task(self._watch(meeting, active))
        await meeting.record(actor_id, "recording_started", recording_key=key, consent_notice=notice)
        meeting.announce("recording_changed", {"recording": True, "recording_key": key,
                                               "consent_notice": notice})
        logger.info("meeting %s: recording %s started", meeting.id, key)
        return key

    async def stop(self, meeting: RecordedMeeting, actor_id: int | None,
                   reason: str = "stopped") -> Manifest | None:
        """Stop the meeting's recording, if any: logged, told, files finished, manifest written."""
        active = self.active.pop(meeting.id, None)
        if active is None:
            return None
        if active.watch is not None and active.watch is not asyncio.current_task():
            active.watch.cancel()
        active.bridge.detach()
        active.session.finish()
        await meeting.record(actor_id, "recording_stopped", recording_key=active.key)
        meeting.announce("recording_changed", {"recording": False, "recording_key": active.key,
                                               "reason": reason})
        async with self._context.sessions() as db:
            events = await logged_events(db, meeting.id)
        manifest = await asyncio.to_thread(active.session.stop, events)
        logger.info("meeting %s: recording %s stopped (%s): %d tracks, %d ms", meeting.id,
                    active.key, reason, len(manifest.tracks), manifest.duration_ms)
        return manifest

    async def closing(self, meeting: RecordedMeeting) -> None:
        """The live meeting is closing (everyone left, or shutdown): its recording ends with it
        (one still being set up first finishes starting, so it cannot outlive the meeting); the
        next live session of the meeting may start one automatically again."""
        starting = self._starting.get(meeting.id)
        if starting is not None:
            await starting.wait()
        await self.stop(meeting, None, "meeting_closed")
        self._auto_started.discard(meeting.id)

    async def _watch(self, meeting: RecordedMeeting, active: ActiveRecording) -> None:
        """Stop before the disk fills: files end cleanly instead of failing mid-write."""
        while self.active.get(meeting.id) is active:
            await asyncio.sleep(self.check_interval_s)
            available = await asyncio.to_thread(self.free_mb, self.root)
            if available < self._settings.min_free_mb and self.active.get(meeting.id) is active:
                logger.error("meeting %s: %d MiB free (floor %d): stopping recording %s", meeting.id,
                             available, self._settings.min_free_mb, active.key)
                await self.stop(meeting, None, "disk_low")
                meeting.warn_chairs(RecordingRefused(
                    "recording_disk_low", free_mb=available, min_free_mb=self._settings.min_free_mb,
                    recording_key=active.key))
