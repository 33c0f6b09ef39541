"""Browsers hide their host addresses behind mDNS names (``<uuid>.local``): such a participant
still connects, through the signaling path, with nothing but peer-reflexive candidates.

The hiding bot replaces every candidate address in the SDPs it sends with an unresolvable
``.local`` name (keeping ``a=end-of-candidates``, as a browser's complete description does) and
trickles one more, so the SFU can learn its address only from the bot's own STUN checks.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from server.bot.signaling import BotClient, sign_in
from server.sfu import candidates
from tests.world import PASSWORD

from . import signaling_harness
from .meeting import Meeting, source_name
from .signaling_harness import FRAMES, LiveServer

live, signaling_overrides = signaling_harness.live, signaling_harness.signaling_overrides

pytestmark = pytest.mark.timeout(90)

CANDIDATE_ADDRESS = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( .*)$")


def hide_addresses(sdp: str) -> str:
    """``sdp`` with each candidate's address replaced by an mDNS name no resolver knows."""
    lines = []
    for line in sdp.splitlines():
        match = CANDIDATE_ADDRESS.match(line)
        if match:
            line = f"{match[1]}{uuid.uuid4()}.local{match[3]}"
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"


class HidingBot(BotClient):
    """A bot whose SDPs show mDNS names only, as a browser without camera permission sends."""

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        if event in ("publish", "subscribe_answer"):
            data = {**data, "sdp": hide_addresses(data["sdp"])}
            assert ".local" in data["sdp"] and "127.0.0.1 " not in data["sdp"].split("a=candidate")[-1]
        return await super().call(event, data)


async def test_a_participant_behind_mdns_names_sends_and_receives(live: LiveServer) -> None:
    chair = await live.bot("chair")
    hidden = HidingBot(live.url, live.world.meeting_x,
                       cookie=await sign_in(live.url, "rep_a", PASSWORD), name="rep_a")
    live.bots.append(hidden)
    await hidden.connect()
    await hidden.join()
    await hidden.publish(("video", "audio"))
    ack = await hidden.call("ice_candidate", {
        "meeting_id": live.world.meeting_x, "connection": "publish", "sdp_mid": "0",
        "candidate": f"candidate:9 1 udp 2122260223 {uuid.uuid4()}.local 50009 typ host"})
    assert ack["accepted"] is True  # taken for resolution, not refused
    await hidden.call("ice_candidate", {"meeting_id": live.world.meeting_x,
                                        "connection": "publish", "candidate": ""})

    hidden_id, chair_id = hidden.participant_id, chair.participant_id
    assert hidden_id is not None and chair_id is not None
    await chair.wait_frames(lambda b: b.frames(hidden_id, "video") >= FRAMES, 20)
    await hidden.wait_frames(lambda b: b.frames(chair_id, "video") >= FRAMES, 20)

    peer = live.signaling.meetings[live.world.meeting_x].participants[hidden_id].peer
    for pc in (peer.publish_connection, peer.subscribe_connection):
        assert pc is not None and pc.connectionState == "connected"
        ice = pc.getTransceivers()[0].receiver.transport.transport
        # aioice 0.13 internal: the pair ICE selected, learnt from the bot's own checks
        pairs = list(ice._connection._nominated.values())
        assert [p.remote_candidate.type for p in pairs] == ["prflx"]
        assert pairs[0].remote_addr[0] == "127.0.0.1"


def rename_candidates(sdp: str, names: list[str]) -> str:
    """``sdp`` with its candidates' addresses replaced by ``names`` in turn (extra lines dropped)."""
    lines, remaining = [], list(names)
    for line in sdp.splitlines():
        match = CANDIDATE_ADDRESS.match(line)
        if match:
            if not remaining:
                continue
            line = f"{match[1]}{remaining.pop(0)}{match[3]}"
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("name, address, kept", [
    ("allowed.local", "127.0.0.1", True),   # resolves into the allowed networks: used
    ("denied.local", "10.1.2.3", False),    # resolves into a denied network: refused
    ("unknown.local", None, False),         # does not resolve: skipped, nothing fails
])
async def test_mdns_candidates_are_judged_by_the_address_they_resolve_to(
        meeting: Meeting, monkeypatch: pytest.MonkeyPatch,
        name: str, address: str | None, kept: bool) -> None:
    asked: list[str] = []

    async def resolve(host: str, timeout_s: float) -> str | None:
        asked.append(host)
        return address

    monkeypatch.setattr(candidates, "resolve_host", resolve)
    alice = await meeting.join("alice", publish=False)
    peer = meeting.peers["alice"]
    offer = await alice.publish_offer()
    await alice.publish_answer(await peer.publish(rename_candidates(offer, [name]), alice.sources))
    remote = peer._remote["publish"]  # the connection's candidate gate
    await remote.settled()

    assert asked == [name]
    assert peer.publish_connection is not None
    ice = peer.publish_connection.getTransceivers()[0].receiver.transport.transport
    announced = {c.ip for c in ice.getRemoteCandidates() if c.type == "host"}
    assert announced == ({"127.0.0.1"} if kept else set())
    # either way the connection comes up: from the candidate, or peer-reflexive from alice's checks
    bob = await meeting.join("bob", publish=False)
    await bob.receiver.wait_for(lambda: bob.receiver.frames(source_name("alice", "video")) > 10, 15)


async def test_the_system_resolver_answers_known_names_and_gives_up_on_others() -> None:
    assert await candidates.resolve_host("localhost", 2.0) in {"127.0.0.1", "::1"}
    assert await candidates.resolve_host(f"{uuid.uuid4()}.local", 2.0) is None
