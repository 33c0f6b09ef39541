"""Who is connecting: a signed-in session (cookie), a join token, or a resume secret.

Checked once, when the socket.io connection opens, so that an anonymous socket never gets as far as
sending events; the join then decides what the identity may do in a particular meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, load_principal
from server.auth.sessions import COOKIE_NAME, find_session
from server.context import AppContext
from server.db.models import User
from server.signaling import tokens
from server.signaling.errors import SignalingError


@dataclass(frozen=True)
class Identity:
    """A person as the meeting sees them. ``key`` is what makes two connections the same person:
    their account, or for a guest the token that admitted them."""

    key: str
    display_name: str
    principal: Principal | None = None
    unit: str = ""
    """Department short name, organisation or guest unit: shown beside the name."""
    token: tokens.TokenClaims | None = None
    token_capacity: str = ""

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id if self.principal is not None else None


@dataclass(frozen=True)
class Credentials:
    """What a connection proved when it opened."""

    identity: Identity | None = None
    resume_secret: str | None = None
    remote: str = ""


def _cookie(environ: dict[str, Any]) -> str | None:
    try:
        jar = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel is not None else None


async def _principal(db: AsyncSession, user: User) -> Principal:
    return await load_principal(db, user)


def _unit(user: User) -> str:
    if user.department is not None:
        return user.department.short_name
    if user.organisation is not None:
        return user.organisation.name
    return ""


async def _user_identity(db: AsyncSession, user: User, **extra: Any) -> Identity:
    return Identity(key=f"user:{user.id}", display_name=user.display_name,
                    principal=await _principal(db, user), unit=_unit(user), **extra)


async def authenticate(app: AppContext, environ: dict[str, Any], auth: Any) -> Credentials:
    """The connection's credentials; SignalingError (refusing the connection) when there are none."""
    request = environ.get("aiohttp.request")
    remote = (request.remote if request is not None else None) or ""
    auth = auth if isinstance(auth, dict) else {}
    resume = auth.get("resume")
    if isinstance(resume, str) and 0 < len(resume) <= 128:
        return Credentials(resume_secret=resume, remote=remote)
    token = auth.get("token")
    async with app.sessions() as db:
        if token is not None:
            claims = tokens.verify(tokens.token_secret(app.settings), token)
            row = await tokens.unused_row(db, claims)
            if row.user_id is not None:
                user = await db.get(User, row.user_id)
                if user is None or not user.is_active:
                    raise SignalingError("bad_token")
                identity = await _user_identity(db, user, token=claims, token_capacity=row.capacity)
            else:
                identity = Identity(key=f"token:{row.id}", display_name=row.guest_name,
                                    unit=row.guest_unit, token=claims, token_capacity=row.capacity)
            return Credentials(identity=identity, remote=remote)
        cookie = _cookie(environ)
        found = await find_session(db, cookie) if cookie else None
        if found is None:
            raise SignalingError("unauthenticated")
        return Credentials(identity=await _user_identity(db, found[1]), remote=remote)
