"""Join links: the chair of a meeting invites a remote site or a guest by a single-use token.

Issuing is an act on the meeting like any other, so it is checked here (the meeting's own chair,
an open meeting, an existing active account) rather than in the web layer, and it is written to
the meeting's event log so the minutes can say who was let in by link and by whom. The token
itself (signing, single use) is server.signaling.tokens.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import JoinToken, User
from server.services.eventlog import append_event, lock_meeting
from server.services.meetings import MeetingError, require_meeting_chair
from server.signaling import tokens
from server.signaling.admission import OPEN_STATUSES


async def issue_join_token(db: AsyncSession, actor: Principal, meeting_id: int, secret: bytes,
                           invitee: tokens.Invitee, ttl: timedelta, capacity: str) -> tuple[str, JoinToken]:
    """Store a token for the invitee and log "join_token_issued"; MeetingError (403 another
    chair, 409 a meeting over or cancelled, 422 an unknown account) before anything is written."""
    meeting = await lock_meeting(db, meeting_id)
    require_meeting_chair(actor, meeting)
    if meeting.status not in OPEN_STATUSES:
        raise MeetingError("会议已结束或已取消 / the meeting is over or cancelled", status=409,
                           code="meeting_not_open")
    if invitee.user_id is not None:
        user = await db.get(User, invitee.user_id)
        if user is None or not user.is_active:
            raise MeetingError("没有该用户 / no such active user", field="user_id")
    token, row = await tokens.issue(db, secret, meeting.id, actor.user_id, invitee, ttl, capacity)
    await append_event(db, meeting.id, actor.user_id, "join_token_issued", {
        "token_id": row.id, "user_id": row.user_id, "guest_name": row.guest_name,
        "guest_unit": row.guest_unit, "capacity": row.capacity,
        "expires_at": row.expires_at.isoformat()})
    return token, row
