"""One meeting live on two `lianshen serve` nodes: each node's live state follows the other's acts.

On real processes sharing PostgreSQL and Redis: a status change over HTTP on a node where the
meeting is not live is told to the room by its home; the agenda, an opinion and a chat line acted on the
province node are in the city node's live review and draft minutes (and the city's chat in the
province's), every event once; each node's roster shows the other's participants with their node;
`lianshen node status` shows which nodes hold the meeting; kill -9 of the home node hands the home
to the city node within the lease, which records the dead node's participants as gone, and the
meeting goes on there with its log intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from server.bot.signaling import BotClient
from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.db.models import MeetingEvent
from server.services.eventlog import verify_meeting_log
from tests.world import PASSWORD, World

from .conftest import LEASE_S, RedisSpace, until
from .nodes import Node, joined_bot, start_nodes

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(420),
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

FEED_TIMEOUT_S = 10.0
"""An announcement crosses Redis in milliseconds; a lost one is healed by the next heartbeat (a
third of the lease): generous for a loaded machine."""

ASK_AGAIN_S = 0.5
"""How long a test waits for the room to be told of a newer draft before asking again (well within
the room's event budget)."""


async def stored_count(database_url: str, meeting_id: int) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            return int(await db.scalar(select(func.count()).select_from(MeetingEvent)
                                       .where(MeetingEvent.meeting_id == meeting_id)) or 0)
    finally:
        await engine.dispose()


async def draft_with(bot: BotClient, events: int) -> dict[str, Any]:
    """The live draft of the node ``bot`` is on, once it holds ``events`` events (bounded by the
    caller's timeout): the preview's count is the node's live review's log. Asked again when the
    room is told the draft changed, or after a short while (events the minutes do not carry, a
    chat line, change no draft and tell nobody)."""
    while True:
        told = {id(data) for data in bot.seen("minutes_changed")}
        ack = await bot.call("minutes_preview", {"meeting_id": bot.meeting_id, "format": "json"})
        if ack["events"] == events and not ack["stale"]:
            return ack
        if ack["events"] > events:
            raise AssertionError(f"{bot.name}'s node holds {ack['events']} events, the log {events}: one taken twice")
        with contextlib.suppress(TimeoutError):
            await bot.wait_event(untold_draft(told), ASK_AGAIN_S)


def untold_draft(told: set[int]) -> Callable[[str, dict[str, Any]], bool]:
    """A ``minutes_changed`` other than those already received (ids of their payloads)."""
    return lambda name, data: name == "minutes_changed" and id(data) not in told


def left_as_lost(participant_id: str | None) -> Callable[[str, dict[str, Any]], bool]:
    return lambda name, data: (name == "participant_left" and data["participant_id"] == participant_id
                               and data["reason"] == "node_lost")


async def test_one_meeting_live_on_two_nodes(tmp_path: Path, database_url: str, world: World,
                                             redis_space: RedisSpace, directory: Directory,
                                             started: list[Node], bots: list[BotClient]) -> None:
    province, city = await start_nodes(tmp_path, database_url, redis_space, LEASE_S, started,
                                       ("prov", "province"), ("city", "city"))
    meeting, item = world.meeting_x, world.item_x

    async def bot(node: Node, username: str) -> BotClient:
        return await joined_bot(node, meeting, username, bots)

    async def act(client: BotClient, event: str, **payload: Any) -> dict[str, Any]:
        return await client.call(event, {"meeting_id": meeting, **payload})

    # The chair and the county's representative on the province node (its home), the city's
    # representative on the city node: the city's first join sees the others in its roster.
    chair = await bot(province, "chair")
    rep_a = await bot(province, "rep_a")

    # An act over HTTP on the city node, where the meeting is not live yet: the province node
    # (the home) takes it from the log and tells the room, as the writer would have.
    await _post_as_chair(city.url, f"/api/v1/meetings/{meeting}/status", {"status": "live", "note": ""})
    await chair.wait_event(lambda name, data: name == "review_state" and data["meeting_status"] == "live",
                           FEED_TIMEOUT_S)
    async with asyncio.timeout(FEED_TIMEOUT_S):  # the province's heartbeat, woken by the joins
        await until(lambda: _participant_count(directory, "prov", 2))
    rep_city = await bot(city, "rep_city")
    roster = {p["id"]: p for p in rep_city.joined["participants"]}
    assert set(roster) == {chair.participant_id, rep_a.participant_id, rep_city.participant_id}
    assert (roster[chair.participant_id]["node"], roster[chair.participant_id]["level"]) == ("prov", "province")
    assert roster[chair.participant_id]["capacity"] == "chair"
    assert roster[rep_a.participant_id]["display_name"] == "王发改"

    # Acts on the province node reach the city node's live review and draft; the city's chat
    # reaches the province's. Every event once on each node: the drafts count the stored log.
    await act(chair, "agenda_open", item_id=item)
    await act(rep_a, "opinion_submit", item_id=item, kind="agree", text="同意备案，跨节点")
    await act(rep_city, "chat_send", text="市里收到")
    _, chat = await chair.wait_event("chat_message")
    assert chat["participant_id"] == rep_city.participant_id
    async with asyncio.timeout(FEED_TIMEOUT_S):  # the chat is the city's last write: all are stored
        await until(lambda: _chat_stored(database_url, meeting, "市里收到"))
    stored = await stored_count(database_url, meeting)
    async with asyncio.timeout(FEED_TIMEOUT_S):
        city_draft = await draft_with(rep_city, stored)
        province_draft = await draft_with(chair, stored)
    assert city_draft["minutes"] == province_draft["minutes"]
    assert "同意备案，跨节点" in json.dumps(city_draft["minutes"], ensure_ascii=False)

    # A late joiner on the province node sees the city's representative, and the province's
    # roster of the city's participants names their node.
    applicant = await bot(province, "applicant")
    shown = {p["id"]: p for p in applicant.joined["participants"]}
    assert set(shown) == {chair.participant_id, rep_a.participant_id, rep_city.participant_id,
                          applicant.participant_id}
    assert shown[rep_city.participant_id]["node"] in ("city", "")  # "" until the next heartbeat names it
    assert applicant.joined["review"]["open_item_id"] == item

    # Once the city node has taken the applicant's join, the review it tells the room (a hand
    # raised there) names the same presenter as the province's: everyone present counts.
    async with asyncio.timeout(FEED_TIMEOUT_S):
        await until(lambda: _stored(database_url, meeting, "participant_joined",
                                    participant_id=applicant.participant_id))
        await draft_with(rep_city, await stored_count(database_url, meeting))
    await act(rep_city, "hand_raise", purpose="补充市里意见")
    _, told = await chair.wait_event(lambda name, data: name == "review_state"
                                     and rep_city.participant_id in data["hands"], FEED_TIMEOUT_S)
    assert told["presenter"] == applicant.participant_id

    status, out, err = await province.command("node", "status", "--json")
    assert status == 0, err
    [shown_meeting] = json.loads(out)["meetings"]
    # the city node's cascade link to the home, as the edge wrote it
    links = shown_meeting.pop("links")
    assert list(links) == ["city>prov"] and links["city>prov"] in ("connecting", "connected", "retrying"), links
    assert shown_meeting == {"meeting_id": meeting, "home": "prov", "nodes": {"city": 1, "prov": 3}}

    # kill -9 the home: the city node claims the home within the lease, records the province's
    # participants as gone, and the meeting goes on there.
    province.kill()
    killed_at = time.monotonic()
    async with asyncio.timeout(LEASE_S * 2 + 5):
        await until(lambda: _home_is(directory, meeting, "city"))
    took = time.monotonic() - killed_at
    assert took <= LEASE_S + 2 * LEASE_S / 3 + 2.0, took  # the lease, two heartbeats, a margin
    async with asyncio.timeout(LEASE_S * 2 + 5):
        for gone in (chair, rep_a, applicant):
            await rep_city.wait_event(left_as_lost(gone.participant_id), LEASE_S * 2 + 5)
    # The chair comes back through the node still there, as chair, and goes on with the item.
    chair_again = await bot(city, "chair")
    assert chair_again.joined["capacity"] == "chair"
    assert chair_again.joined["review"]["open_item_id"] == item
    await act(chair_again, "agenda_close", item_id=item, outcome="同意")
    await act(rep_city, "chat_send", text="省节点断了，市里继续")
    async with asyncio.timeout(FEED_TIMEOUT_S):
        await until(lambda: _chat_stored(database_url, meeting, "省节点断了，市里继续"))
    stored_after = await stored_count(database_url, meeting)
    assert stored_after > stored + 2 + 3  # the applicant's join, the hand, three left, and more
    for text in ("市里收到", "省节点断了，市里继续"):  # nothing acked before or after the kill is lost
        assert await _chat_stored(database_url, meeting, text)
    assert await _stored(database_url, meeting, "opinion_submitted", text="同意备案，跨节点")
    async with asyncio.timeout(FEED_TIMEOUT_S):
        await draft_with(rep_city, stored_after)

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            assert await verify_meeting_log(db, meeting) == []
    finally:
        await engine.dispose()


async def _post_as_chair(url: str, path: str, body: dict[str, Any]) -> None:
    """An act over the HTTP API of the node at ``url``, as the meeting's chair."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = await http.post(f"{url}/api/v1/auth/login", json={"username": "chair", "password": PASSWORD})
        csrf = (await login.json())["csrf_token"]
        response = await http.post(f"{url}{path}", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status < 300, await response.text()


async def _home_is(directory: Directory, meeting_id: int, node_id: str) -> bool:
    return await directory.home_of(meeting_id) == node_id


async def _participant_count(directory: Directory, node_id: str, count: int) -> bool:
    return len(await directory.participants(node_id)) == count


async def _chat_stored(database_url: str, meeting_id: int, text: str) -> bool:
    return await _stored(database_url, meeting_id, "chat_message", text=text)


async def _stored(database_url: str, meeting_id: int, type: str, **fields: Any) -> bool:
    """Whether the meeting's log holds an event of ``type`` with these payload fields."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            rows = await db.scalars(select(MeetingEvent.payload).where(
                MeetingEvent.meeting_id == meeting_id, MeetingEvent.type == type))
            return any(all(payload.get(k) == v for k, v in fields.items()) for payload in rows)
    finally:
        await engine.dispose()
