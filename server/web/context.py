"""What every request handler may reach: the app's context and the request's own values.

The context itself (server.context.AppContext) is not a web thing; this module only keys it, and
the per-request values the middleware sets, for aiohttp.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.context import AppContext
from server.db.models import AuthSession

CONTEXT = web.AppKey("lianshen_context", AppContext)
# Per-request values set by the middleware (see server.web.middleware).
DB = web.RequestKey("lianshen_db", AsyncSession)
# Subscripted rather than given a class: a union is not a class, and the key carries its type.
PRINCIPAL = web.RequestKey[Principal | None]("lianshen_principal")
AUTH_SESSION = web.RequestKey[AuthSession | None]("lianshen_auth_session")


def context(request: web.Request) -> AppContext:
    return request.app[CONTEXT]


def db(request: web.Request) -> AsyncSession:
    """The request's unit of work: committed when the handler succeeds, rolled back otherwise."""
    return request[DB]
