"""Two joins of one peer id racing: the room keeps exactly one peer and closes the other.

A cascade link that reconnects while the home still handles its first attempt joins the same
`link:<node>` id twice at once; before the join loop, the second join could be overwritten by the
first without being closed, leaving a peer that no offer ever reached (a downlink with no tracks).
"""

import asyncio

import pytest

from server.sfu.room import Room
from server.sfu.settings import SfuSettings


async def _no_offer(offer: object) -> None:
    return None


@pytest.mark.asyncio
async def test_racing_rejoins_leave_one_peer_in_the_room() -> None:
    room = Room("m1", SfuSettings())
    old = await room.join("link:city", {}, _no_offer)
    old.request_negotiation()  # its close then awaits the cancelled task: the joins interleave there
    first, second = await asyncio.gather(room.join("link:city", {}, _no_offer),
                                         room.join("link:city", {}, _no_offer))
    kept = room.peers["link:city"]
    assert kept in (first, second)
    other = second if kept is first else first
    assert other._closed, "the peer that lost the race must be closed, not left running outside the room"
    await room.close()
