"""The active speaker across the cascade, on two real `lianshen serve` nodes sharing PostgreSQL and
Redis (127.0.0.1): a province node (the meeting's home) and a county node (an edge).

Proves: a participant the county serves who speaks is named speaker by the home, which hears their
audio over the link (the edge leaves detection to it while linked), and the record gets their
``speaking_started`` once, from the home (before, only the home's own participants were logged).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.bot.media import audio_clip, video_clip
from server.bot.signaling import BotClient
from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.db.models import MeetingEvent
from tests.world import World

from .conftest import LEASE_S, RedisSpace, until
from .nodes import Node, joined_bot, start_node

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(300),
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

WITHIN_S = 30.0
"""The link's setup and the detector's hold, on a loaded machine (seconds on a quiet one)."""


async def test_a_speaker_on_an_edge_is_on_the_homes_record(
        tmp_path: Path, database_url: str, world: World, redis_space: RedisSpace, directory: Directory,
        started: list[Node]) -> None:
    province, county, *_clips = await asyncio.gather(
        start_node(tmp_path, "prov", "province", database_url, redis_space, LEASE_S, started),
        start_node(tmp_path, "county", "county", database_url, redis_space, LEASE_S, started),
        asyncio.to_thread(video_clip), asyncio.to_thread(audio_clip))
    bots: list[BotClient] = []
    try:
        # The chair (publishing nothing) makes the province node the home; rep_a is served by the
        # county node, which links to the home, and speaks (the tone) once linked: from then on the
        # county's room names no speaker, so whatever comes on the record is the home's.
        chair = await joined_bot(province, world.meeting_x, "chair", bots)
        assert await directory.home_of(world.meeting_x) == "prov"
        rep_a = await joined_bot(county, world.meeting_x, "rep_a", bots)
        async with asyncio.timeout(WITHIN_S):
            await until(lambda: _linked(directory))
        await rep_a.publish(("audio",))
        await chair.wait_event(
            lambda name, data: name == "speaker_changed" and data["participant_id"] == rep_a.participant_id,
            WITHIN_S)
        spoke: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(WITHIN_S):  # the home's log stores it within its queue's round
                await until(lambda: _speaking(database_url, world.meeting_x, spoke))
        except TimeoutError:
            raise AssertionError("the home named rep_a speaker, but no speaking_started is on the record") from None
        assert [(p["participant_id"], p["user_id"], p["display_name"]) for p in spoke] == [
            (rep_a.participant_id, world.user_ids["rep_a"], "王发改")], spoke
    finally:
        for client in bots:
            await client.kill()


async def _linked(directory: Directory) -> bool:
    """Whether the county's link to the home is up (the edge's end, which stops naming speakers)."""
    links = await directory.links("county")
    return len(links) == 1 and links[0]["status"] == "connected"


async def _speaking(database_url: str, meeting_id: int, found: list[dict[str, Any]]) -> bool:
    """Whether the meeting's log holds a ``speaking_started`` (all of them into ``found``)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            found[:] = list(await db.scalars(select(MeetingEvent.payload).where(
                MeetingEvent.meeting_id == meeting_id, MeetingEvent.type == "speaking_started")
                .order_by(MeetingEvent.seq)))
    finally:
        await engine.dispose()
    return bool(found)
