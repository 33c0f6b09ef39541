"""The archive over HTTP: search, a case's dossier, its files, and (for the admin) the access log.

Read-only for everyone: nothing here changes the record (the only writes are the search index
catching up and the access-log row each request leaves, refused ones included). Every role may search and open
dossiers, scoped by server.auth.policy: archivists, chairs and admins read everything, a chief
representative their department's cases, applicants and agents their organisations' cases.
A download names a file of the dossier's catalogue: names the catalogue does not list are 404,
so no client-supplied text ever reaches the file system.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from aiohttp import web
from pydantic import Field

from server.archive.access import (
    Action,
    ArchiveAccessOut,
    ArchiveAccessQuery,
    read_access_log,
    record_access,
    record_refusal,
)
from server.archive.dossier import Dossier, DossierFile, DossierOut, build_dossier
from server.archive.indexer import refresh_index
from server.archive.search import ArchiveQuery, ArchiveSearchResult, search
from server.domain.roles import Role
from server.schemas.base import Body
from server.services.materials import find_case
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError

TAG = "archive"


class ArchiveFileQuery(Body):
    name: Annotated[str, Field(min_length=1, max_length=512)]


async def refused(call: Call, action: Action, target: str, error: ApiError) -> ApiError:
    """Log a refused attempt (server.archive.access) and hand the error back to be raised. The
    request's transaction is rolled back first: it would be anyway, and on SQLite it must not
    hold the database while the log row is written from another connection."""
    assert call.principal is not None  # archive endpoints and pages all require a signed-in person
    await call.db.rollback()
    await record_refusal(context(call.request).sessions, call.principal, action, target, error.status,
                         call.request.remote)
    return error


async def load_dossier(call: Call, case_id: int, *, action: Action = "view", target: str = "") -> Dossier:
    """The visible case's dossier, or 404 logged as a refused `action` on `target` (default: a
    view of the case); shared by the API and the pages."""
    case = await find_case(call.db, call.principal, case_id)
    if case is None:
        raise await refused(call, action, target or f"case:{case_id}", ApiError(404))
    settings = context(call.request).settings
    return await build_dossier(call.db, case, settings.data_dir, call.principal, settings.centre.promised_limits)


async def run_search(call: Call, query: ArchiveQuery) -> ArchiveSearchResult:
    """Catch the index up, search, and log the search (shared by the API and the search page)."""
    await refresh_index(call.db)
    result = await search(call.db, call.principal, query)
    await record_access(call.db, call.principal, "search", query.q or "(filters)",
                        {**query.filters(), "hits": len(result.hits)}, call.request.remote)
    return result


@API.route("GET", "/archive/search", summary="Full-text archive search with filters (scoped to the caller)",
           query=ArchiveQuery, response=ArchiveSearchResult, tag=TAG)
async def api_archive_search(call: Call) -> ArchiveSearchResult:
    return await run_search(call, call.query)


@API.route("GET", "/archive/cases/{id}/dossier",
           summary="A case's dossier: meetings, minutes versions, notice, recordings, event logs, clocks, files",
           response=DossierOut, tag=TAG)
async def api_archive_dossier(call: Call) -> DossierOut:
    case_id = call.path_int("id")
    dossier = await load_dossier(call, case_id)
    await record_access(call.db, call.principal, "view", f"case:{case_id}", {}, call.request.remote)
    return dossier.out


def file_response(file: DossierFile, body: bytes | None) -> web.StreamResponse:
    """The file inline (the page plays videos and shows PDFs; its links also offer download)."""
    leaf = file.name.rsplit("/", 1)[-1]
    headers = {"Content-Type": file.media_type, "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f"inline; filename=\"{quote(leaf, safe='.-_')}\"; "
                                      f"filename*=UTF-8''{quote(leaf, safe='')}",
               "Cache-Control": "private, no-cache"}
    if body is None:
        assert file.path is not None
        return web.FileResponse(file.path, headers=headers)
    return web.Response(body=body, headers=headers)


async def serve_file(call: Call, case_id: int, name: str) -> web.StreamResponse:
    """One catalogue file of a visible case, logged (playback's follow-up range requests are not;
    refusals always are)."""
    target = f"case:{case_id}/{name}"
    dossier = await load_dossier(call, case_id, action="download", target=target)
    file = dossier.files.get(name)
    if file is None:
        raise await refused(call, "download", target,
                            ApiError(404, "卷宗中没有该文件 / the dossier lists no such file", code="no_such_file"))
    if file.path is not None and not file.path.is_file():
        raise await refused(call, "download", target,
                            ApiError(404, "文件已不在存储中 / the file is missing from storage", code="file_missing"))
    body = await file.read() if file.produce is not None else None
    if call.request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        await record_access(call.db, call.principal, "download", target, {}, call.request.remote)
    return file_response(file, body)


@API.route("GET", "/archive/cases/{id}/file", summary="One file of a case's dossier, by its catalogue name",
           query=ArchiveFileQuery, response=bytes, tag=TAG)
async def api_archive_file(call: Call) -> web.StreamResponse:
    return await serve_file(call, call.path_int("id"), call.query.name)


@API.route("GET", "/archive/access-log", summary="The archive access log, newest first (admin only)",
           roles={Role.ADMIN}, query=ArchiveAccessQuery, response=list[ArchiveAccessOut], tag=TAG)
async def api_archive_access_log(call: Call) -> list[ArchiveAccessOut]:
    return await read_access_log(call.db, call.query)
