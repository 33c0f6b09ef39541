"""The SFU side of a recording: every producer of a live meeting feeds a track of the session.

Producers already publishing when recording starts get a track at once (video from its next key
frame, which the recorder asks for); producers added later get one when they appear, and a
producer that ends (unpublish, leave, rejoin) finishes its file. The sinks receive the very frames
the SFU forwards, so what was recorded is what the meeting saw and heard (a producer the chair
muted sends nothing, which the recording shows as a gap). A camera or microphone its owner switched
off is a gap as well: the SFU room tells (``producer_paused``), and the sink drops the black frames
or silence browsers keep sending then.
"""

from __future__ import annotations

import logging

from recorder.errors import RecorderError
from recorder.session import RecordingSession, TrackInfo, TrackSink
from server.recording.live import RecordedMeeting
from server.sfu import ProducerInfo

logger = logging.getLogger(__name__)


class MeetingRecorder:
    """Binds one live meeting's producers to one recording session."""

    def __init__(self, meeting: RecordedMeeting, session: RecordingSession) -> None:
        self.meeting = meeting
        self.session = session
        self._sinks: dict[str, TrackSink] = {}  # by producer id

    def attach(self) -> None:
        room = self.meeting.room
        room.on("producer_added", self._added)
        room.on("producer_removed", self._removed)
        room.on("producer_paused", self._paused)
        for info in room.producers():
            self._added(info)

    def detach(self) -> None:
        """Stop feeding the session (it finishes the files when stopped)."""
        room = self.meeting.room
        room.remove_listener("producer_added", self._added)
        room.remove_listener("producer_removed", self._removed)
        room.remove_listener("producer_paused", self._paused)
        for producer_id in list(self._sinks):
            self._end(producer_id)

    def _added(self, info: ProducerInfo) -> None:
        room = self.meeting.room
        producer = room.producer(info.id)
        publisher = self.meeting.publisher(info.peer_id)
        if producer is None or publisher is None or info.id in self._sinks:
            return
        department_id = publisher.department_id
        track = TrackInfo(participant_id=publisher.participant_id, user_id=publisher.user_id,
                          display_name=publisher.display_name,
                          department=(self.meeting.facts.department_names_by_id.get(department_id)
                                      if department_id is not None else None),
                          unit=publisher.unit or None, kind=info.kind, mime_type=info.mime_type)
        try:
            sink = self.session.add_track(track, producer.request_keyframe)
        except RecorderError as exc:
            logger.warning("meeting %s: %s's %s is not recorded: %s", self.meeting.id,
                           publisher.display_name, info.kind, exc)
            return
        self._sinks[info.id] = sink
        if room.is_paused(info):
            sink.set_paused(True)
        producer.add_sink(sink)

    def _paused(self, info: ProducerInfo, paused: bool) -> None:
        """The owner switched the source off or on: while off, the track is a gap."""
        sink = self._sinks.get(info.id)
        if sink is not None:
            sink.set_paused(paused)

    def _removed(self, info: ProducerInfo) -> None:
        self._end(info.id)

    def _end(self, producer_id: str) -> None:
        sink = self._sinks.pop(producer_id, None)
        if sink is None:
            return
        producer = self.meeting.room.producer(producer_id)
        if producer is not None:
            producer.remove_sink(sink)
        sink.close()
