"""Join tokens over the API: the chair invites a remote site or a guest to a meeting by link.

A token admits one connection once (see server.signaling.tokens); issuing one is written to the
meeting's event log so the minutes can say who was let in by link and by whom.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, model_validator

from server.db.models import User
from server.domain.roles import Role
from server.services.eventlog import append_event
from server.services.meetings import find_visible
from server.signaling import tokens
from server.signaling.admission import OBSERVER, OPEN_STATUSES
from server.web.api import API
from server.schemas.fields import DbId, line
from server.web.api.registry import Call
from server.schemas.base import Body, Out
from server.web.context import context
from server.web.errors import ApiError


class JoinTokenIn(Body):
    """Either an existing account (``user_id``) or a guest by name and unit; guests observe."""

    user_id: DbId | None = None
    guest_name: line(64, 1) | None = None  # type: ignore[valid-type]
    guest_unit: line(128) = ""  # type: ignore[valid-type]
    capacity: str = Field(OBSERVER, pattern=f"^{OBSERVER}$")
    ttl_minutes: int = Field(60, strict=True, ge=1)

    @model_validator(mode="after")
    def _one_invitee(self) -> JoinTokenIn:
        if (self.user_id is None) == (self.guest_name is None):
            raise ValueError("须且只能填写 user_id 或 guest_name 之一 / give exactly one of user_id, guest_name")
        return self


class JoinTokenOut(Out):
    id: str
    meeting_id: int
    token: str
    user_id: int | None
    guest_name: str
    guest_unit: str
    capacity: str
    expires_at: datetime


@API.route("POST", "/meetings/{id}/join-tokens", summary="Issue a single-use join link (the meeting's chair)",
           roles={Role.CHAIR}, body=JoinTokenIn, response=JoinTokenOut, status=201, tag="meetings")
async def api_issue_join_token(call: Call) -> JoinTokenOut:
    body: JoinTokenIn = call.body
    meeting = await find_visible(call.db, call.principal, call.path_int("id"))
    if meeting is None:
        raise ApiError(404)
    if meeting.chair_id != call.principal.user_id:
        raise ApiError(403, "只有本会议的主持人可以发放入会链接 / only this meeting's chair may invite by link",
                       code="not_meeting_chair")
    if meeting.status not in OPEN_STATUSES:
        raise ApiError(409, "会议已结束或已取消 / the meeting is over or cancelled", code="meeting_not_open")
    settings = context(call.request).settings
    if body.ttl_minutes > settings.signaling.join_token_max_ttl_minutes:
        raise ApiError(422, f"有效期最长 {settings.signaling.join_token_max_ttl_minutes} 分钟 / "
                       f"ttl_minutes may be at most {settings.signaling.join_token_max_ttl_minutes}",
                       details=[{"field": "ttl_minutes", "message": "too long"}])
    if body.user_id is not None:
        user = await call.db.get(User, body.user_id)
        if user is None or not user.is_active:
            raise ApiError(422, "没有该用户 / no such active user",
                           details=[{"field": "user_id", "message": "unknown user"}])
    invitee = tokens.Invitee(body.user_id, body.guest_name or "", body.guest_unit)
    token, row = await tokens.issue(call.db, tokens.token_secret(settings), meeting.id,
                                    call.principal.user_id, invitee, timedelta(minutes=body.ttl_minutes),
                                    body.capacity)
    await append_event(call.db, meeting.id, call.principal.user_id, "join_token_issued", {
        "token_id": row.id, "user_id": row.user_id, "guest_name": row.guest_name,
        "guest_unit": row.guest_unit, "capacity": row.capacity,
        "expires_at": row.expires_at.isoformat()})
    return JoinTokenOut(id=row.id, meeting_id=meeting.id, token=token, user_id=row.user_id,
                        guest_name=row.guest_name, guest_unit=row.guest_unit, capacity=row.capacity,
                        expires_at=row.expires_at)
