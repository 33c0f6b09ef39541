"""Archive pages: the search page (filters, highlighted hits), a case's dossier, and exports.

Search and dossier go through the same functions as the API (server.web.api.archive), so a page
shows exactly what the API would, under the same scope, and leaves the same access-log rows.
Exports (archivists and admins only) start a background job (server.services.export_jobs) whose
page polls a JSON status with a script and, without scripts, refreshes itself until the zip of
validated bags can be downloaded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from record.vocab import Capacity, MeetingStatus
from server.archive.access import record_access
from server.archive.passages import KINDS
from server.archive.search import ArchiveQuery
from server.db.models import InvestmentCase, Meeting
from server.domain.cases import ItemStatus
from server.domain.divisions import Level
from server.domain.opinions import OpinionKind
from server.services.clock import CENTRE_TZ
from server.services.export_jobs import EXPORTERS, ExportJob, ExportJobs, ScopeKind, cases_in_scope, zip_name
from server.web import i18n
from server.web.api.archive import load_dossier, run_search
from server.web.api.registry import Call
from server.web.context import CONTEXT, context, db
from server.web.errors import ApiError
from server.web.ids import path_id
from server.web.pages.display import held, label, span, when
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()
EXPORT_JOBS = web.AppKey("lianshen_export_jobs", ExportJobs)
SCOPE_KINDS: tuple[ScopeKind, ...] = ("case", "meeting", "year")
STATUS_REFRESH_S = 2  # the no-script page reloads this often while the job runs


def attach_exports(app: web.Application) -> None:
    """Give the app its export jobs (composition root): old finished jobs are pruned on start-up
    (jobs left running are recovered on first use, see export_jobs); running jobs are cancelled on
    shutdown."""
    context = app[CONTEXT]
    app[EXPORT_JOBS] = ExportJobs(context.settings, context.sessions)

    async def prune(app: web.Application) -> None:
        await app[EXPORT_JOBS].prune_at_start()

    async def close(app: web.Application) -> None:
        await app[EXPORT_JOBS].close()

    app.on_startup.append(prune)
    app.on_shutdown.append(close)


def _call(request: web.Request) -> Call:
    return Call(request=request, principal=require_page_user(request), db=db(request))


def _choices(lang: str) -> dict[str, dict[str, str]]:
    return {"opinion_type": {k.value: label(lang, k) for k in OpinionKind},
            "level": {k.value: label(lang, k) for k in Level},
            "kind": {k: i18n.translate(lang, f"archive.kind.{k}") for k in KINDS},
            "item_status": {k.value: label(lang, k) for k in ItemStatus},
            "meeting_status": {k.value: label(lang, k) for k in MeetingStatus},
            "capacity": {k.value: label(lang, k) for k in Capacity}}


@routes.get("/archive")
async def archive_search_page(request: web.Request) -> web.Response:
    call = _call(request)
    chosen = {name: value for name, value in request.query.items() if name in ArchiveQuery.model_fields and value}
    query = ArchiveQuery.model_validate(chosen)  # invalid input: the 422 page names the field
    searched = bool(query.filters()) or query.offset > 0
    result = await run_search(call, query) if searched else None

    def page_url(offset: int) -> str:
        return "/archive?" + urlencode({**chosen, "offset": offset})

    return render(request, "archive/search.html", query=query, chosen=chosen, result=result,
                  choices=_choices(i18n.language(request)),
                  prev_url=page_url(max(query.offset - query.limit, 0)) if query.offset > 0 else None,
                  next_url=page_url(query.offset + query.limit) if result and result.has_more else None)


@routes.get(r"/archive/cases/{id:\d{1,18}}")
async def archive_dossier_page(request: web.Request) -> web.Response:
    call = _call(request)
    case_id = path_id(request, "id")
    dossier = await load_dossier(call, case_id)
    await record_access(call.db, call.principal, "view", f"case:{case_id}", {"page": True}, request.remote)
    file_url = f"/api/v1/archive/cases/{case_id}/file?"
    lang = i18n.language(request)
    return render(request, "archive/dossier.html", dossier=dossier.out,
                  file_url=lambda name: file_url + urlencode({"name": name}),
                  held=lambda meeting: held(lang, meeting.started, meeting.ended), span=span,
                  choices=_choices(lang))


# ---------------------------------------------------------------- export in the browser


def _exporter(request: web.Request) -> Any:
    """The signed-in archivist or admin; anyone else gets 403."""
    principal = require_page_user(request)
    if principal.role not in EXPORTERS:
        raise ApiError(403, "仅档案管理员可导出档案 / only archivists may export", code="forbidden")
    return principal


async def _job(request: web.Request) -> ExportJob:
    job = await request.app[EXPORT_JOBS].get(request.match_info["job"])
    if job is None:
        raise ApiError(404, "没有这个导出任务（已完成的任务只保留若干天）/ no such export job "
                            "(finished jobs are kept for a few days)", code="not_found")
    return job


def job_status(lang: str, job: ExportJob, keep_days: int) -> dict[str, Any]:
    """What the job page shows and its script polls (one shape for both); `kept_until`, the day
    a finished job and its zip are removed (archive.export_keep_days)."""
    removal = job.finished_at + timedelta(days=keep_days) if job.finished_at is not None else None
    return {
        "id": job.id, "state": job.state, "percent": job.percent, "verified": job.verified,
        "step": i18n.translate(lang, f"archive.export.step.{job.step}", case=job.current),
        "error": i18n.translate(lang, f"archive.export.error.{job.error}") if job.error else "",
        "kept_until": i18n.translate(lang, "archive.export.kept_until", day=when(removal)) if removal else "",
        "bags": [{"name": b.name, "files": b.files, "payload_oxum": b.payload_oxum, "valid": b.valid,
                  "problems": b.problems} for b in job.bags],
        "download_url": f"/archive/export/{job.id}/download" if job.zip_path is not None else None,
        "zip_name": zip_name(job) if job.zip_path is not None else None,
    }


def _status(request: web.Request, job: ExportJob) -> dict[str, Any]:
    return job_status(i18n.language(request), job, context(request).settings.archive.export_keep_days)


async def _export_form(request: web.Request, kind: str = "", value: str = "", error: str = "",
                       status: int = 200) -> web.Response:
    session = db(request)
    cases = list(await session.execute(select(InvestmentCase.project_code, InvestmentCase.name)
                                       .order_by(InvestmentCase.project_code)))
    meetings = [(m.id, m.title, m.scheduled_start.astimezone(CENTRE_TZ)) for m in await session.scalars(
        select(Meeting).order_by(Meeting.scheduled_start.desc(), Meeting.id))]
    years = sorted({start.year for _, _, start in meetings}, reverse=True)
    return render(request, "archive/export.html", status=status, cases=cases, meetings=meetings, years=years,
                  chosen_kind=kind, chosen_value=value, error=error)


@routes.get("/archive/export")
async def export_form_page(request: web.Request) -> web.Response:
    _exporter(request)
    return await _export_form(request, request.query.get("kind", ""), request.query.get("value", ""))


@routes.post("/archive/export")
async def export_start(request: web.Request) -> web.Response:
    principal = _exporter(request)
    form = await request.post()
    kind, value = str(form.get("kind", "")), str(form.get("value", "")).strip()
    lang = i18n.language(request)
    if kind not in SCOPE_KINDS or not value or len(value) > 40 or (kind != "case" and not value.isdigit()):
        return await _export_form(request, kind, value, i18n.translate(lang, "archive.export.choose"), 422)
    # `kind in SCOPE_KINDS` narrowed kind to a ScopeKind
    if not await cases_in_scope(db(request), kind, value):
        return await _export_form(request, kind, value, i18n.translate(lang, "archive.export.nothing"), 422)
    job = await request.app[EXPORT_JOBS].start(principal, kind, value, request.remote)
    raise web.HTTPSeeOther(f"/archive/export/{job.id}")


@routes.get(r"/archive/export/{job:[0-9a-f]{16}}")
async def export_job_page(request: web.Request) -> web.Response:
    _exporter(request)
    job = await _job(request)
    status = _status(request, job)
    return render(request, "archive/export_job.html", job=job, view=status, refresh_s=STATUS_REFRESH_S,
                  messages={k: v for k, v in i18n.catalog(i18n.language(request)).items()
                            if k.startswith("archive.export.")})


@routes.get(r"/archive/export/{job:[0-9a-f]{16}}/status")
async def export_job_status(request: web.Request) -> web.Response:
    _exporter(request)
    return web.json_response(_status(request, await _job(request)),
                             headers={"Cache-Control": "no-store"})


@routes.get(r"/archive/export/{job:[0-9a-f]{16}}/download")
async def export_job_download(request: web.Request) -> web.StreamResponse:
    principal = _exporter(request)
    job = await _job(request)
    if job.zip_path is None or not job.zip_path.is_file():
        raise ApiError(404, "导出尚未完成 / the export is not finished", code="not_found")
    await record_access(db(request), principal, "download", f"export:{job.id}", {"zip": job.zip_path.name},
                        request.remote)
    return web.FileResponse(job.zip_path, headers={
        "Content-Type": "application/zip",
        "Content-Disposition": f'attachment; filename="{job.zip_path.name}"'})
