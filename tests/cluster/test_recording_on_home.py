"""Only a meeting's home node records it; the node that takes over the home records on.

Two `lianshen serve` nodes: the applicant's first join makes the province node the home; the
meeting's chair, a county officer, is served by the county node. The chair's start is relayed to
the province, which records (the county's recordings directory stays empty). kill -9 of the
province: the county node takes over the home, closes on the record the recording the dead node
left open, and starts a new segment in its own directory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from server.bot.signaling import BotClient
from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.db.models import Meeting, MeetingEvent
from server.domain.roles import Post, Role
from server.recording.store import recordings_root
from server.services.people import NewPerson, create_person
from tests.world import PASSWORD, World

from .conftest import LEASE_S, RedisSpace, until
from .nodes import Node, joined_bot, start_nodes

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(420),
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

TAKE_OVER_S = LEASE_S * 2 + 10
"""The lease, two heartbeats and starting a recording, on a loaded machine."""


async def recording_events(database_url: str, meeting_id: int) -> list[tuple[str, dict[str, Any]]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            rows = await db.execute(select(MeetingEvent.type, MeetingEvent.payload).where(
                MeetingEvent.meeting_id == meeting_id,
                MeetingEvent.type.in_(("recording_started", "recording_stopped"))).order_by(MeetingEvent.seq))
            return [(type_, dict(payload)) for type_, payload in rows]
    finally:
        await engine.dispose()


def recorded_keys(node: Node, meeting_id: int) -> set[str]:
    """The recordings of the meeting in the node's data directory."""
    meeting_dir = recordings_root(Path(node.env["LIANSHEN_DATA_DIR"])) / str(meeting_id)
    return {path.name for path in meeting_dir.iterdir()} if meeting_dir.exists() else set()


async def test_recording_on_the_home_only(tmp_path: Path, database_url: str, world: World,
                                          redis_space: RedisSpace, directory: Directory,
                                          started: list[Node], bots: list[BotClient]) -> None:
    meeting = world.meeting_x
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:  # the meeting's chair: an officer of the county
            chair_user = await create_person(db, NewPerson("chair_county", "陈主任", Role.CHAIR, PASSWORD,
                                                           "FQ-FGJ", Post.A))
            await db.execute(update(Meeting).where(Meeting.id == meeting).values(chair_id=chair_user.id))
            await db.commit()
    finally:
        await engine.dispose()
    province, county = await start_nodes(tmp_path, database_url, redis_space, LEASE_S, started,
                                         ("prov", "province"), ("county", "county"))

    async def bot(node: Node, username: str) -> BotClient:
        return await joined_bot(node, meeting, username, bots)

    applicant = await bot(province, "applicant")
    assert await directory.home_of(meeting) == "prov"
    chair = await bot(county, "chair_county")
    assert chair.joined["capacity"] == "chair"

    # The chair's start, on the county node, is relayed to the home, which records.
    first = (await chair.call("recording_start", {"meeting_id": meeting}))["recording_key"]
    await applicant.wait_event(lambda name, data: name == "recording_changed" and data["recording"], 10)
    assert recorded_keys(province, meeting) == {first}
    assert recorded_keys(county, meeting) == set()

    # kill -9 of the home: the county takes it over and records on, in a new segment.
    province.kill()
    _, resumed = await chair.wait_event(lambda name, data: name == "recording_changed" and data["recording"]
                                        and data["recording_key"] != first, TAKE_OVER_S)
    second = resumed["recording_key"]
    assert await directory.home_of(meeting) == "county"
    assert recorded_keys(county, meeting) == {second}
    async with asyncio.timeout(10):  # the dead node's span is closed on the record, then the new one opens
        await until(lambda: _events_are(database_url, meeting, [
            ("recording_started", first), ("recording_stopped", first), ("recording_started", second)]))

    # The chair, on the home now, stops it there.
    stopped = await chair.call("recording_stop", {"meeting_id": meeting})
    assert stopped["recording_key"] == second


async def _events_are(database_url: str, meeting_id: int, expected: list[tuple[str, str]]) -> bool:
    return [(type_, payload["recording_key"]) for type_, payload
            in await recording_events(database_url, meeting_id)] == expected
