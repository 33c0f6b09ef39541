"""A real Lianshen server on 127.0.0.1 (SQLite) with real bots, for the signaling tests.

Test modules import the fixtures from here (tests/media/conftest.py belongs to the SFU tests and
defines its own ``settings``). Everything listens and gathers on loopback only.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.app import build_app
from server.bot.signaling import BotClient, sign_in
from server.db.engine import create_engine, session_factory
from server.db.models import MeetingEvent
from server.live_recording import RECORDING
from server.recording.desk import RecordingDesk
from server.services.eventlog import verify_meeting_log
from server.settings import Settings, load_settings
from server.signaling import SIGNALING, Signaling
from tests.world import PASSWORD, World, build_world

FRAMES = 45  # 1.5 s of video
# The bots' socket.io client (python-engineio) gives up when it has sent nothing for
# max(ping interval, ping timeout) + 5 s, i.e. when the server's ping (every 10 s) is 5 s late: on a
# loaded two-core machine, with the server and the bots on one event loop, it can be, and a seated
# participant was dropped between two steps of a test. The tests' server waits longer for a pong,
# which gives the clients that much more patience too (a module's own overrides still win).
HEARTBEAT = {"ping_timeout_seconds": 60}


@dataclass
class LiveServer:
    """The running app, its database and the bots a test started (closed at teardown)."""

    url: str
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    world: World
    app: web.Application
    bots: list[BotClient] = field(default_factory=list)

    @property
    def signaling(self) -> Signaling:
        return self.app[SIGNALING]

    @property
    def recording(self) -> RecordingDesk:
        return self.app[RECORDING]

    async def client(self, username: str | None = None, *, token: str | None = None,
                     meeting: int | None = None, connect: bool = True) -> BotClient:
        """A connected (not joined) client: signed in as ``username`` or holding ``token``."""
        cookie = await sign_in(self.url, username, PASSWORD) if username else None
        bot = BotClient(self.url, meeting or self.world.meeting_x, cookie=cookie, token=token,
                        name=username or "guest")
        self.bots.append(bot)
        if connect:
            await bot.connect()
        return bot

    async def bot(self, username: str, publish: Sequence[str] = ("video", "audio"),
                  meeting: int | None = None) -> BotClient:
        """A joined participant publishing ``publish``."""
        bot = await self.client(username, meeting=meeting)
        await bot.join()
        if publish:
            await bot.publish(publish)
        return bot

    async def settle(self, meeting_id: int | None = None) -> None:
        """Wait until the live meeting has sent and logged everything so far."""
        live = self.signaling.meetings.get(meeting_id or self.world.meeting_x)
        if live is not None:
            await live.flush()

    async def events(self, meeting_id: int | None = None) -> list[MeetingEvent]:
        async with self.sessions() as db:
            rows = await db.scalars(select(MeetingEvent).where(
                MeetingEvent.meeting_id == (meeting_id or self.world.meeting_x)).order_by(MeetingEvent.seq))
            return list(rows)

    async def event_types(self, meeting_id: int | None = None) -> list[str]:
        return [row.type for row in await self.events(meeting_id)]

    async def assert_chain_intact(self, meeting_id: int | None = None) -> None:
        async with self.sessions() as db:
            assert await verify_meeting_log(db, meeting_id or self.world.meeting_x) == []


@pytest.fixture
def signaling_overrides() -> dict[str, Any]:
    """[signaling] settings for the test's server; a test module may override this fixture."""
    return {}


@pytest_asyncio.fixture
async def live(tmp_path: Path, sqlite_template: Path,
               signaling_overrides: dict[str, Any]) -> AsyncIterator[LiveServer]:
    database = tmp_path / "lianshen.db"
    shutil.copy(sqlite_template, database)
    settings = load_settings(
        data_dir=tmp_path / "data",
        database={"url": f"sqlite+aiosqlite:///{database}"},
        sfu={"ice_gather_addresses": ["127.0.0.1"], "allowed_networks": ["127.0.0.0/8"],
             "denied_networks": ["10.0.0.0/8", "169.254.0.0/16"]},
        signaling={**HEARTBEAT, **signaling_overrides},
    )
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    world = await build_world(sessions)
    app = build_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    live = LiveServer(f"http://127.0.0.1:{server.port}", settings, sessions, world, app)
    try:
        yield live
    finally:
        for bot in live.bots:
            await bot.close()
        await server.close()
        await engine.dispose()


async def issue_join_token(live: LiveServer, body: dict[str, Any], meeting_id: int | None = None) -> str:
    """A join token from the real endpoint, as the meeting's chair."""
    import aiohttp

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = await http.post(f"{live.url}/api/v1/auth/login",
                                json={"username": "chair", "password": PASSWORD})
        csrf = (await login.json())["csrf_token"]
        response = await http.post(
            f"{live.url}/api/v1/meetings/{meeting_id or live.world.meeting_x}/join-tokens",
            json=body, headers={"X-CSRF-Token": csrf})
        assert response.status == 201, await response.text()
        return (await response.json())["token"]
