"""Recording in live meetings: the chair starts and stops it (or the centre's setting starts it at
the first join), everyone is told, the event log has it, and a full disk stops it cleanly.

One ``RecordingDesk`` per signaling server. Starting checks the chair and the free space, creates
the recording directory and session, attaches the SFU bridge and logs ``recording_started``
through the review (which carries the ``recording`` flag every client shows). Stopping detaches,
logs ``recording_stopped``, then finishes the files and writes the manifest off the event loop. A
meeting that empties, and the server shutting down, stop their recordings the same way.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from recorder.errors import RecorderError
from recorder.manifest import Manifest
from recorder.session import RecordingInfo, RecordingSession
from server.recording.bridge import MeetingRecorder
from server.recording.store import CONSENT_NOTICE, free_mb, logged_events, meeting_facts, new_key, recordings_root
from server.signaling.errors import SignalingError
from server.signaling.messages import InMeeting
from server.signaling.review_handlers import ReviewDesk
from server.signaling.review_messages import storable
from server.signaling.room_state import LiveMeeting, Participant
from server.web.context import AppContext

if TYPE_CHECKING:
    from server.signaling.server import Connection

logger = logging.getLogger(__name__)

DISK_CHECK_S = 5.0

MESSAGES = {
    "recording_active": "会议正在录制 / the meeting is already being recorded",
    "not_recording": "会议未在录制 / the meeting is not being recorded",
    "disk_low": "存储空间不足，无法录制 / not enough disk space to record",
    "recording_disk_low": "存储空间不足，录制已停止 / disk space ran low: recording stopped",
    "recording_failed": "录制无法开始 / the recording could not start",
}

Joined = Callable[["Connection", int], tuple[LiveMeeting, Participant]]
Handler = Callable[["Connection", Any], Awaitable[dict[str, Any]]]


class RecordingStart(InMeeting):
    consent_notice: storable(500, 1) | None = None  # type: ignore[valid-type]
    """What the room announces; the centre's standard wording when absent."""


class RecordingStop(InMeeting):
    pass


@dataclass(eq=False)
class ActiveRecording:
    key: str
    session: RecordingSession
    bridge: MeetingRecorder
    watch: asyncio.Task[None] | None = field(default=None)


class RecordingDesk:
    """The recordings of every live meeting of one server."""

    def __init__(self, context: AppContext, review: ReviewDesk, joined: Joined) -> None:
        self._context = context
        self._settings = context.settings.recording
        self._review = review
        self._joined = joined
        self.root = recordings_root(context.settings.data_dir)
        self.active: dict[int, ActiveRecording] = {}
        self._auto_started: weakref.WeakSet[LiveMeeting] = weakref.WeakSet()
        self._starting: dict[int, asyncio.Event] = {}
        """Meetings whose recording is being set up (set when done either way)."""
        self.free_mb: Callable[[Path], int] = free_mb
        """Measures free space (replaced in tests to simulate a filling disk)."""
        self.check_interval_s = DISK_CHECK_S

    def handlers(self) -> dict[str, tuple[TypeAdapter[Any], Handler]]:
        return {"recording_start": (TypeAdapter(RecordingStart), self._start_event),
                "recording_stop": (TypeAdapter(RecordingStop), self._stop_event)}

    # -- socket.io events (the chair) --------------------------------------------------

    async def _start_event(self, connection: Connection, message: RecordingStart) -> dict[str, Any]:
        meeting, participant = self._joined(connection, message.meeting_id)
        if not participant.is_chair:
            raise SignalingError("not_chair")
        key = await self.start(meeting, participant, message.consent_notice or CONSENT_NOTICE)
        return {"recording_key": key}

    async def _stop_event(self, connection: Connection, message: RecordingStop) -> dict[str, Any]:
        meeting, participant = self._joined(connection, message.meeting_id)
        if not participant.is_chair:
            raise SignalingError("not_chair")
        manifest = await self.stop(meeting, participant)
        if manifest is None:
            raise SignalingError("not_recording", MESSAGES["not_recording"])
        return {"recording_key": manifest.recording_key, "tracks": len(manifest.tracks),
                "duration_ms": manifest.duration_ms}

    # -- life of a recording ------------------------------------------------------------

    async def joined(self, meeting: LiveMeeting) -> None:
        """After a join: with ``recording.auto_start`` a live meeting records from its first join."""
        if not self._settings.auto_start or meeting in self._auto_started:
            return
        self._auto_started.add(meeting)
        try:
            await self.start(meeting, None, CONSENT_NOTICE)
        except SignalingError as refusal:
            logger.error("meeting %s: automatic recording did not start: %s", meeting.id, refusal)
            self._tell_chairs(meeting, refusal)

    async def start(self, meeting: LiveMeeting, actor: Participant | None, notice: str) -> str:
        if meeting.id in self.active or meeting.id in self._starting:
            raise SignalingError("recording_active", MESSAGES["recording_active"])
        done = self._starting[meeting.id] = asyncio.Event()
        try:
            return await self._start(meeting, actor, notice)
        finally:
            del self._starting[meeting.id]
            done.set()

    async def _start(self, meeting: LiveMeeting, actor: Participant | None, notice: str) -> str:
        available = await asyncio.to_thread(self.free_mb, self.root)
        if available < self._settings.min_free_mb:
            raise SignalingError("disk_low", MESSAGES["disk_low"], free_mb=available,
                                 min_free_mb=self._settings.min_free_mb)
        async with self._context.sessions() as db:
            facts = await meeting_facts(db, meeting.id)
        key = new_key(self.root, meeting.id, datetime.now(UTC))
        session = RecordingSession(self.root / str(meeting.id) / key,
                                   RecordingInfo(key, meeting.id, facts.title, facts.case_codes))
        try:
            await asyncio.to_thread(session.start)
        except (OSError, RecorderError) as exc:
            logger.exception("meeting %s: recording %s did not start", meeting.id, key)
            raise SignalingError("recording_failed", MESSAGES["recording_failed"], reason=str(exc)) from None
        bridge = MeetingRecorder(meeting, session, facts.departments)
        bridge.attach()
        active = self.active[meeting.id] = ActiveRecording(key, session, bridge)
        active.watch = asyncio.get_running_loop().create_task(self._watch(meeting, active))
        await self._review.record(meeting, actor, "recording_started", recording_key=key,
                                  consent_notice=notice)
        meeting.broadcast("recording_changed", {"recording": True, "recording_key": key,
                                                "consent_notice": notice})
        logger.info("meeting %s: recording %s started", meeting.id, key)
        return key

    async def stop(self, meeting: LiveMeeting, actor: Participant | None,
                   reason: str = "stopped") -> Manifest | None:
        """Stop the meeting's recording, if any: logged, told, files finished, manifest written."""
        active = self.active.pop(meeting.id, None)
        if active is None:
            return None
        if active.watch is not None and active.watch is not asyncio.current_task():
            active.watch.cancel()
        active.bridge.detach()
        active.session.finish()
        await self._review.record(meeting, actor, "recording_stopped", recording_key=active.key)
        meeting.broadcast("recording_changed", {"recording": False, "recording_key": active.key,
                                                "reason": reason})
        async with self._context.sessions() as db:
            events = await logged_events(db, meeting.id)
        manifest = await asyncio.to_thread(active.session.stop, events)
        logger.info("meeting %s: recording %s stopped (%s): %d tracks, %d ms", meeting.id,
                    active.key, reason, len(manifest.tracks), manifest.duration_ms)
        return manifest

    def paused(self, meeting: LiveMeeting, participant_id: str, kind: str, paused: bool) -> None:
        """A participant switched its camera or microphone off (or on): while off, that track of
        the recording is a gap, even if the client keeps sending black frames or silence."""
        active = self.active.get(meeting.id)
        if active is not None:
            active.bridge.set_paused(participant_id, kind, paused)

    async def closing(self, meeting: LiveMeeting) -> None:
        """The live meeting is closing (everyone left, or shutdown): its recording ends with it
        (one still being set up first finishes starting, so it cannot outlive the meeting)."""
        starting = self._starting.get(meeting.id)
        if starting is not None:
            await starting.wait()
        await self.stop(meeting, None, "meeting_closed")

    async def _watch(self, meeting: LiveMeeting, active: ActiveRecording) -> None:
        """Stop before the disk fills: files end cleanly instead of failing mid-write."""
        while self.active.get(meeting.id) is active:
            await asyncio.sleep(self.check_interval_s)
            available = await asyncio.to_thread(self.free_mb, self.root)
            if available < self._settings.min_free_mb and self.active.get(meeting.id) is active:
                logger.error("meeting %s: %d MiB free (floor %d): stopping recording %s", meeting.id,
                             available, self._settings.min_free_mb, active.key)
                await self.stop(meeting, None, "disk_low")
                self._tell_chairs(meeting, SignalingError(
                    "recording_disk_low", MESSAGES["recording_disk_low"], free_mb=available,
                    min_free_mb=self._settings.min_free_mb, recording_key=active.key))

    @staticmethod
    def _tell_chairs(meeting: LiveMeeting, refusal: SignalingError) -> None:
        for participant in meeting.participants.values():
            if participant.is_chair:
                meeting.tell(participant.sid, "error", refusal.payload("recording"))
