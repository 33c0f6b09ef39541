"""The chair's room across two `lianshen serve` nodes: moderation, the lobby, the lock, hands,
the chat switch and the presenter act on people another node serves, exactly as on one node.

The chair is on the province node (the meeting's home); the county's representatives, and a
county officer not invited, are served by the county node. The chair admits the uninvited officer
from the county's lobby; a lock on the province holds newcomers out on the county; a hand raised
on the county is in the chair's queue and the chair gives it the floor; chat switched off on the
province refuses a county chat line; a mute on the province stops the county's SFU producer; a
removal disconnects the county's socket and keeps the person out; after the county node is killed,
an act on its participant is refused with ``node_gone``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.bot.signaling import BotClient, BotError, sign_in
from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.db.models import CaseMaterial
from tests.world import PASSWORD, World

from .conftest import LEASE_S, RedisSpace, until
from .nodes import Node, start_nodes
from .test_live_state import ASK_AGAIN_S, FEED_TIMEOUT_S, _stored, stored_count

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(420),
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

Match = Callable[[str, dict[str, Any]], bool]


def fresh(client: BotClient, test: Match) -> Match:
    """``test``, on events ``client`` receives from now on (wait_event also looks at past ones)."""
    old = {id(data) for _name, data in client.events}
    return lambda name, data: id(data) not in old and test(name, data)


def review_where(test: Callable[[dict[str, Any]], bool]) -> Match:
    return lambda name, data: name == "review_state" and test(data)


async def test_the_chair_acts_across_nodes(tmp_path: Path, database_url: str, world: World,
                                           redis_space: RedisSpace, directory: Directory,
                                           started: list[Node], bots: list[BotClient]) -> None:
    province, county = await start_nodes(tmp_path, database_url, redis_space, LEASE_S, started,
                                         ("prov", "province"), ("county", "county"))
    meeting = world.meeting_x
    material = await add_material(database_url, world, "项目选址图", 3)

    async def connected(node: Node, username: str) -> BotClient:
        client = BotClient(node.url, meeting, cookie=await sign_in(node.url, username, PASSWORD), name=username)
        bots.append(client)
        await client.connect()
        return client

    async def bot(node: Node, username: str) -> BotClient:
        client = await connected(node, username)
        joined = await client.join()
        assert joined["status"] == "joined" and client.url == node.url, joined
        return client

    async def act(client: BotClient, event: str, **payload: Any) -> dict[str, Any]:
        return await client.call(event, {"meeting_id": meeting, **payload})

    async def in_step(client: BotClient, type: str, **fields: Any) -> None:
        """Once an event of ``type`` is stored, the client's node holds every stored event (the
        other node's joins, locks, ...)."""
        async with asyncio.timeout(FEED_TIMEOUT_S):
            await until(lambda: _stored(database_url, meeting, type, **fields))
            while True:  # the other node's writes in flight are stored within the timeout
                stored = await stored_count(database_url, meeting)
                ack = await client.call("minutes_preview", {"meeting_id": meeting, "format": "json"})
                if ack["events"] == stored and not ack["stale"]:
                    return
                await asyncio.sleep(ASK_AGAIN_S)  # a pace for asking again (the room's event budget)

    chair = await bot(province, "chair")
    applicant = await bot(province, "applicant")
    rep_a = await bot(county, "rep_a")
    await in_step(chair, "participant_joined", participant_id=rep_a.participant_id)

    # The lobby: an officer of a county department not invited knocks on the county node; the
    # chair on the province sees the entry (with its node) and admits them there.
    rep_other = await connected(county, "rep_other")
    knocked = await rep_other.join()
    assert knocked["status"] == "lobby", knocked
    _, lobby = await chair.wait_event(lambda name, data: name == "lobby_changed" and data["lobby"],
                                      FEED_TIMEOUT_S)
    [entry] = lobby["lobby"]
    assert (entry["id"], entry["node"], entry["display_name"]) == (knocked["lobby_id"], "county", "钱自然")
    emptied = fresh(chair, lambda name, data: name == "lobby_changed" and not data["lobby"])
    await act(chair, "moderate", action="admit", lobby_id=entry["id"])
    await rep_other.wait_event("lobby_admitted", FEED_TIMEOUT_S)
    admitted = await act(rep_other, "join")
    assert (admitted["status"], admitted["capacity"]) == ("joined", "observer"), admitted
    await chair.wait_event(emptied, FEED_TIMEOUT_S)

    # The lock, on the record: once the county node took it, a newcomer there is held out.
    await act(chair, "moderate", action="lock")
    await in_step(rep_a, "meeting_locked")
    rep_b = await connected(county, "rep_b")
    with pytest.raises(BotError) as refused:
        await rep_b.join()
    assert refused.value.code == "meeting_locked"
    await act(chair, "moderate", action="unlock")
    await in_step(rep_a, "meeting_unlocked")
    assert (await rep_b.join())["status"] == "joined"
    await in_step(chair, "participant_joined", participant_id=rep_b.participant_id)

    # Chat switched off on the province: the county's next change of the room's state reads
    # it (a hand raised there), and a chat line there is refused.
    await act(chair, "chat_enable", enabled=False)
    await asyncio.gather(act(rep_a, "hand_raise", purpose="补充意见"),
                         act(applicant, "hand_raise", purpose="说明情况"))
    with pytest.raises(BotError) as refused:
        await act(rep_a, "chat_send", text="关了也想说")
    assert refused.value.code == "chat_disabled"
    # Two hands raised at once on two nodes are both queued; the chair gives the floor in turn.
    _, told = await chair.wait_event(review_where(lambda state: len(state["hands"]) == 2), FEED_TIMEOUT_S)
    first, second = told["hands"]
    assert {first, second} == {rep_a.participant_id, applicant.participant_id}
    assert (await act(chair, "hand_next"))["floor"] == first
    assert (await act(chair, "hand_next"))["floor"] == second
    await rep_a.wait_event(review_where(lambda state: state["floor"] == second and not state["hands"]),
                           FEED_TIMEOUT_S)
    raised_again = fresh(chair, review_where(lambda state: state["hands"] == [rep_a.participant_id]))
    await act(rep_a, "hand_raise", purpose="再说一句")  # on the county: the queue it finds is empty
    _, told = await chair.wait_event(raised_again, FEED_TIMEOUT_S)
    assert told["floor"] == second and not told["chat_enabled"]

    # The presenter: the chair picks the county's representative.
    assert (await act(chair, "presenter_set", participant_id=rep_a.participant_id))["presenter"] \
        == rep_a.participant_id
    async with asyncio.timeout(FEED_TIMEOUT_S):  # the county node takes the choice: past the presenter check
        await until(lambda: _refused_with(act(rep_a, "presentation_open", material_id=999_999),
                                          "unknown_material"))
    # The presentation opened and turned on the county is the province's too: the review the
    # province tells after its own next change shows it, on the page turned.
    await act(rep_a, "presentation_open", material_id=material)
    await act(rep_a, "presentation_page", page=2)
    chat_back = fresh(chair, review_where(lambda state: state["chat_enabled"]))
    await act(chair, "chat_enable", enabled=True)
    _, told = await chair.wait_event(chat_back, FEED_TIMEOUT_S)
    assert (told["presentation"]["material_id"], told["presentation"]["page"]) == (material, 2)

    # A mute on the province: the county's SFU mutes the producer; everyone hears of it.
    await rep_a.publish(("audio",))
    _, added = await chair.wait_event(lambda name, data: name == "producer_added"
                                      and data["producer"]["participant_id"] == rep_a.participant_id,
                                      FEED_TIMEOUT_S)
    producer_id = added["producer"]["id"]
    stopped = fresh(chair, lambda name, data: name == "producer_updated" and data["producer"]["id"] == producer_id
                    and data["producer"]["muted"])
    shown = fresh(chair, lambda name, data: name == "participant_updated"
                  and data["participant"]["id"] == rep_a.participant_id)
    await act(chair, "moderate", action="mute", participant_id=rep_a.participant_id, kind="audio")
    _, muted = await rep_a.wait_event("muted", FEED_TIMEOUT_S)
    assert muted["muted"] and muted["by"] == chair.participant_id
    await chair.wait_event(stopped, FEED_TIMEOUT_S)  # the county's SFU muted the producer
    _, updated = await chair.wait_event(shown, FEED_TIMEOUT_S)
    assert updated["participant"]["muted"] == ["audio"]
    # Unmuting answers the raised hand (a muted person asking to speak), as on one node.
    lowered = fresh(chair, review_where(lambda state: not state["hands"]))
    await act(chair, "moderate", action="unmute", participant_id=rep_a.participant_id, kind="audio")
    await chair.wait_event(lowered, FEED_TIMEOUT_S)

    # A removal on the province: the county disconnects the socket, saying why, and keeps the
    # person out.
    gone = asyncio.Event()
    rep_b.sio.on("disconnect", lambda *_args: gone.set())
    await act(chair, "moderate", action="remove", participant_id=rep_b.participant_id)
    _, removed = await rep_b.wait_event("removed", FEED_TIMEOUT_S)
    assert (removed["reason"], removed["by"]) == ("removed", chair.participant_id)
    async with asyncio.timeout(FEED_TIMEOUT_S):
        await gone.wait()
    _, left = await chair.wait_event(lambda name, data: name == "participant_left"
                                     and data["participant_id"] == rep_b.participant_id, FEED_TIMEOUT_S)
    assert left["reason"] == "removed"
    again = await connected(county, "rep_b")
    with pytest.raises(BotError) as refused:
        await again.join()
    assert refused.value.code == "removed"

    # The county node dies: an act on its participant is refused, saying so.
    county.kill()
    await county.process.wait()
    with pytest.raises(BotError) as refused:
        await act(chair, "moderate", action="mute", participant_id=rep_a.participant_id, kind="audio")
    assert refused.value.code == "node_gone"


async def _refused_with(request: Any, code: str) -> bool:
    """Whether the request is refused with ``code`` (any other refusal: not yet)."""
    try:
        await request
    except BotError as refused:
        return refused.code == code
    raise AssertionError("the request was accepted")


async def add_material(database_url: str, world: World, title: str, pages: int) -> int:
    """A material of meeting X's case (the file itself is the HTTP tests' concern)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            material = CaseMaterial(case_id=world.case_x, title=title, file_name=f"{title}.pdf",
                                    sha256=f"{world.case_x:064d}", size=1000, page_count=pages,
                                    uploaded_by_id=world.user_ids["applicant"], uploaded_at=datetime.now(UTC))
            db.add(material)
            await db.commit()
            return material.id
    finally:
        await engine.dispose()
