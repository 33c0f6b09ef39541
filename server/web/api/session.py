"""Signing in and out over the API (scripts, bots), and who am I."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import Field

from server.auth.client_address import client_address
from server.auth.login import USERNAME_MAX_LENGTH, LoginRefused, sign_in
from server.auth.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH, HashingBusy
from server.auth.principal import load_principal
from server.auth.sessions import COOKIE_NAME, close_session
from server.schemas.base import Body, Out
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import AUTH_SESSION, context
from server.web.cookies import clear_session_cookie, set_session_cookie
from server.web.errors import ApiError

BUSY = "服务器正忙于其他登录，请稍后再试 / the server is busy signing others in, try again in a moment"


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=USERNAME_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class Me(Out):
    id: int
    username: str
    display_name: str
    role: str
    department_id: int | None
    post: str | None
    organisation_ids: list[int]
    csrf_token: str


def _me(call: Call, csrf_token: str) -> Me:
    p = call.principal
    return Me(id=p.user_id, username=p.username, display_name=p.display_name, role=p.role.value,
              department_id=p.department_id, post=p.post,
              organisation_ids=sorted(p.organisation_ids), csrf_token=csrf_token)


@API.route("POST", "/auth/login", summary="Sign in; sets the session cookie", body=LoginBody,
           response=Me, public=True, tag="auth")
async def api_login(call: Call) -> web.StreamResponse:
    ctx = context(call.request)
    remote = client_address(call.request, ctx.settings.server.trusted_proxies)
    try:
        token, row, user = await sign_in(call.db, ctx.sessions, ctx.throttle, call.body.username,
                                         call.body.password, remote, ctx.settings.auth.session_hours)
    except HashingBusy:
        raise ApiError(503, BUSY, code="busy") from None
    except LoginRefused as refused:
        if refused.throttled:
            raise ApiError(429, f"登录失败次数过多，请 {refused.minutes} 分钟后再试 / too many failed sign-ins, "
                                f"try again in {refused.minutes} minutes", code="locked") from None
        raise ApiError(401, "用户名或密码错误 / wrong username or password", code="bad_credentials") from None
    call.principal = await load_principal(call.db, user)
    response = web.json_response(_me(call, row.csrf_token).model_dump(mode="json"),
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))
    set_session_cookie(call.request, response, token)
    return response


@API.route("POST", "/auth/logout", summary="Sign out (ends this session)", status=204, tag="auth")
async def api_logout(call: Call) -> web.StreamResponse:
    await close_session(call.db, call.request.cookies.get(COOKIE_NAME, ""))
    response = web.Response(status=204)
    clear_session_cookie(response)
    return response


@API.route("GET", "/me", summary="The signed-in person and the CSRF token for scripts", response=Me,
           tag="auth")
async def me(call: Call) -> Me:
    session_row = call.request[AUTH_SESSION]
    if session_row is None:  # not reached: a principal (checked by the registry) comes with its session
        raise ApiError(401)
    return _me(call, session_row.csrf_token)
