"""Case pages: the list with clocks and filters, one case with its materials, and the chair's
registration form.

They call the same CaseDesk as the API, so a page never shows a case the API would hide, and a
form is refused for the same reasons (with the message placed next to the field at fault). A
material uploaded from the case page's plain form goes through the API's own upload path
(`receive_upload`), so the role, the case's scope and the PDF checks are the API's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select

from server.auth.policy import may_manage_cases
from server.auth.principal import Principal
from server.db.models import CaseMaterial, InvestmentCase, User
from server.domain.cases import ClockState, InvestorType, ItemStatus, ManagementCategory, PeriodKind
from server.domain.divisions import Level
from server.domain.meetings import MeetingStatus
from server.services.case_schemas import CaseQuery, NewCase
from server.services.cases import CaseDesk, CaseError
from server.services.materials import UPLOADERS, file_url, find_case, list_materials
from server.services.minutes_reading import case_minutes
from server.services.reference import list_departments, list_divisions, list_organisations
from server.web import i18n
from server.web.api.materials import receive_upload
from server.web.api.registry import Call
from server.web.context import context, db
from server.web.errors import ApiError
from server.web.form_errors import catalog_labels, in_language, validation_errors
from server.web.ids import parse_id, path_id
from server.web.pages.display import label, when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()

# Form fields that the models take as integers (strict: a browser sends every value as text).
INTEGER_FIELDS = frozenset({"organisation_id", "department_id", "statutory_limit_wd", "promised_limit_wd",
                            "approving_department_id"})
# The registration form's fields by the label the form shows them with (cases.field.*).
FIELD_LABELS = {"organisation_id": "cases.field.organisation", "division_code": "cases.field.division",
                "approving_department_id": "cases.field.approving_department",
                **{name: f"cases.field.{name}" for name in (
                    "project_code", "name", "town", "address", "total_investment", "scale_content", "category",
                    "industry", "investor_type", "funding_source", "planned_start", "planned_finish")}}
CHOSEN_FIELDS = frozenset({"organisation_id", "division_code", "category", "investor_type", "approving_department_id"})
# The new-case form's procedure before any case is registered: most county projects are
# enterprise filings (备案制), and the pair must agree (审批制 is for government investment only).
FIRST_CASE_KIND = (ManagementCategory.FILING.value, InvestorType.ENTERPRISE.value)


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


def _field_errors(request: web.Request, exc: ValidationError) -> dict[str, str]:
    """The registration form's refusals as sentences naming each field by its label on the form."""
    lang = i18n.language(request)
    return validation_errors(lang, exc, catalog_labels(lang, FIELD_LABELS), chosen=CHOSEN_FIELDS)


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
    category, investor_type = await _usual_kind(request)
    defaults = {"division_code": context(request).settings.centre.division, "category": category,
                "investor_type": investor_type, "approving_department_id": await _usual_approver(request)}
    return await _render_form(request, defaults, {})


async def _usual_kind(request: web.Request) -> tuple[str, str]:
    """The centre's most common (category, investor type) among its cases: what a new case most
    likely is, rather than whichever option happens to come first in the list."""
    rows = await db(request).execute(
        select(InvestmentCase.category, InvestmentCase.investor_type, func.count())
        .group_by(InvestmentCase.category, InvestmentCase.investor_type))
    counts = Counter({(category, investor): n for category, investor, n in rows})
    return counts.most_common(1)[0][0] if counts else FIRST_CASE_KIND


async def _usual_approver(request: web.Request) -> str:
    """The department that approves most of the centre's cases (usually the county 发改局): the
    likeliest approving department of a new one; "" (choose) before any case names one."""
    most = await db(request).scalar(
        select(InvestmentCase.approving_department_id).where(InvestmentCase.approving_department_id.is_not(None))
        .group_by(InvestmentCase.approving_department_id)
        .order_by(func.count().desc(), InvestmentCase.approving_department_id).limit(1))
    return str(most) if most is not None else ""


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
        return await _render_form(request, form, _field_errors(request, exc))
    except CaseError as exc:
        if exc.status in (403, 404):
            raise ApiError(exc.status, exc.message) from None
        return await _render_form(request, form, {exc.field or "": in_language(i18n.language(request),
                                                                               exc.message or "")})
    raise web.HTTPSeeOther(f"/cases/{case.id}")


@routes.get(r"/cases/{id:\d{1,18}}")
async def case_detail(request: web.Request) -> web.Response:
    principal = require_page_user(request)
    return await _render_detail(request, principal, path_id(request, "id"))


@routes.post(r"/cases/{id:\d{1,18}}/materials")
async def case_material_upload(request: web.Request) -> web.Response:
    """The case page's upload form without JavaScript (multipart, csrf_token first). With
    JavaScript the same form is sent to the API by client_web/static/js/materials_upload.js."""
    principal = require_page_user(request)
    case = await find_case(db(request), principal, path_id(request, "id"))
    if case is None:
        raise ApiError(404)
    if principal.role not in UPLOADERS:
        raise ApiError(403, "只有申请人、其代办员和主持人可以上传材料 / only the applicant, its agent and "
                            "the chair upload materials")
    try:
        material = await receive_upload(Call(request=request, principal=principal, db=db(request)), case)
    except ApiError as exc:
        field = next((str(d.get("field") or "") for d in exc.details or []), "") or "file"
        return await _render_detail(request, principal, case.id, status=exc.status,
                                    upload_error=(field, in_language(i18n.language(request), exc.message)))
    raise web.HTTPSeeOther(f"/cases/{case.id}?uploaded={material.id}#materials")


async def _render_detail(request: web.Request, principal: Principal, case_id: int, status: int = 200,
                         upload_error: tuple[str, str] | None = None) -> web.Response:
    try:
        case = await _desk(request, principal).detail(case_id)
    except CaseError as exc:
        raise ApiError(exc.status, exc.message) from None
    row = await db(request).get(InvestmentCase, case.id)
    assert row is not None  # `detail` has just read it in this request's session
    materials = await list_materials(db(request), case.id)
    uploaders = {user_id: name for user_id, name in await db(request).execute(
        select(User.id, User.display_name).where(User.id.in_({m.uploaded_by_id for m in materials})))}
    return render(request, "cases/detail.html", status=status, case=case, labels=_labels(i18n.language(request)),
                  when=when, case_minutes=await case_minutes(db(request), principal, row),
                  materials=[_material_row(m, uploaders) for m in materials],
                  may_upload=principal.role in UPLOADERS, upload_error=upload_error,
                  uploaded=request.query.get("uploaded", ""),
                  max_mb=context(request).settings.materials.max_mb)


def size_text(size: int) -> str:
    """A file size as people read it (KB below one megabyte, MB with one decimal above)."""
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def _material_row(material: CaseMaterial, uploaders: dict[int, str]) -> dict[str, Any]:
    return {"id": material.id, "title": material.title, "file_name": material.file_name,
            "page_count": material.page_count, "size": size_text(material.size), "url": file_url(material.id),
            "uploader": uploaders.get(material.uploaded_by_id, ""), "uploaded_at": when(material.uploaded_at)}


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
        departments=sorted(await list_departments(db(request)),  # the centre's own first (stable sort)
                           key=lambda d: d.division_code != context(request).settings.centre.division),
        labels=_labels(i18n.language(request)),
    )
