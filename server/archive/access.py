"""The archive's access log: who searched, viewed or downloaded what, when, and from where.

Rows are written in the same transaction as the answer they describe, so a served request is
always logged and a refused one leaves nothing half-done; the table is append-only (triggers of
migration 0006). Only the administrator reads it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
        role=principal.role.value if principal else "operator", action=action, target=target[:MAX_TARGET],
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), remote=(remote or "")[:64]))
    await db.flush()


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
