"""A status change made over HTTP (the meeting page's form or the API) reaches the live room once,
after its commit, through the log hub (server/services/log_hub.py): the room hears one
``review_state`` with the new status, and a change whose transaction rolls back reaches the room
not at all (nothing is told, and the live meeting still admits newcomers as the record says)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from record.events import MeetingStatusChanged
from server.services.eventlog import APPENDED
from server.web.context import CONTEXT
from tests.world import PASSWORD

from .review_support import Seat, seat, seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(180)
WAIT_S = 30.0  # generous: a loaded two-core machine


@asynccontextmanager
async def chair_http(live: LiveServer) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:  # noqa: F811
    """The chair signed in as a browser is: the session cookie and its CSRF token."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{live.url}/api/v1/auth/login",
                             json={"username": "chair", "password": PASSWORD}) as login:
            assert login.status == 200, await login.text()
            yield http, (await login.json())["csrf_token"]


async def change_status(live: LiveServer, way: str, status: str) -> int:  # noqa: F811
    """Post the status change the way a chair does (the meeting page's form, or the API); the
    HTTP status of the answer (redirects not followed)."""
    meeting = live.world.meeting_x
    async with chair_http(live) as (http, csrf):
        if way == "page":
            response = await http.post(f"{live.url}/meetings/{meeting}/status", allow_redirects=False,
                                       data={"csrf_token": csrf, "status": status, "note": ""})
        else:
            response = await http.post(f"{live.url}/api/v1/meetings/{meeting}/status",
                                       json={"status": status, "note": ""}, headers={"X-CSRF-Token": csrf})
        async with response:
            await response.read()
            return response.status


@contextmanager
def status_commits_fail(live: LiveServer) -> Iterator[None]:  # noqa: F811
    """While open, the commit of a transaction that changed a meeting's status fails (as a lost
    database connection would make it): the request's transaction rolls back."""
    session_class = live.app[CONTEXT].sessions.kw["sync_session_class"]

    def refuse(session: Session) -> None:
        appended: list[tuple[int, Any]] = session.info.get(APPENDED, [])
        if any(isinstance(logged.event, MeetingStatusChanged) for _, logged in appended):
            raise RuntimeError("test: the database went away at commit")

    event.listen(session_class, "before_commit", refuse)
    try:
        yield
    finally:
        event.remove(session_class, "before_commit", refuse)


async def marker(rep: Seat) -> None:
    """A broadcast after everything the room was told before it (the room's outbox is in order):
    rep raises a hand and waits to see it."""
    await rep.do("hand_raise")
    await rep.state_where(lambda s: rep.id in s["hands"], timeout=WAIT_S)


def status_notices(rep: Seat, status: str) -> list[dict[str, Any]]:
    """The review states carrying ``status`` that reached rep before the marker (no hand up)."""
    return [s for s in rep.bot.seen("review_state") if s["meeting_status"] == status and not s["hands"]]


@pytest.mark.parametrize("way", ["page", "api"])
async def test_a_status_change_is_told_to_the_room_once(live: LiveServer, way: str) -> None:  # noqa: F811
    _chair, rep = await seats(live, "chair", "rep_a")
    assert await change_status(live, way, "live") in (200, 302)
    await rep.state_where(lambda s: s["meeting_status"] == "live", timeout=WAIT_S)
    await marker(rep)
    assert len(status_notices(rep, "live")) == 1, rep.bot.seen("review_state")
    await live.settle()
    assert (await live.event_types()).count("meeting_status_changed") == 1


@pytest.mark.parametrize("way", ["page", "api"])
async def test_a_status_change_that_rolls_back_is_not_told(live: LiveServer, way: str) -> None:  # noqa: F811
    chair, rep = await seats(live, "chair", "rep_a")
    await chair.do("meeting_start")
    await rep.state_where(lambda s: s["meeting_status"] == "live", timeout=WAIT_S)
    with status_commits_fail(live):
        assert await change_status(live, way, "ended") == 500
    await marker(rep)
    assert status_notices(rep, "ended") == [] and status_notices(rep, "minutes_draft") == []
    # the live meeting goes by the record, which still says live: a newcomer is let in
    newcomer = await seat(live, "applicant")
    assert newcomer.review["meeting_status"] == "live"
    await live.settle()
    assert (await live.event_types()).count("meeting_status_changed") == 1
