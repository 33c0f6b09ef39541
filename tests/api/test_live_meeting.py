"""A live meeting without a transport: its facts from the one loader, its messages through a sink,
and a paused camera as the SFU room tells it (what the recorder follows)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from record.events import LinkDegraded, LinkRecovered, Logged
from server.auth.principal import load_principal
from server.db.models import User
from server.services.live_meeting import LiveFacts, load_live_facts
from server.settings import Settings
from server.sfu import ProducerInfo, Sfu
from server.sfu.degradation import SUSTAINED_S, Shortfall
from server.sfu.packet_consumer import PacketConsumer
from server.signaling.admission import CHAIR, MEMBER, invited_capacity
from server.signaling.auth import Identity
from server.signaling.events import MeetingLog
from server.signaling.room_state import LiveMeeting
from server.signaling.spool import EventSpool
from tests.world import World, build_world


class RecordingSink:
    """A MessageSink that keeps what it is given, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def send(self, to: str, event: str, payload: dict[str, Any]) -> None:
        self.calls.append(("send", to, event, payload))

    async def broadcast(self, event: str, payload: dict[str, Any], skip: str | None = None) -> None:
        self.calls.append(("broadcast", event, payload, skip))

    async def add(self, to: str) -> None:
        self.calls.append(("add", to))

    async def remove(self, to: str) -> None:
        self.calls.append(("remove", to))


async def _facts(sessions: async_sessionmaker[AsyncSession], meeting_id: int) -> LiveFacts:
    async with sessions() as db:
        facts = await load_live_facts(db, meeting_id)
    assert facts is not None
    return facts


async def test_one_loader_reads_what_admission_review_and_recording_need(db_sessions: Any) -> None:
    world: World = await build_world(db_sessions)
    facts = await _facts(db_sessions, world.meeting_x)
    assert facts.id == world.meeting_x and facts.status == "scheduled" and facts.title
    assert facts.chair_id == world.user_ids["chair"]
    # admission: the chair and an invited member department's A post enter directly
    assert facts.member(world.dept_fgj) is not None and facts.member(world.dept_fgj).code == "FQ-FGJ"
    assert facts.departments[world.dept_fgj].capacity == MEMBER
    # review: the agenda, as the record names it; recording: the cases and every department's name
    assert facts.items and [ref.position for ref in facts.agenda] == [item.position for item in facts.items]
    assert facts.case_codes == tuple(sorted({item.project_code for item in facts.items}))
    assert facts.department_names_by_id[world.dept_zrj] == facts.department_names["FQ-ZRJ"]
    async with db_sessions() as db:
        assert await load_live_facts(db, 987654) is None


async def test_admission_reads_the_loaded_facts(db_sessions: Any) -> None:
    world: World = await build_world(db_sessions)
    facts = await _facts(db_sessions, world.meeting_x)
    async with db_sessions() as db:
        chair = await load_principal(db, await db.get_one(User, world.user_ids["chair"]))
    assert invited_capacity(facts, Identity("user:chair", "李主任", chair)) == CHAIR
    assert invited_capacity(facts, Identity("guest", "访客")) is None


async def test_room_logic_tells_people_through_its_sink_only(db_sessions: Any, settings: Settings,
                                                             tmp_path: Path) -> None:
    world: World = await build_world(db_sessions)
    facts = await _facts(db_sessions, world.meeting_x)
    sfu = Sfu()
    sink = RecordingSink()
    emptied: list[LiveMeeting] = []
    meeting = LiveMeeting(facts, sfu.room("t"), sink, MeetingLog(db_sessions, facts.id, EventSpool(tmp_path)),
                          settings.signaling, emptied.append)
    first, _ = await meeting.join("sid-1", Identity("guest:1", "甲"), "observer", "token")
    second, _ = await meeting.join("sid-2", Identity("guest:2", "乙"), "observer", "token")
    meeting.tell(second.sid, "hello", {"n": 1})
    await meeting.leave(first, "left")
    await meeting.flush()
    joined = [c for c in sink.calls if c[0] == "broadcast" and c[1] == "participant_joined"]
    assert [(c[2]["participant"]["display_name"], c[3]) for c in joined] == [("甲", "sid-1"), ("乙", "sid-2")]
    assert ("add", "sid-1") in sink.calls and ("add", "sid-2") in sink.calls
    assert ("send", "sid-2", "hello", {"meeting_id": facts.id, "n": 1}) in sink.calls
    assert ("remove", "sid-1") in sink.calls
    assert sink.calls[-1][:2] == ("broadcast", "participant_left")
    await meeting.close()
    assert emptied == [meeting]
    await sfu.close()


async def test_a_paused_source_is_sfu_state_the_room_announces(db_sessions: Any, settings: Settings,
                                                               tmp_path: Path) -> None:
    """The owner's camera off is the SFU peer's state: the room emits ``producer_paused`` for a
    producer it has, and the state is kept for producers published later (``Room.is_paused``)."""
    world: World = await build_world(db_sessions)
    facts = await _facts(db_sessions, world.meeting_x)
    sfu = Sfu()
    room = sfu.room("t")
    told: list[tuple[ProducerInfo, bool]] = []
    room.on("producer_paused", lambda info, paused: told.append((info, paused)))
    meeting = LiveMeeting(facts, room, RecordingSink(), MeetingLog(db_sessions, facts.id, EventSpool(tmp_path)),
                          settings.signaling, lambda _meeting: None)
    participant, _ = await meeting.join("sid-1", Identity("guest:1", "甲"), "observer", "token")
    participant.peer.set_paused("video", True)
    participant.peer.set_paused("video", True)  # no change, nothing told
    assert participant.paused == {"video"} and participant.public()["paused"] == ["video"]
    assert told == []  # nothing published yet: no producer to tell about
    later = ProducerInfo("p1", participant.id, "video", "video/VP8", False)
    assert room.is_paused(later)
    assert not room.is_paused(ProducerInfo("p2", participant.id, "audio", "audio/opus", False))
    participant.peer.set_paused("video", False)
    assert participant.paused == frozenset() and not room.is_paused(later)
    await meeting.close()
    await sfu.close()


async def test_a_sites_sustained_poor_video_goes_on_the_record_and_a_cascade_links_does_not(
        db_sessions: Any, settings: Settings, tmp_path: Path) -> None:
    """The SFU room tells a site's episode (server.sfu.degradation); the live meeting writes it to
    the one log as the system's event, for its own participants only."""
    world: World = await build_world(db_sessions)
    facts = await _facts(db_sessions, world.meeting_x)
    sfu = Sfu()
    room = sfu.room("t")
    log = MeetingLog(db_sessions, facts.id, EventSpool(tmp_path))
    written: list[Logged] = []
    log.listen(written.append)
    meeting = LiveMeeting(facts, room, RecordingSink(), log, settings.signaling, lambda _meeting: None)
    participant, _ = await meeting.join("sid-1", Identity("guest:1", "甲"), "observer", "token")
    tile = cast(PacketConsumer, object())  # the room keys a site's shortfalls by consumer, nothing more
    went_below = time.monotonic() - SUSTAINED_S
    room.shortfall("link:node-2", tile, Shortfall(went_below, 0, 2, 3, "loss"))  # a cascade link: no site
    room.shortfall(participant.id, tile, Shortfall(went_below, 0, 2, 3, "rtt"))
    room.shortfall(participant.id, tile, None)
    await meeting.flush()
    links = [(w.actor_id, w.event) for w in written if isinstance(w.event, LinkDegraded | LinkRecovered)]
    assert [(actor, event.type, event.participant_id, event.reason) for actor, event in links] == [
        (None, "link_degraded", participant.id, "rtt"), (None, "link_recovered", participant.id, "rtt")]
    since = datetime.fromisoformat(links[0][1].since)
    assert abs((datetime.now(UTC) - since).total_seconds() - SUSTAINED_S) < 5  # dated when it went below
    await meeting.close()
    await sfu.close()
