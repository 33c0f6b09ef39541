"""Join tokens over the API: the chair invites a remote site or a guest to a meeting by link.

A token admits one connection once (see server.signaling.tokens); who may issue one, and the
event-log entry, are server.services.join_tokens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field, model_validator

from server.domain.roles import Role
from server.schemas.base import Body, Out
from server.schemas.fields import DbId, one_line
from server.services.join_tokens import issue_join_token
from server.services.meetings import MeetingError, find_visible
from server.signaling import tokens
from server.signaling.admission import OBSERVER
from server.web.api import API
from server.web.api.meetings import refusal
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError


class JoinTokenIn(Body):
    """Either an existing account (``user_id``) or a guest by name and unit; guests observe."""

    user_id: DbId | None = None
    guest_name: Annotated[str, one_line(64, 1)] | None = None
    guest_unit: Annotated[str, one_line(128)] = ""
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
    settings = context(call.request).settings
    if body.ttl_minutes > settings.signaling.join_token_max_ttl_minutes:
        raise ApiError(422, f"有效期最长 {settings.signaling.join_token_max_ttl_minutes} 分钟 / "
                       f"ttl_minutes may be at most {settings.signaling.join_token_max_ttl_minutes}",
                       details=[{"field": "ttl_minutes", "message": "too long"}])
    invitee = tokens.Invitee(body.user_id, body.guest_name or "", body.guest_unit)
    try:
        token, row = await issue_join_token(call.db, call.principal, meeting.id, tokens.token_secret(settings),
                                            invitee, timedelta(minutes=body.ttl_minutes), body.capacity)
    except MeetingError as error:
        raise refusal(error) from None
    return JoinTokenOut(id=row.id, meeting_id=meeting.id, token=token, user_id=row.user_id,
                        guest_name=row.guest_name, guest_unit=row.guest_unit, capacity=row.capacity,
                        expires_at=row.expires_at)
