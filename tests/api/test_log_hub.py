"""The log hub (server/services/log_hub.py) tells what sessions append to meetings' logs once, and only
once it is committed: not what rolls back (a savepoint included), not what the live meeting wrote
itself; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from record.events import ChatMessage, Logged
from server.services.eventlog import append_event, read_record
from server.services.log_hub import LogHub
from tests.world import build_world

WAIT_S = 10.0


def said(logged: Logged) -> str:
    return logged.event.text if isinstance(logged.event, ChatMessage) else logged.event.type


class Heard:
    """What a follower of the hub was told, in order: (meeting id, text, seq)."""

    def __init__(self) -> None:
        self.told: list[tuple[int, str, int | None]] = []
        self._changed = asyncio.Event()

    def __call__(self, meeting_id: int, logged: Logged) -> None:
        self.told.append((meeting_id, said(logged), logged.seq))
        self._changed.set()

    async def until(self, count: int) -> list[tuple[int, str, int | None]]:
        while len(self.told) < count:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), WAIT_S)
        return self.told


async def test_only_committed_appends_are_told(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await build_world(db_sessions)
    x, y, chair = world.meeting_x, world.meeting_y, world.user_ids["chair"]
    hub = LogHub()
    hub.watch(db_sessions)
    heard = Heard()
    hub.follow(heard)

    async def chat(db: AsyncSession, meeting_id: int, text: str, *, from_room: bool = False) -> None:
        await append_event(db, meeting_id, chair, "chat_message", {"text": text, "to": None}, from_room=from_room)

    async with db_sessions() as db:  # rolled back
        await chat(db, x, "回滚")
        await db.rollback()
    async with db_sessions() as db:  # closed unfinished
        await chat(db, x, "未提交")
    async with db_sessions() as db:  # the live meeting's own write: it took the event as it wrote it
        await chat(db, x, "会场", from_room=True)
        await db.commit()
    async with db_sessions() as db:
        await chat(db, x, "一")
        with contextlib.suppress(RuntimeError):
            async with db.begin_nested():  # a savepoint that rolls back takes its event with it
                await chat(db, x, "撤回")
                raise RuntimeError("the minutes could not be drafted")
        async with db.begin_nested():
            await chat(db, y, "二")
        await chat(db, x, "三")  # its own awaits give a premature telling every chance to run
        assert heard.told == []  # nothing before the commit
        await db.commit()

    assert await heard.until(3) == [(x, "一", 2), (y, "二", 1), (x, "三", 3)]
    async with db_sessions() as db:  # what was told is exactly what the log holds beyond the room's own
        stored = [(said(logged), logged.seq) for logged in await read_record(db, x)]
    assert stored == [("会场", 1), ("一", 2), ("三", 3)]
