"""Recording wired into live meetings: the composition of signaling, the SFU and recording.

Signaling does not know recording and recording does not know signaling; this module knows both.
It builds the RecordingDesk, adapts each live meeting to what recording needs
(server.recording.live.RecordedMeeting: the SFU room, the meeting's facts, who publishes, the
record, the room's messages), hooks the desk into the live meetings' life (automatic start after a
join, stop when a meeting closes) and adds the chair's start/stop events to signaling's dispatch
table. The media side needs nothing here: the recording's bridge follows the SFU room's producer
events (added, removed, paused) itself.

On several nodes only the meeting's home records (``RecordingWiring.records``, set by the
composition root to ``ClusterNode.is_home``): a chair's start or stop on another node is relayed
to the home (``relay``), and a node that takes over the home of a meeting whose home died while
recording starts a new segment (``home_taken``). The home records the tracks its SFU room has:
its own participants', and other nodes' once the media cascade brings them to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import TypeAdapter

from server.context import AppContext
from server.recording.desk import RecordingDesk
from server.recording.live import Publisher, RecordingRefused
from server.recording.startup import recover_interrupted
from server.recording.store import CONSENT_NOTICE
from server.services.live_meeting import LiveFacts
from server.sfu import Room
from server.signaling.connection import Connection, Handlers
from server.signaling.errors import SignalingError
from server.signaling.messages import InMeeting
from server.signaling.review_handlers import ReviewDesk
from server.signaling.review_messages import storable
from server.signaling.room_state import LiveMeeting, Participant
from server.signaling.server import Signaling

RECORDING = web.AppKey("lianshen_recording", RecordingDesk)


class RecordingStart(InMeeting):
    consent_notice: storable(500, 1) | None = None  # type: ignore[valid-type]
    """What the room announces; the centre's standard wording when absent."""


class RecordingStop(InMeeting):
    pass


def refusal(refused: RecordingRefused) -> SignalingError:
    """A recording's refusal as the room's refusal (same code, message and details)."""
    return SignalingError(refused.code, refused.message, **refused.details)


RecordingVerb = Literal["start", "stop"]
Relay = Callable[[LiveMeeting, RecordingVerb, int | None, str | None], Awaitable[dict[str, Any]]]
"""Sends a chair's recording start/stop to the node that records the meeting (its home); the
home's answer is the chair's ack."""


class RecordedLiveMeeting:
    """A live meeting as recording sees it (server.recording.live.RecordedMeeting)."""

    def __init__(self, meeting: LiveMeeting, review: ReviewDesk) -> None:
        self._meeting = meeting
        self._review = review

    @property
    def id(self) -> int:
        return self._meeting.id

    @property
    def room(self) -> Room:
        return self._meeting.room

    @property
    def facts(self) -> LiveFacts:
        return self._meeting.facts

    def publisher(self, peer_id: str) -> Publisher | None:
        participant = self._meeting.participants.get(peer_id)
        if participant is None:
            return None
        identity = participant.identity
        return Publisher(participant.id, identity.user_id, identity.display_name,
                         identity.principal.department_id if identity.principal else None, identity.unit)

    async def record(self, actor_id: int | None, type: str, **payload: Any) -> None:
        await self._review.record(self._meeting, actor_id, type, **payload)

    def announce(self, event: str, data: dict[str, Any]) -> None:
        self._meeting.broadcast(event, data)

    @property
    def recording_keys(self) -> set[str]:
        return set(self._review.review(self._meeting).state.recordings)

    def warn_chairs(self, problem: RecordingRefused) -> None:
        for participant in self._meeting.participants.values():
            if participant.is_chair:
                self._meeting.tell(participant.sid, "error", refusal(problem).payload("recording"))


class RecordingWiring:
    """The desk's hooks and the chair's events, over one signaling server."""

    def __init__(self, desk: RecordingDesk, signaling: Signaling) -> None:
        self.desk = desk
        self._signaling = signaling
        self.records: Callable[[int], bool] = lambda _meeting_id: True
        """Whether this node records the meeting: always on one node, its home on several."""
        self.relay: Relay | None = None

    def recorded(self, meeting: LiveMeeting) -> RecordedLiveMeeting:
        return RecordedLiveMeeting(meeting, self._signaling.review)

    def handlers(self) -> Handlers:
        return {"recording_start": (TypeAdapter(RecordingStart), self._start_event),
                "recording_stop": (TypeAdapter(RecordingStop), self._stop_event)}

    def _chair(self, connection: Connection, meeting_id: int) -> tuple[LiveMeeting, Participant]:
        meeting, participant = self._signaling.joined(connection, meeting_id)
        if not participant.is_chair:
            raise SignalingError("not_chair")
        return meeting, participant

    async def _start_event(self, connection: Connection, message: RecordingStart) -> dict[str, Any]:
        meeting, participant = self._chair(connection, message.meeting_id)
        if self.relay is not None and not self.records(meeting.id):
            return await self.relay(meeting, "start", participant.user_id, message.consent_notice)
        return await self.act(meeting, "start", participant.user_id, message.consent_notice)

    async def _stop_event(self, connection: Connection, message: RecordingStop) -> dict[str, Any]:
        meeting, participant = self._chair(connection, message.meeting_id)
        if self.relay is not None and not self.records(meeting.id):
            return await self.relay(meeting, "stop", participant.user_id, None)
        return await self.act(meeting, "stop", participant.user_id, None)

    async def act(self, meeting: LiveMeeting, verb: RecordingVerb, actor_id: int | None,
                  notice: str | None) -> dict[str, Any]:
        """A chair's start or stop, on the node that records the meeting (the chair's checked by
        the chair's own node); the chair's ack, or the refusal."""
        if verb == "start":
            try:
                key = await self.desk.start(self.recorded(meeting), actor_id, notice or CONSENT_NOTICE)
            except RecordingRefused as refused:
                raise refusal(refused) from None
            return {"recording_key": key}
        manifest = await self.desk.stop(self.recorded(meeting), actor_id)
        if manifest is None:
            raise refusal(RecordingRefused("not_recording"))
        return {"recording_key": manifest.recording_key, "tracks": len(manifest.tracks),
                "duration_ms": manifest.duration_ms}

    async def joined(self, meeting: LiveMeeting) -> None:
        if self.records(meeting.id):
            await self.desk.joined(self.recorded(meeting))

    async def home_taken(self, meeting: LiveMeeting) -> None:
        """This node has become the home of a meeting whose home died: a recording the old home
        left open on the record ends there (its files are on the dead node; recovered when it
        starts again) and a new segment starts here; otherwise the automatic start applies."""
        review = self._signaling.review.review(meeting)
        open_spans = [span for span in review.state.recordings.values() if span.stopped is None]
        if not open_spans or meeting.id in self.desk.active:
            await self.joined(meeting)
            return
        for span in open_spans:
            await self._signaling.review.record(meeting, None, "recording_stopped", recording_key=span.key)
        try:
            await self.desk.start(self.recorded(meeting), None, open_spans[-1].consent_notice)
        except RecordingRefused as refused:
            self.recorded(meeting).warn_chairs(refused)

    async def closing(self, meeting: LiveMeeting) -> None:
        await self.desk.closing(self.recorded(meeting))


def attach(app: web.Application, context: AppContext, signaling: Signaling) -> RecordingWiring:
    """Add recording to the app's live meetings (after signaling is attached); the wiring, for a
    cluster to make recording its homes' (ClusterNode.records_on_home)."""
    desk = RecordingDesk(context)
    wiring = RecordingWiring(desk, signaling)
    signaling.add_handlers(wiring.handlers())
    signaling.hooks.joined.append(wiring.joined)
    signaling.hooks.closing.append(wiring.closing)

    async def recover(_app: web.Application) -> None:
        await recover_interrupted(context)

    app[RECORDING] = desk
    app.on_startup.append(recover)  # after the signaling's own startup (spooled events)
    return wiring
