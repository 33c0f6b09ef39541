"""Who gets in: invitations, the lobby and the chair's decision, the lock, join tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.bot.signaling import BotError
from server.signaling import tokens

from .signaling_harness import LiveServer, issue_join_token, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


async def test_uninvited_user_waits_in_the_lobby_and_is_rejected(live: LiveServer) -> None:
    chair = await live.bot("chair", publish=())
    outsider = await live.client("rep_other")  # 自然资源局: not invited to meeting X
    ack = await outsider.join()
    assert ack["status"] == "lobby" and "participant_id" not in ack
    _, changed = await chair.wait_event(lambda n, d: n == "lobby_changed" and d["lobby"])
    assert [(e["id"], e["display_name"]) for e in changed["lobby"]] == [(ack["lobby_id"], "钱自然")]

    await chair.call("moderate", {"meeting_id": live.world.meeting_x, "action": "reject",
                                  "lobby_id": ack["lobby_id"]})
    await outsider.wait_event("lobby_rejected")
    with pytest.raises(BotError, match="lobby_rejected"):
        await outsider.join()
    assert not [d for d in chair.seen("participant_joined")]
    await live.settle()
    rejected = [e for e in await live.events() if e.type == "lobby_rejected"]
    assert [(e.actor_id, e.payload["user_id"]) for e in rejected] == [
        (live.world.user_ids["chair"], live.world.user_ids["rep_other"])]


async def test_admitted_from_the_lobby_joins_as_observer(live: LiveServer) -> None:
    chair = await live.bot("chair")
    archivist = await live.client("archivist")
    ack = await archivist.join()
    assert ack["status"] == "lobby"
    await chair.wait_event(lambda n, d: n == "lobby_changed" and d["lobby"])
    await chair.call("moderate", {"meeting_id": live.world.meeting_x, "action": "admit",
                                  "lobby_id": ack["lobby_id"]})
    await archivist.wait_event("lobby_admitted")
    joined = await archivist.join()
    assert joined["status"] == "joined" and joined["capacity"] == "observer"
    await archivist.wait_frames(lambda b: b.frames(chair.participant_id, "video") >= 10, 15)
    await live.settle()
    admitted = [e.payload for e in await live.events() if e.type == "lobby_admitted"]
    assert [p["user_id"] for p in admitted] == [live.world.user_ids["archivist"]]
    via = {p["participant_id"]: p["via"] for p in
           (e.payload for e in await live.events() if e.type == "participant_joined")}
    assert via[archivist.participant_id] == "lobby"


async def test_locked_meeting_refuses_newcomers(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    meeting = live.world.meeting_x
    await chair.call("moderate", {"meeting_id": meeting, "action": "lock"})
    await rep.wait_event(lambda n, d: n == "meeting_locked" and d["locked"])

    invited = await live.client("rep_b")
    with pytest.raises(BotError, match="meeting_locked"):
        await invited.join()
    outsider = await live.client("rep_other")
    with pytest.raises(BotError, match="meeting_locked"):  # the lobby is closed too
        await outsider.join()
    assert invited.seen("error")[0]["code"] == "meeting_locked"
    assert not chair.seen("lobby_changed")

    await chair.call("moderate", {"meeting_id": meeting, "action": "unlock"})
    assert (await invited.join())["capacity"] == "member"  # B post stands in
    await live.settle()
    types = await live.event_types()
    assert types.index("meeting_locked") < types.index("meeting_unlocked")
    await live.assert_chain_intact()


async def test_join_token_admits_a_guest_once(live: LiveServer) -> None:
    chair = await live.bot("chair")
    token = await issue_join_token(live, {"guest_name": "临沧市发改委会商点", "guest_unit": "市发改委",
                                          "ttl_minutes": 30})
    guest = await live.client(token=token)
    ack = await guest.join()
    assert ack["capacity"] == "observer" and ack["status"] == "joined"
    await guest.wait_frames(lambda b: b.frames(chair.participant_id, "video") >= 10, 15)
    _, joined = await chair.wait_event("participant_joined")
    assert joined["participant"]["display_name"] == "临沧市发改委会商点"
    assert joined["participant"]["unit"] == "市发改委" and joined["participant"]["user_id"] is None

    replay = await live.client(token=token, connect=False)
    with pytest.raises(BotError, match="token_used"):
        await replay.connect()
    await live.settle()
    rows = {e.type: e.payload for e in await live.events()}
    assert rows["join_token_issued"]["guest_name"] == "临沧市发改委会商点"
    via = [e.payload["via"] for e in await live.events() if e.type == "participant_joined"]
    assert via == ["session", "token"]


async def test_expired_forged_and_foreign_tokens_are_refused(live: LiveServer) -> None:
    secret = tokens.token_secret(live.settings)
    async with live.sessions() as db:
        expired, _ = await tokens.issue(db, secret, live.world.meeting_x, live.world.user_ids["chair"],
                                        tokens.Invitee(guest_name="过期"), timedelta(minutes=-1))
        await db.commit()
    for token, code in ((expired, "token_expired"), (expired[:-2] + "xx", "bad_token"),
                        ("not-a-token", "bad_token")):
        client = await live.client(token=token, connect=False)
        with pytest.raises(BotError, match=code):
            await client.connect()

    other = await issue_join_token(live, {"guest_name": "茶叶专家"}, meeting_id=live.world.meeting_y)
    guest = await live.client(token=other)
    with pytest.raises(BotError, match="token_wrong_meeting"):
        await guest.join()


async def test_anonymous_connection_is_refused(live: LiveServer) -> None:
    anonymous = await live.client(connect=False)
    with pytest.raises(BotError, match="unauthenticated"):
        await anonymous.connect()
