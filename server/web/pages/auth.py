"""Login and logout pages."""

from __future__ import annotations

from aiohttp import web

from server.auth.client_address import client_address
from server.auth.login import USERNAME_MAX_LENGTH, LoginRefused, sign_in
from server.auth.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH, HashingBusy
from server.auth.sessions import COOKIE_NAME, close_session
from server.web import i18n
from server.web.context import PRINCIPAL, context, db
from server.web.cookies import clear_session_cookie, set_session_cookie
from server.web.pages.render import render

routes = web.RouteTableDef()


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect would help phishing.

    Browsers drop tabs and line breaks from URLs and read a backslash as a slash, so "/" + tab + "/evil.example"
    would become "//evil.example": any control character, space or backslash refuses the target.
    """
    if (target and target.startswith("/") and not target.startswith("//")
            and not any(c == "\\" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)):
        return target
    return "/"


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    if request[PRINCIPAL] is not None:
        raise web.HTTPFound(_safe_next(request.query.get("next")))
    return render(request, "login.html", next=_safe_next(request.query.get("next")), username="",
                  message="")


@routes.post("/login")
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    ctx = context(request)
    lang = i18n.language(request)
    if len(username) > USERNAME_MAX_LENGTH or len(password) > PASSWORD_MAX_LENGTH:
        # No account has such a name or password; never check a cut-down copy of what was typed.
        return render(request, "login.html", status=401, next=target, username="",
                      message=i18n.translate(lang, "login.failed"))
    remote = client_address(request, ctx.settings.server.trusted_proxies)
    try:
        token, _row, _user = await sign_in(db(request), ctx.sessions, ctx.throttle, username, password,
                                           remote, ctx.settings.auth.session_hours)
    except HashingBusy:
        return render(request, "login.html", status=503, next=target, username=username,
                      message=i18n.translate(lang, "login.busy"))
    except LoginRefused as refused:
        message = (i18n.translate(lang, "login.throttled", minutes=refused.minutes)
                   if refused.throttled else i18n.translate(lang, "login.failed"))
        return render(request, "login.html", status=429 if refused.throttled else 401,
                      next=target, username=username, message=message)
    response = web.HTTPFound(target)
    set_session_cookie(request, response, token)
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(COOKIE_NAME)
    if token:
        await close_session(db(request), token)
    response = web.HTTPFound("/login")
    clear_session_cookie(response)
    raise response
