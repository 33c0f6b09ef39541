"""kill -9 of a recording server: after a restart every file plays and the manifest is rebuilt."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select

from recorder.manifest import MANIFEST_NAME
from server.bot.media import audio_clip, video_clip
from server.bot.signaling import BotClient, sign_in
from server.db.engine import create_engine, session_factory
from server.db.models import MeetingEvent
from server.services.eventlog import verify_meeting_log
from tests.world import PASSWORD, World, build_world

from .recording_support import verified

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
LOST_AT_MOST_MS = 2000


class ServerProcess:
    """`lianshen serve` as its own process, on loopback, with its own data directory."""

    def __init__(self, tmp_path: Path, database: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = tmp_path / "data"
        self.env = {**os.environ, "LIANSHEN_DATA_DIR": str(self.data_dir),
                    "LIANSHEN_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
                    "LIANSHEN_SFU_ICE_GATHER_ADDRESSES": '["127.0.0.1"]',
                    "LIANSHEN_SFU_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
                    "LIANSHEN_SFU_DENIED_NETWORKS": '["10.0.0.0/8", "169.254.0.0/16"]'}
        self.log = tmp_path / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Until the started server answers its health check (or fail with its log)."""
        assert self.process is not None
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as http:
            while True:
                assert self.process.poll() is None, self.log.read_text()[-3000:]
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "server did not start: " + self.log.read_text()[-3000:]
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest_asyncio.fixture
async def world_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[tuple[Path, World]]:
    database = tmp_path / "lianshen.db"
    shutil.copy(sqlite_template, database)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        yield database, await build_world(session_factory(engine))
    finally:
        await engine.dispose()


async def bot(server: ServerProcess, meeting: int, username: str) -> BotClient:
    client = BotClient(server.url, meeting, cookie=await sign_in(server.url, username, PASSWORD),
                       name=username)
    await client.connect()
    await client.join()
    await client.publish()
    return client


async def test_kill_9_during_recording_leaves_playable_files_and_a_rebuilt_manifest(
        tmp_path: Path, world_db: tuple[Path, World]) -> None:
    database, world = world_db
    meeting = world.meeting_x
    server = ServerProcess(tmp_path, database)
    bots: list[BotClient] = []
    # the bots' clips are encoded once per process: not while the server waits for their pings
    await asyncio.to_thread(lambda: (video_clip(), audio_clip()))
    try:
        await server.start()
        chair = await bot(server, meeting, "chair")
        rep = await bot(server, meeting, "rep_a")
        bots += [chair, rep]
        await chair.wait_frames(lambda b: b.frames(rep.participant_id, "audio") >= 25, 30)
        key = (await chair.call("recording_start", {"meeting_id": meeting}))["recording_key"]
        started = time.monotonic()
        count = chair.frames(rep.participant_id, "audio")
        await chair.wait_frames(lambda b: b.frames(rep.participant_id, "audio") >= count + 250, 30)
        server.kill()
        killed_ms = (time.monotonic() - started) * 1000
        directory = server.data_dir / "recordings" / str(meeting) / key
        assert not (directory / MANIFEST_NAME).exists()
        for client in bots:
            await client.kill()

        await server.start()  # recovery runs before the server listens
        manifest = verified(directory)
        assert manifest.status == "recovered" and len(manifest.tracks) == 4
        for track in manifest.tracks:
            assert track.state == "recovered"
            assert track.end_ms >= killed_ms - LOST_AT_MOST_MS, (track, killed_ms)
            assert track.start_ms <= 500

        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        try:
            async with session_factory(engine)() as db:
                rows = list(await db.scalars(select(MeetingEvent).where(
                    MeetingEvent.meeting_id == meeting, MeetingEvent.type.like("recording_%"))
                    .order_by(MeetingEvent.seq)))
                assert [(r.type, r.payload["recording_key"]) for r in rows] == [
                    ("recording_started", key), ("recording_stopped", key)]
                assert rows[1].actor_id is None
                assert await verify_meeting_log(db, meeting) == []
        finally:
            await engine.dispose()

        server.stop()
        await server.start()  # a second restart finds nothing left to do
        assert "cannot be recovered" not in server.log.read_text()
        assert verified(directory) == manifest
    finally:
        for client in bots:
            await client.kill()
        server.stop()
