"""Restore drill (issue 11): the demo with a finished meeting whose minutes are sealed, a case
material PDF, a finished recording and one still being written is backed up by `lianshen backup`
while the server runs and the event log and the live recording keep growing. A copy with one byte
changed is refused (verify and restore name the file, nothing is written); the backup is restored
into an empty data directory and a fresh database; `lianshen serve` starts on it and recovers the
unfinished recording; then every event chain verifies, the sealed minutes keep their SHA-256 and
every file matches. Refusals: a non-empty output, data directory or database. SQLite and
PostgreSQL (the database_url fixture), every command as the operator runs it (a subprocess)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from recorder.manifest import Manifest
from recorder.session import RecordingInfo, RecordingSession
from server.archive.integrity import verify_archive
from server.auth.principal import load_principal
from server.db.engine import create_engine, session_factory
from server.db.models import AgendaEntry, ApprovalItem, InvestmentCase, Meeting, MeetingEvent, MinutesVersion, User
from server.demo.seed import seed_demo, write_demo_json
from server.recording.store import logged_events, new_key, recordings_root
from server.services.calendar import seed_calendar
from server.services.eventlog import append_event, check_meeting_log
from server.services.materials import add_material, store_pdf
from server.services.minutes_state import content_sha256
from server.services.minutes_workflow import finalise, send_for_confirmation
from server.settings import Settings, load_settings
from server.signaling.tokens import token_secret
from tests.api.archive_support import lianshen
from tests.api.materials_support import pdf
from tests.conftest import _pg_exec, _pg_url
from tests.unit.recorder_support import FakeClock, Feed, camera, info, microphone

pytestmark = pytest.mark.timeout(600)


@dataclass
class Demo:
    ended: int
    scheduled: int
    chair: str
    chair_password: str
    minutes_sha256: str
    material: str  # data-dir relative path of the material PDF
    finished_recording: str
    live: RecordingSession
    live_feed: Feed
    live_recording: str


def _recording(data_dir: Path, meeting_id: int, title: str) -> tuple[RecordingSession, Feed]:
    """A real recording (recorder library) of a camera and a microphone, on a fake clock."""
    clock = FakeClock()
    key = new_key(recordings_root(data_dir), meeting_id, datetime.now(UTC))
    session = RecordingSession(recordings_root(data_dir) / str(meeting_id) / key,
                               RecordingInfo(key, meeting_id, title), clock=clock)
    session.start()
    feed = Feed(session, clock, origin_ns=clock.ns)
    feed.add(camera(start_ms=0), info("chair", "video", "video/VP8"))
    feed.add(microphone(start_ms=0), info("chair", "audio", "audio/opus"))
    feed.run(2000)
    return session, feed


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def build_demo(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Demo:
    async with sessions() as db:
        await seed_calendar(db)
        summary = await seed_demo(db, settings)
        await db.commit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    write_demo_json(settings.data_dir, summary)
    token_secret(settings)  # data_dir/secret.key (0600), as the first join token creates it
    ended = next(m["id"] for m in summary["meetings"] if m["status"] == "minutes_draft")
    scheduled = next(m["id"] for m in summary["meetings"] if m["status"] == "scheduled")
    async with sessions() as db:
        meeting = await db.get(Meeting, ended)
        assert meeting is not None
        chair_user = await db.get(User, meeting.chair_id)
        assert chair_user is not None
        chair = await load_principal(db, chair_user)
        await send_for_confirmation(db, chair, ended)
        sealed = await finalise(db, chair, ended, "演练：部分部门未在期限内确认", settings)
        case = (await db.scalars(select(InvestmentCase).join(ApprovalItem).join(AgendaEntry)
                                 .where(AgendaEntry.meeting_id == ended))).first()
        assert case is not None
        applicant = await db.scalar(select(User).where(User.role == "applicant",
                                                       User.organisation_id == case.organisation_id))
        assert applicant is not None
        stored = await store_pdf(_chunks(pdf(3)), settings.data_dir, 10 << 20)
        await add_material(db, await load_principal(db, applicant), case, stored, "可行性研究报告.pdf", "可行性研究报告")
        events = await logged_events(db, ended)
        await db.commit()
    assert sealed.sha256
    finished, _ = _recording(settings.data_dir, ended, meeting.title)
    manifest = await asyncio.to_thread(finished.stop, events)
    assert manifest.status == "complete" and manifest.tracks
    live, live_feed = _recording(settings.data_dir, scheduled, "进行中的会议")
    password = next(a["password"] for a in summary["accounts"] if a["username"] == chair_user.username)
    return Demo(ended, scheduled, chair_user.username, password, sealed.sha256,
                stored.path.relative_to(settings.data_dir).as_posix(),
                finished.directory.relative_to(settings.data_dir).as_posix(), live, live_feed,
                live.directory.relative_to(settings.data_dir).as_posix())


async def _count_events(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as db:
        return await db.scalar(select(func.count()).select_from(MeetingEvent)) or 0


async def keep_writing(sessions: async_sessionmaker[AsyncSession], demo: Demo, done: asyncio.Event) -> int:
    """What a running meeting does while the backup runs: the log grows, the recording grows."""
    written = 0
    while not done.is_set():
        async with sessions() as db:
            await append_event(db, demo.scheduled, None, "chat_message",
                               {"text": f"备份进行中的发言 {written}", "to": None})
            await db.commit()
        demo.live_feed.run(demo.live_feed.now_ms + 100)
        written += 1
    return written


def _files(root: Path) -> dict[str, Path]:
    return {path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*"))
            if path.is_file() and not path.name.startswith(".")}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Target:
    """A fresh place to restore into: an empty (absent) data dir and an empty database."""

    settings: Settings

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


@asynccontextmanager
async def fresh_target(settings: Settings, tmp_path: Path) -> AsyncIterator[Target]:
    if settings.database_url.startswith("sqlite"):
        yield Target(load_settings(data_dir=tmp_path / "restored",
                                   database={"url": f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"}))
        return
    name = f"lianshen_r_{uuid.uuid4().hex[:12]}"
    await _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield Target(load_settings(data_dir=tmp_path / "restored", database={"url": _pg_url(name)}))
    finally:
        await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _tables(url: str) -> list[str]:
    if url.startswith("sqlite") and not Path(url.split("///", 1)[1]).exists():
        return []
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _serve_and_read_minutes(target: Target, demo: Demo) -> str:
    """Start `lianshen serve` on the restored installation; sign in as the chair and fetch the
    sealed minutes; return the SHA-256 the server states for them."""
    port = _free_port()
    env = {**os.environ, "LIANSHEN_DATABASE_URL": target.settings.database_url, "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir",
        str(target.data_dir), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    output: list[str] = []

    async def started() -> None:
        while line := await process.stdout.readline():
            output.append(line.decode())
            if "running at" in output[-1]:
                return
        raise AssertionError("lianshen serve stopped:\n" + "".join(output))

    drain: asyncio.Task[bytes] | None = None
    try:
        await asyncio.wait_for(started(), 120)
        drain = asyncio.create_task(process.stdout.read())  # keep the pipe from filling up
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
            async with http.post(f"{base}/api/v1/auth/login",
                                 json={"username": demo.chair, "password": demo.chair_password}) as response:
                assert response.status == 200, await response.text()
            async with http.get(f"{base}/api/v1/meetings/{demo.ended}/minutes/versions/1/document",
                                params={"format": "json"}) as response:
                assert response.status == 200, await response.text()
                body = await response.read()
                stated = response.headers["X-Minutes-SHA256"]
        assert hashlib.sha256(body).hexdigest() == stated
        return stated
    finally:
        process.terminate()
        await process.wait()
        if drain is not None:
            await drain


async def test_restore_drill(client: TestClient, db_sessions, settings: Settings, tmp_path: Path) -> None:
    demo = await build_demo(db_sessions, settings)
    out = tmp_path / "backups" / "nightly"
    try:
        before = await _count_events(db_sessions)
        done = asyncio.Event()
        writer = asyncio.create_task(keep_writing(db_sessions, demo, done))
        try:
            code, _, err = await lianshen(settings, "backup", "--out", str(out), "--data-dir", str(settings.data_dir))
        finally:
            done.set()
            written = await writer
        after = await _count_events(db_sessions)
        assert code == 0, err
        assert written > 0 and after == before + written
        assert (await client.get("/healthz")).status == 200  # the server ran throughout
        assert demo.live_recording in err  # named as still recording
        source = {name: path.read_bytes() for name, path in _files(settings.data_dir).items()}
    finally:
        await asyncio.to_thread(demo.live.stop)  # closing rewrites the header: compare with before
    assert (out / "bagit.txt").is_file() and oct(out.stat().st_mode & 0o777) == "0o700"
    info_text = (out / "bag-info.txt").read_text(encoding="utf-8")
    assert f"Lianshen-Unfinished-Recording: {demo.live_recording}" in info_text

    code, _, err = await lianshen(settings, "backup", "--out", str(out), "--data-dir", str(settings.data_dir))
    assert code == 2 and "not an empty folder" in err
    code, _, err = await lianshen(settings, "backup", "--out", str(settings.data_dir / "b"),
                                  "--data-dir", str(settings.data_dir))
    assert code == 2 and "inside the data directory" in err

    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    flipped = damaged / "data" / "files" / demo.material
    content = bytearray(flipped.read_bytes())
    content[len(content) // 2] ^= 0x01
    flipped.write_bytes(bytes(content))
    named = f"data/files/{demo.material}"
    code, stdout, err = await lianshen(settings, "backup", "verify", str(damaged))
    assert code == 1 and named in stdout and "checksum mismatch" in stdout, stdout + err
    code, stdout, _ = await lianshen(settings, "backup", "verify", str(out))
    assert code == 0, stdout

    async with fresh_target(settings, tmp_path) as target:
        restored_url = target.settings.database_url
        code, stdout, err = await lianshen(target.settings, "restore", str(damaged), "--data-dir",
                                           str(target.data_dir))
        assert code == 1 and named in stdout and "nothing was restored" in err, stdout + err
        assert not target.data_dir.exists() and await _tables(restored_url) == []

        code, _, err = await lianshen(settings, "restore", str(out), "--data-dir", str(tmp_path / "empty"))
        assert code == 2 and "the target database is not empty" in err  # the source's own database

        code, _, err = await lianshen(target.settings, "restore", str(out), "--data-dir", str(target.data_dir))
        assert code == 0, err
        code, _, err = await lianshen(target.settings, "restore", str(out), "--data-dir", str(target.data_dir))
        assert code == 2 and "the data directory is not empty" in err

        restored = _files(target.data_dir)
        live_prefix = demo.live_recording + "/"
        assert {name for name in restored if not name.startswith(live_prefix)} == \
               {name for name in source if not name.startswith(live_prefix)}
        for name, path in restored.items():
            if name.startswith(live_prefix):  # copied while it grew: what a crash then would leave
                assert source[name].startswith(path.read_bytes()), name
            else:
                assert _sha256(path) == hashlib.sha256(source[name]).hexdigest(), name
        assert demo.material in restored and f"{demo.finished_recording}/manifest.json" in restored
        assert f"{demo.live_recording}/journal.jsonl" in restored
        assert f"{demo.live_recording}/manifest.json" not in restored
        assert restored["secret.key"].stat().st_mode & 0o777 == 0o600

        assert await _serve_and_read_minutes(target, demo) == demo.minutes_sha256
        recovered = Manifest.load(target.data_dir / demo.live_recording)
        assert recovered.status == "recovered"

        engine = create_engine(restored_url)
        try:
            async with session_factory(engine)() as db:
                report = await verify_archive(db, target.data_dir)
                assert report.ok, [p.line() for p in report.problems]
                assert report.minutes_versions >= 1 and report.recordings == 2
                for meeting_id in await db.scalars(select(Meeting.id)):
                    assert (await check_meeting_log(db, meeting_id)).intact, meeting_id
                count = await db.scalar(select(func.count()).select_from(MeetingEvent))
                assert before <= count <= after  # the database as it was at one instant of the backup
                version = await db.scalar(select(MinutesVersion).where(MinutesVersion.status == "final"))
                assert version is not None and version.sha256 == demo.minutes_sha256
                assert content_sha256(version.content) == demo.minutes_sha256
                await db.rollback()  # verify_archive noted first-seen fixity: not part of the drill
        finally:
            await engine.dispose()
        assert json.loads((target.data_dir / "demo.json").read_text(encoding="utf-8"))["accounts"]
