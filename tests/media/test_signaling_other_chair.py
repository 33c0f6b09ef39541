"""The chair of another meeting in the live room: not let in as chair (they knock like any outsider),
admitted as an observer, and refused every power of the chair: moderation, recording, the agenda.
The meeting's own chair is whoever chairs it now (the rule of the services, policy.is_meeting_chair)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from server.bot.signaling import BotError
from server.db.models import Meeting
from server.signaling import tokens

from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)

CHAIR_ONLY_EVENTS = {"participant_muted", "participant_removed", "meeting_locked", "recording_started",
                     "agenda_item_opened", "lobby_admitted"}


async def test_another_chair_is_an_observer_without_the_chairs_powers(live: LiveServer) -> None:
    meeting = live.world.meeting_x
    chair = await live.bot("chair", publish=("audio",))
    rep = await live.bot("rep_a", publish=("audio",))
    other = await live.client("chair_other")
    ack = await other.join()
    assert ack["status"] == "lobby"
    await chair.wait_event(lambda n, d: n == "lobby_changed" and d["lobby"])
    await chair.call("moderate", {"meeting_id": meeting, "action": "admit", "lobby_id": ack["lobby_id"]})
    await other.wait_event("lobby_admitted")
    joined = await other.join()
    assert joined["capacity"] == "observer" and "lobby" not in joined
    await live.settle()
    logged_before = await live.event_types()

    late = await live.client("rep_other")  # someone knocking: only the chair hears of it and decides
    knock = await late.join()
    assert knock["status"] == "lobby"
    await chair.wait_event(lambda n, d: n == "lobby_changed" and d["lobby"])
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("moderate", {"action": "mute", "participant_id": rep.participant_id}),
        ("moderate", {"action": "remove", "participant_id": chair.participant_id}),
        ("moderate", {"action": "lock"}),
        ("moderate", {"action": "admit", "lobby_id": knock["lobby_id"]}),
        ("recording_start", {}),
        ("recording_stop", {}),
        ("agenda_open", {"item_id": live.world.item_x}),
    ]
    for event, data in attempts:
        with pytest.raises(BotError) as refused:
            await other.call(event, {"meeting_id": meeting, **data})
        assert refused.value.code == "not_chair", (event, data)
    assert not other.seen("lobby_changed")
    await live.settle()
    assert not CHAIR_ONLY_EVENTS & set((await live.event_types())[len(logged_before):])
    assert live.recording.active == {}


async def test_a_meetings_own_chair_is_whoever_chairs_it_now(live: LiveServer) -> None:
    meeting = live.world.meeting_y
    async with live.sessions() as db:  # meeting_y handed over (as the admin's reassignment does)
        await db.execute(update(Meeting).where(Meeting.id == meeting)
                         .values(chair_id=live.world.user_ids["chair_other"]))
        await db.commit()
    new_chair = await live.client("chair_other", meeting=meeting)
    assert (await new_chair.join())["capacity"] == "chair"
    former = await live.client("chair", meeting=meeting)
    assert (await former.join())["status"] == "lobby"


async def test_a_join_link_never_makes_its_holder_the_chair(live: LiveServer) -> None:
    """Even a token row saying "chair" (the API issues observers only) admits nobody as chair."""
    async with live.sessions() as db:
        token, _ = await tokens.issue(db, tokens.token_secret(live.settings), live.world.meeting_x,
                                      live.world.user_ids["chair"],
                                      tokens.Invitee(user_id=live.world.user_ids["chair_other"]),
                                      timedelta(minutes=10), capacity="chair")
        await db.commit()
    holder = await live.client(token=token)
    assert (await holder.join())["status"] == "lobby"
