"""Hostile and broken clients: each bad input is refused with an error event and logged, and the
meeting's media carries on undisturbed."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from server.bot.signaling import BotClient, BotError
from server.signaling import tokens

from .signaling_harness import FRAMES, LiveServer, issue_join_token, live  # noqa: F401

pytestmark = pytest.mark.timeout(120)

MAX_EVENT_BYTES = 16_384


@pytest.fixture
def signaling_overrides() -> dict[str, Any]:
    return {"max_event_bytes": MAX_EVENT_BYTES, "rate_events_per_second": 10.0, "rate_burst": 40,
            "flood_disconnect_after": 50}


async def refused(client: BotClient, event: str, *args: Any) -> str:
    """Send a raw event; return the error code of its ack, checking the error event came too."""
    before = len(client.seen("error"))
    ack = await client.sio.call(event, *args, timeout=10) if args else await client.sio.call(event, timeout=10)
    assert isinstance(ack, dict) and ack["ok"] is False, ack
    code = ack["error"]["code"]
    await client.wait_event(lambda n, d, c=code: n == "error" and d["code"] == c
                            and len(client.seen("error")) > before)
    return code


async def test_bad_input_is_refused_and_the_meeting_carries_on(live: LiveServer,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    pair = ((chair, rep.participant_id), (rep, chair.participant_id))
    for bot, other in pair:
        await bot.wait_frames(lambda b, o=other: b.frames(o, "video") >= FRAMES, 20)
    counts = {bot: bot.frames(other, "video") for bot, other in pair}

    meeting_x, meeting_y = live.world.meeting_x, live.world.meeting_y
    rogue = await live.client("applicant")
    await rogue.join()
    codes: list[str] = []
    # malformed and hostile SDP
    codes.append(await refused(rogue, "publish", {"meeting_id": meeting_x, "sdp": "v=0\r\nnot sdp at all"}))
    hostile = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
               "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
               "a=rtpmap:96 VP8/90000\r\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n")
    codes.append(await refused(rogue, "publish", {"meeting_id": meeting_x, "sdp": hostile}))
    codes.append(await refused(rogue, "publish", {"meeting_id": meeting_x, "sdp": "v=0\r\n\x00\x01"}))
    codes.append(await refused(rogue, "subscribe_answer", {"meeting_id": meeting_x, "sdp": hostile}))
    wellformed = hostile + ("a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:active\r\n")
    codes.append(await refused(rogue, "subscribe_answer", {"meeting_id": meeting_x, "sdp": wellformed}))
    codes.append(await refused(rogue, "ice_candidate", {"meeting_id": meeting_x, "connection": "publish",
                                                        "candidate": "candidate:garbage"}))
    # unknown events, including ones named like socket.io's own
    codes += [await refused(rogue, name, {"meeting_id": meeting_x}) for name in ("hack", "connect", "disconnect")]
    # malformed payloads
    codes.append(await refused(rogue, "join", {"meeting_id": str(meeting_x)}))
    codes.append(await refused(rogue, "publish", {"meeting_id": meeting_x, "sdp": "v=0", "extra": 1}))
    codes.append(await refused(rogue, "moderate", {"meeting_id": meeting_x, "action": "explode"}))
    codes.append(await refused(rogue, "leave", ["not", "an", "object"]))
    codes.append(await refused(rogue, "leave"))
    # oversized
    codes.append(await refused(rogue, "publish", {"meeting_id": meeting_x, "sdp": "v=0" + "x" * MAX_EVENT_BYTES}))
    # a participant acting as chair, and acting on another meeting
    codes.append(await refused(rogue, "moderate", {"meeting_id": meeting_x, "action": "mute",
                                                   "participant_id": chair.participant_id}))
    codes.append(await refused(rogue, "moderate", {"meeting_id": meeting_x, "action": "lock"}))
    codes.append(await refused(rogue, "publish", {"meeting_id": meeting_y, "sdp": "v=0\r\n"}))
    codes.append(await refused(rogue, "join", {"meeting_id": meeting_y}))
    assert codes == ["bad_sdp", "bad_sdp", "bad_sdp", "bad_sdp", "bad_state", "bad_sdp",
                     "unknown_event", "unknown_event", "unknown_event",
                     "invalid_payload", "invalid_payload", "invalid_payload", "invalid_payload",
                     "invalid_payload", "too_large", "not_chair", "not_chair", "wrong_meeting",
                     "already_joined"]
    assert rogue.sio.connected  # refusals do not cost the connection

    # replayed and expired join tokens
    token = await issue_join_token(live, {"guest_name": "县政协会商点"})
    guest = await live.client(token=token)
    await guest.join()
    secret = tokens.token_secret(live.settings)
    async with live.sessions() as db:
        expired, _ = await tokens.issue(db, secret, meeting_x, live.world.user_ids["chair"],
                                        tokens.Invitee(guest_name="迟到"), timedelta(minutes=-5))
        await db.commit()
    for bad_token, code in ((token, "token_used"), (expired, "token_expired")):
        client = await live.client(token=bad_token, connect=False)
        with pytest.raises(BotError, match=code):
            await client.connect()
        assert client.connect_error is not None and client.connect_error["code"] == code

    # a flood from one connection: refused, then disconnected
    flooder = await live.client("rep_b")
    for _ in range(200):
        if not flooder.sio.connected:
            break
        await flooder.sio.emit("leave", {"meeting_id": meeting_x})
    await flooder.wait_event(lambda n, d: n == "error" and d["code"] == "flood", 10)
    flood_codes = [d["code"] for d in flooder.seen("error")]
    assert "rate_limited" in flood_codes and flood_codes[-1] == "flood"
    assert len(flood_codes) < 100  # a flood is not answered event for event

    # and the meeting never noticed
    for bot, other in pair:
        await bot.wait_frames(lambda b, o=other, c=counts[bot]: b.frames(o, "video") >= c + FRAMES, 15)
        sources = {(s["participant"], s["kind"]): s for s in bot.report()["sources"]}
        assert sources[(other, "video")]["decode_errors"] == 0
        assert sources[(other, "audio")]["frames"] > 0
    assert not chair.seen("error") and not rep.seen("error")
    left = [d["participant_id"] for d in chair.seen("participant_left")]
    assert rep.participant_id not in left
    await rogue.publish()  # the rogue connection still works for honest requests
    await chair.wait_frames(lambda b: b.frames(rogue.participant_id, "video") >= 10, 15)

    logged = caplog.text
    for code in set(codes) | {"token_used", "token_expired", "rate_limited", "flood"}:
        assert code in logged, code
    await live.settle()
    await live.assert_chain_intact()
