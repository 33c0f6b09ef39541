"""The session cookie's attributes, decided in one place for pages and API alike."""

from __future__ import annotations

from aiohttp import web

from server.auth.client_address import is_trusted_proxy
from server.auth.sessions import COOKIE_NAME
from server.web.context import context


def _secure(request: web.Request) -> bool:
    """Secure when the browser reached us over TLS: directly, or through a trusted proxy that says so
    (X-Forwarded-Proto from anyone else is the client's own word and is ignored)."""
    settings = context(request).settings
    mode = settings.auth.secure_cookies
    if mode != "auto":
        return mode == "always"
    if request.secure:
        return True
    return (request.headers.get("X-Forwarded-Proto") == "https"
            and is_trusted_proxy(request.remote or "", settings.server.trusted_proxies))


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """HttpOnly (scripts never see it), SameSite=Lax (no cross-site posts), Secure over TLS."""
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Lax", path="/",
                        secure=_secure(request),
                        max_age=context(request).settings.auth.session_hours * 3600)


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")
