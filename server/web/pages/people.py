"""The people administration page (administrators only): accounts by role, departments' A/B
pairs, creating an account and (de)activating one, through the same services as the API."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from sqlalchemy import select

from server.auth.principal import Principal
from server.db.models import Department, User
from server.domain.roles import Post, Role
from server.services.people import (
    NewPerson,
    PeopleError,
    PersonChanges,
    commissions_of,
    create_person,
    list_organisations,
    list_people,
    update_person,
)
from server.web import i18n
from server.web.context import db
from server.web.errors import ApiError
from server.web.pages.display import label
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()


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
    holders: dict[tuple[int, str], User] = {(p.department_id, p.post): p for p in people
                                            if p.role == Role.CHIEF_REP.value and p.post}
    pairs = [{"department": d, "a": holders.get((d.id, Post.A.value)), "b": holders.get((d.id, Post.B.value))}
             for d in departments]
    commissions = await commissions_of(db(request), {p.id for p in people if p.role == Role.AGENT.value})
    others = [{"person": p, "role": label(lang, Role(p.role)),
               "commissions": [c for c in commissions.get(p.id, []) if c.revoked_on is None]}
              for p in people if p.role != Role.CHIEF_REP.value]
    values = form if form is not None else MultiDictProxy(MultiDict())
    return render(
        request, "people/list.html", status=status, pairs=pairs, others=others, message=message,
        roles=[(r.value, label(lang, r)) for r in Role], posts=[(p.value, label(lang, p)) for p in Post],
        departments=departments, organisations=await list_organisations(db(request)),
        value=lambda name, default="": str(values.get(name, default)),
    )


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
    person = await db(request).get(User, int(request.match_info["id"]))
    if person is None:
        raise ApiError(404, "人员不存在 / no such person")
    form = await request.post()
    try:
        await update_person(db(request), me.user_id, person, PersonChanges(is_active=form.get("active") == "1"))
    except PeopleError as error:
        raise ApiError(error.status, str(error)) from None
    raise web.HTTPFound("/people")
