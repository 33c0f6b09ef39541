"""A live meeting reads its meeting's facts once, when it starts, and again only when the meeting
is explicitly edited: joins use what it has; a status change is taken from the record, whether the
chair starts the meeting in the room or a request moves it (told after its commit by the log hub)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from server.bot.signaling import BotError
from server.signaling import server as signaling_server
from tests.world import PASSWORD

from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


async def _set_status(live: LiveServer, status: str) -> None:
    """The chair moves the meeting along its life cycle through the REST API."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = await http.post(f"{live.url}/api/v1/auth/login",
                                json={"username": "chair", "password": PASSWORD})
        csrf = (await login.json())["csrf_token"]
        response = await http.post(f"{live.url}/api/v1/meetings/{live.world.meeting_x}/status",
                                   json={"status": status}, headers={"X-CSRF-Token": csrf})
        assert response.status == 200, await response.text()


async def test_facts_are_read_once_per_live_meeting_and_status_changes_come_from_the_record(
        live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    meeting_id = live.world.meeting_x
    reads: list[int] = []
    load = signaling_server.load_live_facts

    async def counted(db: Any, wanted: int) -> Any:
        reads.append(wanted)
        return await load(db, wanted)

    monkeypatch.setattr(signaling_server, "load_live_facts", counted)
    await live.bot("chair", publish=())
    rep = await live.client("rep_a")
    await rep.join()
    applicant = await live.client("applicant")
    await applicant.join()
    assert reads == [meeting_id]  # three joins, one read

    await _set_status(live, "live")  # through the API: taken from the record, not read again
    await live.settle()
    assert live.signaling.meetings[meeting_id].facts.status == "live"

    await _set_status(live, "ended")  # which drafts the minutes at once
    await live.settle()
    assert live.signaling.meetings[meeting_id].facts.status == "minutes_draft"
    late = await live.client("rep_b")
    with pytest.raises(BotError, match="meeting_not_open"):
        await late.join()
    assert reads == [meeting_id]


async def test_a_status_change_in_the_room_is_taken_from_the_record(
        live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    meeting_id = live.world.meeting_x
    chair = await live.bot("chair", publish=())
    meeting = live.signaling.meetings[meeting_id]
    assert meeting.facts.status == "scheduled"

    async def never(_db: Any, _wanted: int) -> Any:
        raise AssertionError("the live meeting read its facts again")

    monkeypatch.setattr(signaling_server, "load_live_facts", never)
    await chair.call("meeting_start", {"meeting_id": meeting_id})
    await live.settle()
    assert meeting.facts.status == "live"
    assert live.signaling.review.review(meeting).facts is meeting.facts
