"""The archive's access log: who searched, viewed or downloaded what, when, and from where.

A served request's row is written in the same transaction as the answer it describes, so what
was served is always logged. A refused attempt (a case outside the caller's scope, a file the
dossier does not list) is logged too, in a short transaction of its own, because the request's
transaction is rolled back with the refusal and an archive's log must still show who tried to open
what; its detail carries {"refused": status}. The table is append-only (triggers of migration
0006). Only the administrator reads it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.db.models import ArchiveAccess
from server.schemas.base import Body, Out
from server.services.clock import CENTRE_TZ

Action = Literal["search", "view", "download", "export"]
MAX_TARGET = 256


async def record_access(db: AsyncSession, principal: Principal | None, action: Action, target: str,
                        detail: dict[str, object] | None = None, remote: str | None = None) -> None:
    """Append one access row (flushed with the caller's work). `principal` None: a CLI operator."""
    db.add(ArchiveAccess(
        at=datetime.now(UTC), user_id=principal.user_id if principal else None,
        username=principal.username if principal else "(cli)",
        role=principal.role.value if principal else "operator", action=action,
        target=_printable(target)[:MAX_TARGET],
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), remote=(remote or "")[:64]))
    await db.flush()


async def record_refusal(sessions: async_sessionmaker[AsyncSession], principal: Principal, action: Action,
                         target: str, status: int, remote: str | None = None) -> None:
    """Log a refused attempt in its own transaction (see the module doc); the caller has already
    rolled its own transaction back, so on SQLite this short write waits for no other."""
    async with sessions() as db:
        await record_access(db, principal, action, target, {"refused": status}, remote)
        await db.commit()


def _printable(value: str) -> str:
    """A target as the log can store and show it: a refused name is whatever a client sent, and a
    NUL or a lone surrogate would make PostgreSQL refuse the row."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in value)


class ArchiveAccessQuery(Body):
    username: Annotated[str, Field(max_length=64)] = ""
    action: Action | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class ArchiveAccessOut(Out):
    id: int
    at: datetime
    username: str
    role: str
    action: str
    target: str
    detail: str
    remote: str


async def read_access_log(db: AsyncSession, query: ArchiveAccessQuery) -> list[ArchiveAccessOut]:
    """Newest first."""
    statement = select(ArchiveAccess).order_by(ArchiveAccess.id.desc())
    if query.username:
        statement = statement.where(ArchiveAccess.username == query.username)
    if query.action:
        statement = statement.where(ArchiveAccess.action == query.action)
    rows = await db.scalars(statement.offset(query.offset).limit(query.limit))
    return [ArchiveAccessOut(id=r.id, at=r.at.astimezone(CENTRE_TZ), username=r.username, role=r.role,
                      action=r.action, target=r.target, detail=r.detail, remote=r.remote) for r in rows]
