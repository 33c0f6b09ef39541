"""Case pages: the list with clocks and filters, one case, and the chair's registration form.

They call the same CaseDesk as the API, so a page never shows a case the API would hide, and a
form is refused for the same reasons (with the message placed next to the field at fault).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.auth.policy import may_manage_cases
from server.auth.principal import Principal
from server.db.models import InvestmentCase
from server.domain.cases import ClockState, InvestorType, ItemStatus, ManagementCategory, PeriodKind
from server.domain.divisions import Level
from server.domain.meetings import MeetingStatus
from server.services.case_schemas import CaseQuery, NewCase
from server.services.cases import CaseDesk, CaseError
from server.services.minutes_reading import case_minutes
from server.services.reference import list_departments, list_divisions, list_organisations
from server.web import i18n
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.ids import parse_id, path_id
from server.web.pages.display import label, when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()

# Form fields that the models take as integers (strict: a browser sends every value as text).
INTEGER_FIELDS = frozenset({"organisation_id", "department_id", "statutory_limit_wd", "promised_limit_wd"})


def _desk(request: web.Request, principal: Principal) -> CaseDesk:
    return CaseDesk(db(request), principal, context(request).settings.centre.promised_limits)


def _labels(lang: str) -> dict[str, dict[str, str]]:
    """Enum value -> label in the page language, for every enum a case page shows."""
    enums = {"category": ManagementCategory, "investor_type": InvestorType, "status": ItemStatus, "level": Level,
             "meeting_status": MeetingStatus, "clock_state": ClockState, "period_kind": PeriodKind}
    return {name: {m.value: label(lang, m) for m in enum} for name, enum in enums.items()}


def _form_values(data: Any, model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields from a submitted form: blanks dropped (so defaults apply), digit
    strings of integer fields turned into ints; anything else is left for the model to refuse."""
    values: dict[str, Any] = {}
    for name in model.model_fields:
        raw = data.get(name)
        if not isinstance(raw, str) or raw.strip() == "":
            continue
        number = parse_id(raw.strip()) if name in INTEGER_FIELDS else None
        values[name] = raw if number is None else number
    return values


def _field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        name = str(err["loc"][0]) if err["loc"] else ""
        errors.setdefault(name, err["msg"].removeprefix("Value error, "))
    return errors


@routes.get("/cases")
async def case_list(request: web.Request) -> web.Response:
    principal = require_page_user(request)
    chosen = {name: value for name, value in request.query.items() if name in CaseQuery.model_fields and value}
    query = CaseQuery.model_validate(chosen)  # invalid filters: the 422 error page names them
    page = await _desk(request, principal).page(query)

    def page_url(offset: int) -> str:
        return "/cases?" + urlencode({**chosen, "offset": offset})

    return render(
        request, "cases/list.html", page=page, query=query, chosen=chosen,
        departments=await list_departments(db(request)), labels=_labels(i18n.language(request)),
        prev_url=page_url(max(page.offset - page.limit, 0)) if page.offset > 0 else None,
        next_url=page_url(page.offset + page.limit) if page.offset + page.limit < page.total else None,
        can_create=may_manage_cases(principal),
    )


@routes.get("/cases/new")
async def new_case_form(request: web.Request) -> web.Response:
    principal = require_page_user(request)
    _require_manager(principal)
    return await _render_form(request, {}, {})


@routes.post("/cases/new")
async def new_case_submit(request: web.Request) -> web.Response:
    principal = require_page_user(request)
    _require_manager(principal)
    form = await request.post()
    values = _form_values(form, NewCase)
    try:
        new = NewCase.model_validate(values)
        case = await _desk(request, principal).create_case(new)
    except ValidationError as exc:
        return await _render_form(request, form, _field_errors(exc))
    except CaseError as exc:
        if exc.status in (403, 404):
            raise ApiError(exc.status, exc.message) from None
        return await _render_form(request, form, {exc.field or "": exc.message or ""})
    raise web.HTTPSeeOther(f"/cases/{case.id}")


@routes.get(r"/cases/{id:\d{1,18}}")
async def case_detail(request: web.Request) -> web.Response:
    principal = require_page_user(request)
    try:
        case = await _desk(request, principal).detail(path_id(request, "id"))
    except CaseError as exc:
        raise ApiError(exc.status, exc.message) from None
    row = await db(request).get(InvestmentCase, case.id)
    assert row is not None  # `detail` has just read it in this request's session
    return render(request, "cases/detail.html", case=case, labels=_labels(i18n.language(request)), when=when,
                  case_minutes=await case_minutes(db(request), principal, row))


def _require_manager(principal: Principal) -> None:
    if not may_manage_cases(principal):
        raise ApiError(403, "只有主持人和管理员可以登记项目 / only chairs and admins register cases")


async def _render_form(request: web.Request, form: Any, errors: dict[str, str]) -> web.Response:
    """The registration form, refilled with what was sent and each error beside its field."""
    return render(
        request, "cases/new.html", status=422 if errors else 200,
        form={name: str(form.get(name, "")) for name in NewCase.model_fields}, errors=errors,
        general=[message for name, message in errors.items() if name not in NewCase.model_fields],
        organisations=await list_organisations(db(request)), divisions=await list_divisions(db(request)),
        labels=_labels(i18n.language(request)),
    )
