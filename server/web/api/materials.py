"""Case materials over HTTP: upload a PDF (multipart), list a case's materials, fetch one file.

Uploads are multipart/form-data, not JSON, so this module reads the body itself (streaming, under
``materials.max_mb``) after the registry has checked the caller's role; the case's visibility is
checked before a byte of the file is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage
from pydantic import computed_field

from server.db.models import CaseMaterial, InvestmentCase
from server.schemas.base import Out
from server.services.materials import (
    UPLOADERS,
    MaterialError,
    StoredPdf,
    add_material,
    default_title,
    discard_if_unused,
    file_url,
    find_case,
    find_material,
    list_materials,
    material_path,
    safe_file_name,
    store_pdf,
)
from server.signaling.room_state import LiveMeeting
from server.signaling.server import SIGNALING
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError
from server.web.middleware import CSRF_FIELD, multipart_reader

TAG = "materials"
RESUME_HEADER = "X-Lianshen-Resume"
MAX_TITLE_CHARS = 256
CHUNK_BYTES = 64 * 1024


class MaterialOut(Out):
    id: int
    case_id: int
    title: str
    file_name: str
    page_count: int
    size: int
    sha256: str
    uploaded_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        """Where the PDF is fetched (the meeting room's viewer uses it too)."""
        return file_url(self.id)


def _out(material: CaseMaterial) -> MaterialOut:
    return MaterialOut.model_validate(material)


def _refusal(exc: MaterialError) -> ApiError:
    return ApiError(exc.status, exc.message, code=exc.code,
                    details=[{"field": exc.field, "message": exc.message}])


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK_BYTES):
        yield chunk


class Upload:
    """The multipart form of an upload: the file (stored as soon as it is read) and its title."""

    def __init__(self) -> None:
        self.stored: StoredPdf | None = None
        self.file_name = ""
        self.title = ""

    async def read(self, call: Call) -> None:
        request = call.request
        if request.content_type != "multipart/form-data":
            raise ApiError(415, "请以 multipart/form-data 上传文件 / upload the file as multipart/form-data")
        settings = context(request).settings
        try:
            reader = await multipart_reader(request)  # a form's csrf_token was read by the middleware
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise MaterialError(422, "不支持嵌套的表单 / nested multipart is not supported", "invalid", "")
                if part.name == "file" and self.stored is None:
                    self.file_name = safe_file_name(part.filename)
                    self.stored = await store_pdf(_chunks(part), settings.data_dir,
                                                  settings.materials.max_mb * 1024 * 1024)
                elif part.name == "title" and not self.title:
                    self.title = _title(await part.text())
                elif part.name == CSRF_FIELD:
                    continue  # the page's form posted by a script, with the X-CSRF-Token header
                else:
                    raise MaterialError(422, f"未知或重复的表单字段 / unknown or repeated form field: "
                                        f"{part.name}", "invalid", part.name or "")
        except MaterialError as exc:
            raise _refusal(exc) from None
        except (ValueError, BadHttpMessage) as exc:  # a malformed multipart body (bad boundary, headers)
            raise ApiError(400, f"表单格式错误 / malformed multipart body: {exc}") from None
        if self.stored is None:
            raise _refusal(MaterialError(422, "请选择要上传的 PDF 文件 / choose a PDF file to upload", "required"))
        self.title = self.title or default_title(self.file_name)


def _title(raw: str) -> str:
    title = raw.strip()
    if len(title) > MAX_TITLE_CHARS or any(ord(c) < 32 for c in title):
        raise MaterialError(422, f"标题须为一行，不超过 {MAX_TITLE_CHARS} 字 / the title must be one line of at "
                            f"most {MAX_TITLE_CHARS} characters", "invalid", "title")
    return title


async def receive_upload(call: Call, case: InvestmentCase) -> CaseMaterial:
    """Read, check and record one upload for a case the caller may see and upload to: the API's
    route and the case page's plain form (server/web/pages/cases.py) both take this path. A refusal
    is an ApiError whose details name the form field; no file is left behind."""
    upload = Upload()
    try:
        await upload.read(call)
        assert upload.stored is not None
        try:
            material = await add_material(call.db, call.principal, case, upload.stored, upload.file_name,
                                          upload.title)
        except MaterialError as exc:
            raise _refusal(exc) from None
    except ApiError:
        if upload.stored is not None:  # refused after the file was stored: keep no orphan
            await discard_if_unused(call.db, context(call.request).settings.data_dir, upload.stored.sha256)
        raise
    return material


@API.route("POST", "/cases/{id}/materials", summary="Upload a PDF material for a case (multipart: file, title?)",
           roles=UPLOADERS, response=MaterialOut, status=201, tag=TAG)
async def api_upload_material(call: Call) -> MaterialOut:
    case = await find_case(call.db, call.principal, call.path_int("id"))
    if case is None:
        raise ApiError(404)
    return _out(await receive_upload(call, case))


@API.route("GET", "/cases/{id}/materials", summary="A case's materials (scoped like the case)",
           response=list[MaterialOut], tag=TAG)
async def api_list_materials(call: Call) -> list[MaterialOut]:
    case = await find_case(call.db, call.principal, call.path_int("id"))
    if case is None:
        raise ApiError(404)
    return [_out(material) for material in await list_materials(call.db, case.id)]


@API.route("GET", "/materials/{id}/file", summary="The PDF of a material (scoped like its case)",
           response=bytes, tag=TAG)
async def api_material_file(call: Call) -> web.StreamResponse:
    material = await find_material(call.db, call.principal, call.path_int("id"))
    if material is None:
        raise ApiError(404)
    return _pdf(call, material)


def _admitted(meeting: LiveMeeting, call: Call) -> bool:
    """The caller is a participant of the live meeting now: its resume secret (every participant has
    one, guests too) in the RESUME_HEADER, or a signed-in account that is in the meeting."""
    secret = call.request.headers.get(RESUME_HEADER, "")
    if 0 < len(secret) <= 128 and meeting.find_resumable(secret) is not None:
        return True
    user_id = call.principal.user_id if call.principal is not None else None
    return user_id is not None and any(p.user_id == user_id for p in meeting.participants.values())


@API.route("GET", "/meetings/{id}/presentation/{material_id}",
           summary=f"The PDF being presented in a live meeting, for its participants (session or "
                   f"{RESUME_HEADER} header)", response=bytes, tag=TAG, public=True)
async def api_presented_file(call: Call) -> web.StreamResponse:
    """Guests and remote sites who joined by token cannot see the case, yet must see what the
    presenter shows them: only the material open right now, only to people in the meeting now."""
    signaling = call.request.app[SIGNALING]
    meeting = signaling.meetings.get(call.path_int("id"))
    presentation = signaling.review.presentation(meeting) if meeting is not None else None
    if (meeting is None or presentation is None or presentation.material_id != call.path_int("material_id")
            or not _admitted(meeting, call)):
        raise ApiError(404, "没有正在演示的该材料 / that material is not being presented to you")
    material = await call.db.get(CaseMaterial, presentation.material_id)
    if material is None:
        raise ApiError(404)
    return _pdf(call, material, cache="no-store")


def _pdf(call: Call, material: CaseMaterial, cache: str = "private, max-age=3600") -> web.StreamResponse:
    path = material_path(context(call.request).settings.data_dir, material.sha256)
    if not path.is_file():
        raise ApiError(404, "文件已不在存储中 / the file is missing from storage", code="file_missing")
    ascii_name = f"material-{material.id}.pdf"  # for clients that ignore filename*
    return web.FileResponse(path, headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": f'inline; filename="{ascii_name}"; '
                               f"filename*=UTF-8''{quote(material.file_name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": cache,
    })
