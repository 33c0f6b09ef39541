"""Request pipeline: a database unit of work, who is asking, and CSRF / cross-origin protection."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from server.auth.principal import Principal, load_principal
from server.auth.sessions import COOKIE_NAME, find_session
from server.web.context import AUTH_SESSION, DB, PRINCIPAL, context
from server.web.errors import ApiError, Handler

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_FIELD_MAX_BYTES = 256
# The multipart reader whose first part (the CSRF token) the middleware read; the handler goes on.
MULTIPART = web.RequestKey("lianshen_multipart", MultipartReader)


@web.middleware
async def db_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One transaction per request, committed only on success: a refused request writes nothing."""
    async with context(request).sessions() as session:
        request[DB] = session
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Redirects are raised in aiohttp: a raised 3xx is a success.
            await (session.commit() if exc.status < 400 else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        if response.status < 400:
            await session.commit()
        else:
            await session.rollback()
        return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach request[PRINCIPAL] (or None) from the session cookie."""
    request[PRINCIPAL] = None
    request[AUTH_SESSION] = None
    token = request.cookies.get(COOKIE_NAME)
    if token:
        found = await find_session(request[DB], token)
        if found is not None:
            session_row, user = found
            # Detached so that a rollback (any refused request) does not expire it: error pages
            # rendered after the rollback still read its CSRF token.
            request[DB].expunge(session_row)
            request[AUTH_SESSION] = session_row
            request[PRINCIPAL] = await load_principal(request[DB], user)
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests from other sites.

    Signed-in requests must echo the session's CSRF token (header for scripts, form field for
    pages, the first field of a multipart form); anonymous ones (the login form) must at least
    come from our own origin.
    """
    if request.method in UNSAFE_METHODS:
        if not _same_origin(request):
            raise ApiError(403, "跨站请求被拒绝 / cross-site request refused", code="csrf")
        form = await _urlencoded_form(request)
        session_row = request[AUTH_SESSION]
        if session_row is not None:
            sent: object = request.headers.get(CSRF_HEADER)  # a form field may be a file: checked below
            if sent is None and form is not None:
                sent = form.get(CSRF_FIELD)
            elif sent is None and request.content_type == "multipart/form-data":
                sent = await _multipart_token(request)
            if not isinstance(sent, str) or not hmac.compare_digest(
                    sent.encode(errors="replace"), session_row.csrf_token.encode()):  # any text, never a 500
                raise ApiError(403, "CSRF 校验失败，请刷新页面后重试 / CSRF check failed, reload the page",
                               code="csrf")
    return await handler(request)


async def _urlencoded_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField] | None:
    """The page form of a url-encoded request, parsed once here (handlers get aiohttp's cached
    copy): a body that is not UTF-8 is a 400 for every page, not a decoding error in each one."""
    if request.content_type != "application/x-www-form-urlencoded":
        return None
    try:
        return await request.post()
    except ValueError:
        raise ApiError(400, "表单格式错误（须为 UTF-8） / malformed form (UTF-8 expected)") from None


async def _multipart_token(request: web.Request) -> str | None:
    """The token of a multipart form, which must be its first field.

    Reading the whole form (``request.post()``) would consume the stream an upload handler needs
    and hold the file in memory; browsers send fields in document order, so a form whose hidden
    ``csrf_token`` input comes first is checked after reading only that field. The reader, placed
    after it, is kept for the handler (`multipart_reader`).
    """
    try:
        reader = await request.multipart()
        part = await reader.next()
        if not isinstance(part, BodyPartReader) or part.name != CSRF_FIELD:
            return None
        value = bytearray()
        while not part.at_eof() and len(value) <= CSRF_FIELD_MAX_BYTES:
            value += await part.read_chunk(CSRF_FIELD_MAX_BYTES)
    except (ValueError, BadHttpMessage):  # no boundary, broken part headers: there is no token
        return None
    if len(value) > CSRF_FIELD_MAX_BYTES:
        return None
    request[MULTIPART] = reader
    return value.decode("utf-8", errors="replace")


async def multipart_reader(request: web.Request) -> MultipartReader:
    """The request's multipart reader: the one the CSRF check began, else a new one."""
    begun = request.get(MULTIPART)
    return begun if begun is not None else await request.multipart()


def principal(request: web.Request) -> Principal | None:
    return request[PRINCIPAL]
