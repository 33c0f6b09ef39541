"""Archive pages: the search page (filters, highlighted hits) and a case's dossier.

They go through the same functions as the API (server.web.api.archive), so a page shows exactly
what the API would, under the same scope, and leaves the same access-log rows.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from server.archive.access import record_access
from server.archive.passages import KINDS
from server.archive.search import ArchiveQuery
from server.domain.divisions import Level
from server.domain.opinions import OpinionKind
from server.web import i18n
from server.web.api.archive import load_dossier, run_search
from server.web.api.registry import Call
from server.web.context import db
from server.web.ids import path_id
from server.web.pages.display import label
from server.web.pages.render import render, require_page_user

routes = web.RouteTableDef()


def _call(request: web.Request) -> Call:
    return Call(request=request, principal=require_page_user(request), db=db(request))


def _choices(lang: str) -> dict[str, dict[str, str]]:
    return {"opinion_type": {k.value: label(lang, k) for k in OpinionKind},
            "level": {k.value: label(lang, k) for k in Level},
            "kind": {k: i18n.translate(lang, f"archive.kind.{k}") for k in KINDS}}


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
    return render(request, "archive/dossier.html", dossier=dossier.out,
                  file_url=lambda name: file_url + urlencode({"name": name}),
                  choices=_choices(i18n.language(request)))
