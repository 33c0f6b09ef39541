"""Link state with real aiortc peers: the room's snapshot (both forwarding paths), the chair's JSON
endpoint and /metrics of a live meeting (server.sfu.link_stats, server.web.api.links)."""

from __future__ import annotations

import re
from collections.abc import Callable

import aiohttp
import pytest

from server.bot.signaling import BotClient
from server.sfu.link_stats import RoomLinks
from tests.world import PASSWORD

from .meeting import Meeting, source_name
from .signaling_harness import FRAMES, LiveServer, live, signaling_overrides  # noqa: F401

NAMES = ("alice", "bob", "carol")
TICK_FRAMES = 20
"""Frames (at 30 fps) a subscriber receives between two snapshots: rates need time to pass."""


def _rates_disagree(links: RoomLinks) -> list[tuple[object, float | None]]:
    """Subscribe links whose rate is not within 2x of what their publisher reports sending.

    The same payload, measured at both ends over different intervals: the publisher's rate spans
    its last two sender reports (sent every 0.5-1.5 s), the subscriber's the last two snapshots.
    A stall of a loaded machine inside one interval and not the other can put one snapshot out
    of line; the next ones realign."""
    by_producer = {link.producer_id: link for peer in links.peers for link in peer.publish}
    return [
        (link, sent)
        for peer in links.peers
        for link in peer.subscribe
        if (sent := by_producer[link.producer_id].bitrate_kbps) is None or link.bitrate_kbps is None
        or not 0.5 < link.bitrate_kbps / sent < 2
    ]


async def _next_snapshot(meeting: Meeting) -> RoomLinks:
    """The room's link snapshot after the watcher received another ``TICK_FRAMES`` frames."""
    watcher = meeting.participants["alice"].receiver
    seen = watcher.frames(source_name("bob", "video"))
    await watcher.wait_for_frames([source_name("bob", "video")], seen + TICK_FRAMES, timeout=5)
    return await meeting.room.link_snapshot()


def _complete(links: RoomLinks) -> bool:
    """Every peer sends and receives at a measured rate, with a round trip measured."""
    return all(
        peer.up_kbps and peer.down_kbps and peer.rtt_ms is not None
        and all(link.bitrate_kbps for link in (*peer.publish, *peer.subscribe))
        for peer in links.peers
    )


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_snapshot_has_rates_for_every_link(meeting: Meeting) -> None:
    for name in NAMES:
        await meeting.join(name)
    watcher = meeting.participants["alice"].receiver
    await watcher.wait_for_frames([source_name("bob", "video")], FRAMES, timeout=15)

    links = await meeting.room.link_snapshot()
    for _ in range(20):
        if _complete(links):
            break
        links = await _next_snapshot(meeting)
    assert _complete(links), links
    for _ in range(5):
        if not _rates_disagree(links):
            break
        links = await _next_snapshot(meeting)
    assert not _rates_disagree(links), _rates_disagree(links)

    assert (links.totals.peers, links.totals.producers, links.totals.consumers) == (3, 6, 12)
    for peer in links.peers:
        assert {link.kind for link in peer.publish} == {"audio", "video"}
        assert len(peer.subscribe) == 4 and peer.peer_id not in {s.publisher_peer_id for s in peer.subscribe}
        # loopback loses next to nothing; the one event loop's lag under load may read as a long RTT
        assert peer.up_loss is not None and peer.up_loss < 0.05 and (peer.down_loss or 0.0) < 0.05
        assert 0 < peer.rtt_ms < 1000 and peer.quality in ("good", "fair")
    print("link state:", [(p.peer_id, round(p.up_kbps or 0), round(p.down_kbps or 0), round(p.rtt_ms or 0, 1))
                          for p in links.peers])

    await meeting.leave("carol")
    after = await meeting.room.link_snapshot()
    assert {peer.peer_id for peer in after.peers} == {"alice", "bob"}
    assert after.totals.consumers == 4  # two peers, each receiving the other's audio and video


METRIC_LINE = re.compile(r'^([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\} (-?[0-9.e+-]+)$')


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The Prometheus text format as /metrics writes it; any other line fails the test."""
    samples = {}
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            continue
        match = METRIC_LINE.match(line)
        assert match, f"not a metric line: {line!r}"
        labels = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group(2)))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


async def _signed_in(live: LiveServer, username: str) -> aiohttp.ClientSession:  # noqa: F811
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    login = await http.post(f"{live.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status == 200, await login.text()
    return http


async def _links(http: aiohttp.ClientSession, live: LiveServer) -> dict:  # noqa: F811
    async with http.get(f"{live.url}/api/v1/meetings/{live.world.meeting_x}/links") as response:
        assert response.status == 200, await response.text()
        return await response.json()


def _all_flowing(body: dict) -> bool:
    return len(body["peers"]) == 3 and all(
        peer["up_kbps"] and peer["down_kbps"] and all(link["bitrate_kbps"] for link in peer["subscribe"])
        for peer in body["peers"])


async def test_chair_reads_live_link_state_and_metrics(live: LiveServer) -> None:  # noqa: F811
    bots = {name: await live.bot(name) for name in ("chair", "rep_a", "applicant")}
    rep: BotClient = bots["rep_a"]
    chair_id = bots["chair"].participant_id
    clock: Callable[[BotClient], int] = lambda b: b.frames(chair_id, "video")  # noqa: E731
    await rep.wait_frames(lambda b: clock(b) >= FRAMES, 20)

    chair = await _signed_in(live, "chair")
    admin = await _signed_in(live, "admin")
    other = await _signed_in(live, "rep_a")
    try:
        body = await _links(chair, live)
        for _ in range(20):
            if _all_flowing(body):
                break
            seen = clock(rep)
            await rep.wait_frames(lambda b, s=seen: clock(b) >= s + TICK_FRAMES, 5)
            body = await _links(chair, live)
        assert body["live"] and _all_flowing(body), body
        names = {peer["peer_id"]: peer["name"] for peer in body["peers"]}
        assert set(names) == {bot.participant_id for bot in bots.values()}
        assert all(peer["quality"] in ("good", "fair") for peer in body["peers"])
        assert body["totals"]["consumers"] == 12

        async with other.get(f"{live.url}/api/v1/meetings/{live.world.meeting_x}/links") as refused:
            assert refused.status == 403  # a participant, not the chair

        async with admin.get(f"{live.url}/metrics") as response:
            assert response.status == 200
            samples = parse_metrics(await response.text())
        meeting = ("meeting", str(live.world.meeting_x))
        assert samples[("lianshen_meeting_peers", frozenset({meeting}))] == 3
        assert samples[("lianshen_meeting_consumers", frozenset({meeting}))] == 12
        for peer_id, name in names.items():
            assert samples[("lianshen_peer_info", frozenset({meeting, ("peer", peer_id), ("name", name)}))] == 1
            for direction in ("up", "down"):
                key = frozenset({meeting, ("peer", peer_id), ("direction", direction)})
                assert samples[("lianshen_link_bitrate_kbps", key)] > 0
    finally:
        for http in (chair, admin, other):
            await http.close()
