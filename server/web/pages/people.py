"""The people administration page (administrators only): accounts by role, departments' A/B
pairs, creating an account, (de)activating one, resetting a password, the accounts locked by
failed sign-ins with their unlock, and the latest of those acts, through the same services as the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from sqlalchemy import select

from server.auth.client_address import client_address
from server.auth.principal import Principal
from server.auth.throttle import locked_accounts
from server.db.models import Department, User
from server.domain.roles import Post, Role
from server.services.account_audit import (
    AccountAuditQuery,
    Action as AuditAction,  # the acts the page names
    read_account_audit,
)
from server.services.people import (
    NewPerson,
    PeopleError,
    PersonChanges,
    commissions_of,
    create_person,
    list_organisations,
    list_people,
    set_password,
    unlock,
    update_person,
)
from server.web import i18n
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.ids import parse_id, path_id
from server.web.pages.display import label, when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()
AUDIT_ROWS = 20  # the page shows the latest acts; GET /api/v1/account-audit pages through all


def _require_admin(request: web.Request) -> Principal:
    me = require_page_user(request)
    if me.role != Role.ADMIN:
        raise ApiError(403, "只有系统管理员可以管理人员 / only administrators manage people")
    return me


async def _page(request: web.Request, form: MultiDictProxy[Any] | None = None, message: str = "",
                status: int = 200) -> web.Response:
    lang = i18n.language(request)
    people = await list_people(db(request))
    departments = list(await db(request).scalars(select(Department).order_by(Department.division_code,
                                                                             Department.code)))
    holders: dict[tuple[int, str], User] = {
        (p.department_id, p.post): p for p in people
        if p.role == Role.CHIEF_REP.value and p.post and p.department_id is not None}
    pairs = [{"department": d, "a": holders.get((d.id, Post.A.value)), "b": holders.get((d.id, Post.B.value))}
             for d in departments]
    commissions = await commissions_of(db(request), {p.id for p in people if p.role == Role.AGENT.value})
    others = [{"person": p, "role": label(lang, Role(p.role)),
               "commissions": [c for c in commissions.get(p.id, []) if c.revoked_on is None]}
              for p in people if p.role != Role.CHIEF_REP.value]
    values = form if form is not None else MultiDictProxy(MultiDict())
    locked = await locked_accounts(db(request))
    done = _done_message(lang, request.query, {p.id: p for p in people})
    return render(
        request, "people/list.html", status=status, pairs=pairs, others=others, message=message,
        done=done, locked=locked, locks={user.id: lock for user, lock in locked}, when=when,
        audit=await read_account_audit(db(request), AccountAuditQuery(limit=AUDIT_ROWS)),
        audit_actions={a: i18n.translate(lang, f"people.audit.{a}") for a in get_args(AuditAction)},
        roles=[(r.value, label(lang, r)) for r in Role], posts=[(p.value, label(lang, p)) for p in Post],
        departments=departments, organisations=await list_organisations(db(request)),
        value=lambda name, default="": str(values.get(name, default)),
    )


def _done_message(lang: str, query: Mapping[str, str], people: dict[int, User]) -> str:
    """The confirmation after a redirect (?reset=<id> or ?unlocked=<id>), naming the person."""
    for key in ("reset", "unlocked"):
        person = people.get(parse_id(query.get(key)) or 0)
        if person is not None:
            return i18n.translate(lang, f"people.done.{key}", name=person.display_name)
    return ""


async def _person(request: web.Request) -> User:
    person = await db(request).get(User, path_id(request, "id"))
    if person is None:
        raise ApiError(404, "人员不存在 / no such person")
    return person


@routes.get("/people")
async def people_page(request: web.Request) -> web.Response:
    _require_admin(request)
    return await _page(request)


def _new_person(form: MultiDictProxy[Any]) -> NewPerson:
    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    try:
        role = Role(text("role"))
        post = Post(text("post")) if text("post") else None
    except ValueError:
        raise PeopleError("role", "请选择角色和岗位 / choose a role and post") from None
    if role == Role.CHIEF_REP and post is None:
        raise PeopleError("post", "首席代表须指定 A 岗或 B 岗 / a chief representative needs post A or B")
    return NewPerson(username=text("username"), display_name=text("display_name"), role=role,
                     password=str(form.get("password", "")), department_code=text("department_code") or None,
                     post=post, credit_code=text("credit_code") or None, title=text("title"),
                     phone=text("phone"))


@routes.post("/people")
async def create_person_submit(request: web.Request) -> web.Response:
    _require_admin(request)
    form = await request.post()
    try:
        await create_person(db(request), _new_person(form))
    except PeopleError as error:
        return await _page(request, form, str(error), status=error.status)
    raise web.HTTPFound("/people")


@routes.post(r"/people/{id:\d+}/active")
async def active_submit(request: web.Request) -> web.Response:
    me = _require_admin(request)
    person = await _person(request)
    form = await request.post()
    try:
        await update_person(db(request), me.user_id, person, PersonChanges(is_active=form.get("active") == "1"))
    except PeopleError as error:
        raise ApiError(error.status, str(error)) from None
    raise web.HTTPFound("/people")


def _remote(request: web.Request) -> str:
    return client_address(request, context(request).settings.server.trusted_proxies)


@routes.post(r"/people/{id:\d+}/password")
async def password_submit(request: web.Request) -> web.Response:
    """An administrator sets a new password for someone who forgot theirs (or was locked out)."""
    me = _require_admin(request)
    person = await _person(request)
    form = await request.post()
    try:
        await set_password(db(request), me, person, str(form.get("password", "")), _remote(request))
    except PeopleError as error:
        return await _page(request, message=f"{person.display_name}: {error}", status=error.status)
    raise web.HTTPFound(f"/people?reset={person.id}")


@routes.post(r"/people/{id:\d+}/unlock")
async def unlock_submit(request: web.Request) -> web.Response:
    me = _require_admin(request)
    person = await _person(request)
    try:
        await unlock(db(request), me, person, _remote(request))
    except PeopleError as error:
        raise ApiError(error.status, str(error)) from None
    raise web.HTTPFound(f"/people?unlocked={person.id}")
