"""A cascade link between two SFUs (a home node's and an edge node's), over a real websocket on loopback.

Both ends run server.cluster.link_session exactly as two nodes do (the HTTP endpoint, node tokens
and the directory around it are covered by tests/cluster/test_cascade.py): every participant
decodes every other's video; a track crosses the link once however many subscribers are behind it;
nothing comes back over the link it came by; a keyframe request from behind the link reaches the
publisher; a publisher that leaves disappears on the other node too.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from server.bot.participant import Participant
from server.cluster.link_session import LinkSession
from server.sfu import ProducerInfo, Room, Sfu, SfuSettings
from server.sfu.link import link_id, sending_counters

from .meeting import Meeting, source_name

packet_path = pytest.mark.parametrize("settings", ["packet"], indirect=True)
FPS = 30
WINDOW_S = 3.0


class Linked:
    """A home room and an edge room joined by one link, each with its own participants."""

    def __init__(self, home: Meeting, edge: Meeting) -> None:
        self.home, self.edge = home, edge
        self.home_session: LinkSession | None = None
        self.edge_session: LinkSession | None = None
        self.home_linked = asyncio.Event()
        self.connect: Callable[[], Awaitable[None]] | None = None
        """Open a new link (a new websocket and a session at each end), as an edge's retry does."""


@pytest_asyncio.fixture
async def linked(settings: SfuSettings) -> AsyncIterator[Linked]:
    home_sfu, edge_sfu = Sfu(settings), Sfu(settings)
    pair = Linked(Meeting(home_sfu.room("7")), Meeting(edge_sfu.room("7")))

    async def accept(request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        pair.home_session = LinkSession(pair.home.room, "county", socket)
        pair.home_linked.set()
        await pair.home_session.run()
        return socket

    app = web.Application()
    app.router.add_get("/link", accept)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    http = aiohttp.ClientSession()
    edge_runs: list[asyncio.Future[str]] = []

    async def connect() -> None:
        pair.home_linked.clear()
        socket = await http.ws_connect(f"http://127.0.0.1:{port}/link")
        pair.edge_session = LinkSession(pair.edge.room, "province", socket)
        edge_runs.append(asyncio.ensure_future(pair.edge_session.run()))
        await asyncio.wait_for(pair.home_linked.wait(), 10)

    pair.connect = connect
    await connect()
    try:
        yield pair
    finally:
        for meeting in (pair.home, pair.edge):
            await meeting.close()
        for edge_run in edge_runs:
            edge_run.cancel()
        await asyncio.gather(*edge_runs, return_exceptions=True)
        await http.close()
        await runner.cleanup()
        await home_sfu.close()
        await edge_sfu.close()


def origins(room: Room) -> dict[str, str | None]:
    return {f"{p.peer_id}:{p.kind}": p.origin for p in room.producers()}


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_media_crosses_a_link_once_per_track(linked: Linked) -> None:
    home, edge = linked.home, linked.edge
    prov = await home.join("prov")
    county1 = await edge.join("county1")
    county2 = await edge.join("county2")
    wanted = {
        prov: ["county1", "county2"],
        county1: ["prov", "county2"],
        county2: ["prov", "county1"],
    }
    for participant, others in wanted.items():
        sources = [source_name(o, k) for o in others for k in ("video", "audio")]
        await participant.receiver.wait_for_frames(sources, 2 * FPS, timeout=40)

    # Each node's room holds the other node's tracks, owned by their real participants and
    # marked as come over the link; their ids are the publishing node's.
    assert origins(edge.room) == {
        "prov:video": link_id("province"), "prov:audio": link_id("province"),
        "county1:video": None, "county1:audio": None, "county2:video": None, "county2:audio": None}
    assert origins(home.room) == {
        "prov:video": None, "prov:audio": None,
        "county1:video": link_id("county"), "county1:audio": link_id("county"),
        "county2:video": link_id("county"), "county2:audio": link_id("county")}
    home_ids = {p.id for p in home.room.producers()}
    assert {p.id for p in edge.room.producers()} == home_ids

    # Across the link both ways at the rate of a subscriber on the publisher's own node (so a
    # loaded machine slows both alike), and decodable (measured over a window).
    viewer = await home.join("viewer", publish=False)
    await viewer.receiver.wait_for_frames([source_name("prov", "video")], FPS, timeout=20)
    everyone = {**wanted, viewer: ["prov"]}
    before = {p: {s: p.receiver.frames(s) for s in p.receiver.stats} for p in everyone}
    await asyncio.sleep(WINDOW_S)  # a measuring window, not a synchronisation

    def rate(participant: Participant, publisher: str) -> float:
        source = source_name(publisher, "video")
        return (participant.receiver.frames(source) - before[participant][source]) / WINDOW_S

    local_rate = {"prov": rate(viewer, "prov"), "county1": rate(county2, "county1"),
                  "county2": rate(county1, "county2")}
    for participant, others in wanted.items():
        for other in others:
            stats = participant.receiver.stats[source_name(other, "video")]
            assert rate(participant, other) >= 0.8 * local_rate[other], (participant.name, other, local_rate)
            assert stats.decoded > 0 and stats.decode_errors == 0, (participant.name, other, stats)
    print(f"video fps at a local subscriber {local_rate}")

    # One copy per track on the link: the home sends prov's two tracks once for both county
    # subscribers, the edge sends its four, and nothing goes back where it came from.
    assert linked.home_session is not None and linked.edge_session is not None
    assert linked.home_session.peer is not None and linked.edge_session.peer is not None
    down = await sending_counters(linked.home_session.peer)
    up = await sending_counters(linked.edge_session.peer)
    assert (down.tracks, up.tracks) == (2, 4)  # the viewer publishes nothing
    prov_bytes = sum(home.peers["prov"].producers[k].received[1] for k in ("audio", "video"))
    received = await linked.edge_session.receiver.counters()
    assert received.tracks == 2
    # what crossed the link is what prov sent (one copy), not one per county subscriber
    assert 0.9 * prov_bytes <= down.payload_bytes <= 1.1 * prov_bytes, (down, prov_bytes)
    assert 0.9 * down.payload_bytes <= received.payload_bytes <= 1.05 * down.payload_bytes, (received, down)
    print(f"link down {down}, up {up}, received {received}, prov sent {prov_bytes} B")

    # A late subscriber behind the link gets a keyframe from the publisher across the link.
    requests = prov.video.keyframe_requests
    county3 = await edge.join("county3", publish=False)
    await county3.receiver.wait_for(
        lambda: (s := county3.receiver.stats.get(source_name("prov", "video"))) is not None and s.decoded > 0,
        timeout=20)
    assert prov.video.keyframe_requests > requests

    # The publisher leaves: its tracks leave the edge's room too.
    gone = asyncio.Event()

    def removed(info: ProducerInfo) -> None:
        if not any(p.peer_id == "prov" for p in edge.room.producers()):
            gone.set()

    edge.room.on("producer_removed", removed)
    await home.leave("prov")
    await asyncio.wait_for(gone.wait(), 10)
    assert not any(p.peer_id == "prov" for p in edge.room.producers())

    # The next publisher takes over the link's m-lines the first one left (the sender recycles
    # them): it reaches the other node all the same.
    mids = {slot.mid for slot in linked.home_session.peer.slots}
    await home.join("prov2")
    await county1.receiver.wait_for_frames([source_name("prov2", "video")], FPS, timeout=20)
    assert {slot.mid for slot in linked.home_session.peer.slots} == mids
    assert county1.receiver.stats[source_name("prov2", "video")].decode_errors == 0


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_tracks_flow_again_after_a_relink(linked: Linked) -> None:
    """The link drops and comes back: each node's tracks reach the other's subscribers again,
    even those whose negotiation was waiting for an answer all the while (their slot's producer
    went and came back under the same id, in one batch)."""
    home, edge = linked.home, linked.edge
    answers = asyncio.Event()
    answers.set()
    await home.join("prov")
    county1 = await edge.join("county1", answers=answers)
    prov_sources = [source_name("prov", k) for k in ("video", "audio")]
    await county1.receiver.wait_for_frames(prov_sources, FPS, timeout=40)
    prov = home.participants["prov"]
    await prov.receiver.wait_for_frames([source_name("county1", "video")], FPS, timeout=40)

    # county1 is slow to answer: an offer (county2's tracks) waits while the link drops and
    # comes back, so prov's tracks leaving and returning come to it in one next offer.
    answers.clear()
    county2 = await edge.join("county2")
    assert linked.edge_session is not None
    old_home = linked.home_session
    await linked.edge_session.close()  # what an edge does when a link connection fails
    assert linked.connect is not None
    await linked.connect()
    assert linked.home_session is not old_home
    back = asyncio.Event()

    def prov_back(*_: object) -> None:
        if sum(p.peer_id == "prov" for p in edge.room.producers()) == 2:
            back.set()

    edge.room.on("producer_added", prov_back)
    prov_back()  # they may be back already
    await asyncio.wait_for(back.wait(), 20)
    answers.set()

    before = {s: county1.receiver.frames(s) for s in prov_sources}
    for source in prov_sources:
        await county1.receiver.wait_for(lambda s=source: county1.receiver.frames(s) >= before[s] + FPS, timeout=20)
    await county2.receiver.wait_for_frames(prov_sources, FPS, timeout=20)
    seen = prov.receiver.frames(source_name("county1", "video"))
    await prov.receiver.wait_for(lambda: prov.receiver.frames(source_name("county1", "video")) >= seen + FPS,
                                 timeout=20)
    await prov.receiver.wait_for_frames([source_name("county2", "video")], FPS, timeout=20)
