"""The account audit log: what an administrator did to someone's account, when, from where.

Unlocking an account and resetting its password both let someone sign in who could not before, so
each leaves a row an administrator can read later (the people page, `GET /api/v1/account-audit`).
Rows are written in the same transaction as the act (an act that fails leaves none) and the
table is append-only (triggers of migration 0007).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import AccountAudit, User
from server.schemas.base import Body, Out
from server.schemas.fields import PG_INT_MAX
from server.services.clock import CENTRE_TZ

Action = Literal["unlock", "password_reset"]


async def record_account_act(db: AsyncSession, actor: Principal | None, action: Action, subject: User,
                             detail: dict[str, Any], remote: str) -> None:
    """Append one row (flushed with the caller's work). `actor` None: an operator at the CLI."""
    db.add(AccountAudit(
        at=datetime.now(UTC), actor_id=actor.user_id if actor else None,
        actor=actor.username if actor else "(cli)", action=action, subject_id=subject.id,
        subject=subject.username, detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        remote=remote[:64]))
    await db.flush()


class AccountAuditQuery(Body):
    subject_id: int | None = Field(None, ge=1, le=PG_INT_MAX)
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class AccountAuditOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    subject_id: int
    subject: str
    detail: dict[str, Any]
    remote: str


async def read_account_audit(db: AsyncSession, query: AccountAuditQuery) -> list[AccountAuditOut]:
    """Newest first."""
    statement = select(AccountAudit).order_by(AccountAudit.id.desc())
    if query.subject_id is not None:
        statement = statement.where(AccountAudit.subject_id == query.subject_id)
    rows = await db.scalars(statement.offset(query.offset).limit(query.limit))
    return [AccountAuditOut(id=r.id, at=r.at.astimezone(CENTRE_TZ), actor=r.actor, action=r.action,
                            subject_id=r.subject_id, subject=r.subject, detail=json.loads(r.detail),
                            remote=r.remote) for r in rows]
