"""Request pipeline: a database unit of work, who is asking, and CSRF / cross-origin protection."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from server.auth.principal import Principal, load_principal
from server.auth.sessions import COOKIE_NAME, find_session
from server.web.context import AUTH_SESSION, DB, PRINCIPAL, context
from server.web.errors import ApiError, Handler

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@web.middleware
async def db_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One transaction per request, committed only on success: a refused request writes nothing."""
    async with context(request).sessions() as session:
        request[DB] = session
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Redirects are raised in aiohttp: a raised 3xx is a success.
            await (session.commit() if exc.status < 400 else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        if response.status < 400:
            await session.commit()
        else:
            await session.rollback()
        return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach request[PRINCIPAL] (or None) from the session cookie."""
    request[PRINCIPAL] = None
    request[AUTH_SESSION] = None
    token = request.cookies.get(COOKIE_NAME)
    if token:
        found = await find_session(request[DB], token)
        if found is not None:
            session_row, user = found
            # Detached so that a rollback (any refused request) does not expire it: error pages
            # rendered after the rollback still read its CSRF token.
            request[DB].expunge(session_row)
            request[AUTH_SESSION] = session_row
            request[PRINCIPAL] = await load_principal(request[DB], user)
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests from other sites.

    Signed-in requests must echo the session's CSRF token (header for scripts, form field for
    pages); anonymous ones (the login form) must at least come from our own origin.
    """
    if request.method in UNSAFE_METHODS:
        if not _same_origin(request):
            raise ApiError(403, "跨站请求被拒绝 / cross-site request refused", code="csrf")
        session_row = request[AUTH_SESSION]
        if session_row is not None:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"
            ):
                sent = (await request.post()).get(CSRF_FIELD)
            if not isinstance(sent, str) or not hmac.compare_digest(sent, session_row.csrf_token):
                raise ApiError(403, "CSRF 校验失败，请刷新页面后重试 / CSRF check failed, reload the page",
                               code="csrf")
    return await handler(request)


def principal(request: web.Request) -> Principal | None:
    return request[PRINCIPAL]
