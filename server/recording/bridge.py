"""The SFU side of a recording: every producer of a live meeting feeds a track of the session.

Producers already publishing when recording starts get a track at once (video from its next key
frame, which the recorder asks for); producers added later get one when they appear, and a
producer that ends (unpublish, leave, rejoin) finishes its file. The sinks receive the very frames
the SFU forwards, so what was recorded is what the meeting saw and heard (a producer the chair
muted sends nothing, which the recording shows as a gap). A camera or microphone its owner switched
off (``pause``) is a gap as well: browsers keep sending black frames or silence then, which the
sink drops.
"""

from __future__ import annotations

import logging

from recorder.errors import RecorderError
from recorder.session import RecordingSession, TrackInfo, TrackSink
from server.sfu import ProducerInfo
from server.signaling.room_state import LiveMeeting

logger = logging.getLogger(__name__)


class MeetingRecorder:
    """Binds one live meeting's producers to one recording session."""

    def __init__(self, meeting: LiveMeeting, session: RecordingSession,
                 departments: dict[int, str]) -> None:
        self.meeting = meeting
        self.session = session
        self._departments = departments
        self._sinks: dict[str, TrackSink] = {}  # by producer id
        self._owners: dict[str, tuple[str, str]] = {}  # producer id -> (participant id, kind)

    def attach(self) -> None:
        room = self.meeting.room
        room.on("producer_added", self._added)
        room.on("producer_removed", self._removed)
        for info in room.producers():
            self._added(info)

    def detach(self) -> None:
        """Stop feeding the session (it finishes the files when stopped)."""
        room = self.meeting.room
        room.remove_listener("producer_added", self._added)
        room.remove_listener("producer_removed", self._removed)
        for producer_id in list(self._sinks):
            self._end(producer_id)

    def _added(self, info: ProducerInfo) -> None:
        producer = self.meeting.room.producer(info.id)
        participant = self.meeting.participants.get(info.peer_id)
        if producer is None or participant is None or info.id in self._sinks:
            return
        identity = participant.identity
        department_id = identity.principal.department_id if identity.principal else None
        track = TrackInfo(participant_id=participant.id, user_id=identity.user_id,
                          display_name=identity.display_name,
                          department=self._departments.get(department_id) if department_id else None,
                          unit=identity.unit or None, kind=info.kind, mime_type=info.mime_type)
        try:
            sink = self.session.add_track(track, producer.request_keyframe)
        except RecorderError as exc:
            logger.warning("meeting %s: %s's %s is not recorded: %s", self.meeting.id,
                           identity.display_name, info.kind, exc)
            return
        self._sinks[info.id] = sink
        self._owners[info.id] = (participant.id, info.kind)
        if info.kind in participant.paused:
            sink.set_paused(True)
        producer.add_sink(sink)

    def set_paused(self, participant_id: str, kind: str, paused: bool) -> None:
        """The participant's ``kind`` (audio or video: the camera, not a shared screen) is off or on."""
        for producer_id, owner in self._owners.items():
            if owner == (participant_id, kind):
                self._sinks[producer_id].set_paused(paused)

    def _removed(self, info: ProducerInfo) -> None:
        self._end(info.id)

    def _end(self, producer_id: str) -> None:
        sink = self._sinks.pop(producer_id, None)
        self._owners.pop(producer_id, None)
        if sink is None:
            return
        producer = self.meeting.room.producer(producer_id)
        if producer is not None:
            producer.remove_sink(sink)
        sink.close()
