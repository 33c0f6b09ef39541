"""Rendering pages with the language, the signed-in person and the CSRF token always at hand."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from server.web import i18n
from server.web.context import AUTH_SESSION, PRINCIPAL
from server.web.errors import ApiError
from server.web.form_errors import in_language


def page_context(request: web.Request, **values: Any) -> dict[str, Any]:
    """Values every template may use: `t` (translate), `lang`, `me`, `csrf_token`."""
    lang = i18n.language(request)
    session_row = request.get(AUTH_SESSION)
    return {
        "lang": lang,
        "t": lambda key, **kw: i18n.translate(lang, key, **kw),
        "me": request.get(PRINCIPAL),
        "csrf_token": session_row.csrf_token if session_row is not None else "",
        "path": request.path,
        **values,
    }


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, page_context(request, **values),
                                              status=status)
    if request.query.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, request.query["lang"], max_age=365 * 86400, samesite="Lax")
    return response


def render_error(request: web.Request, error: ApiError) -> web.Response:
    if error.status == 401:
        raise web.HTTPFound(f"/login?next={request.path_qs}")
    # The message in the person's language: refusals are written "中文 / English" for API clients.
    return render(request, "error.html", status=error.status, error=error,
                  message=in_language(i18n.language(request), error.message))


def require_page_user(request: web.Request) -> Any:
    """The signed-in principal, or a redirect to the login page."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        raise ApiError(401)
    return principal
