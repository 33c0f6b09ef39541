"""The session cookie's attributes, decided in one place for pages and API alike."""

from __future__ import annotations

from aiohttp import web

from server.auth.sessions import COOKIE_NAME
from server.web.context import context


def _secure(request: web.Request) -> bool:
    mode = context(request).settings.auth.secure_cookies
    if mode != "auto":
        return mode == "always"
    return request.secure or request.headers.get("X-Forwarded-Proto") == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """HttpOnly (scripts never see it), SameSite=Lax (no cross-site posts), Secure over TLS."""
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Lax", path="/",
                        secure=_secure(request),
                        max_age=context(request).settings.auth.session_hours * 3600)


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")
