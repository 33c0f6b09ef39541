"""The pieces of the live feed and of `lianshen node status` that need no running node: where a
node's cursor starts in a loaded log, and the per-meeting view of the directory (home, nodes,
the media cascade's links)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from record.events import ChatMessage, Logged
from server.cli_node import _table, read_status
from server.cluster.directory import Directory, NodeRecord, ParticipantRecord
from server.cluster.feed import first_gap, key_of
from server.cluster.links import LinkState
from server.cluster.settings import NodeSettings

from .conftest import RedisSpace

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def chat(seq: int | None, text: str = "到") -> Logged:
    return Logged(NOW, 3, ChatMessage(text=text, to=None), seq)


def test_the_cursor_starts_at_the_first_gap_of_the_loaded_log() -> None:
    assert first_gap([]) == 0
    assert first_gap([chat(1), chat(2), chat(3), chat(None)]) == 3
    # events told while the meeting loaded, committed after a gap another node's writes fill
    assert first_gap([chat(1), chat(2), chat(5), chat(None), chat(4)]) == 2


def test_an_event_is_known_by_stamp_type_actor_and_payload() -> None:
    assert key_of(chat(None)) == key_of(chat(7))  # the room's own, before and after it is stored
    assert key_of(chat(None, "到")) != key_of(chat(None, "收到"))


async def test_node_status_shows_each_meeting_its_home_nodes_and_links(redis_space: RedisSpace) -> None:
    settings = NodeSettings(id="prov", level="province", signaling_url="http://127.0.0.1:1",
                            redis_url=redis_space.url, namespace=redis_space.namespace)
    directory = Directory.connect(redis_space.url, redis_space.namespace, 15)
    try:
        assert await directory.claim_home(7, "prov") == "prov"
        await directory.announce(NodeRecord("prov", "province", "http://127.0.0.1:1"),
                                 [ParticipantRecord("p1", 7, "李主任"), ParticipantRecord("p2", 7, "王发改")], {7})
        await directory.announce(NodeRecord("city", "city", "http://127.0.0.1:2"),
                                 [ParticipantRecord("p3", 7, "孙市发改")], set())
        # what each end's cascade writes of the link the city opened to the home (no cascade here)
        for node_id, state in (("city", LinkState(7, "prov", "edge", "connected")),
                               ("prov", LinkState(7, "city", "home", "connecting"))):
            await directory.put_links(node_id, {state.name: json.dumps(state.as_dict())})
        nodes, meetings = await read_status(settings)
    finally:
        await directory.close()
    assert meetings == [{"meeting_id": 7, "home": "prov", "nodes": {"city": 1, "prov": 2},
                         "links": {"city>prov": "connected"}}]
    lines = _table(nodes, meetings)
    assert any(line.split() == ["7", "prov", "city(1),prov(2)", "city>prov:connected"] for line in lines), lines
