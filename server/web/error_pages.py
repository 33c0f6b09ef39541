"""How a refusal is answered: JSON for the API and scripts, a readable page for people.

The middleware sits outside everything else, so that no failure, expected (ApiError) or not,
reaches a client as a bare 500 or a traceback. It lives apart from server.web.errors because it
renders pages, and the pages import the errors.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from pydantic import ValidationError

from server.web import i18n
from server.web.errors import ApiError, Handler, validation_error
from server.web.form_errors import page_message
from server.web.pages.render import render_error

log = logging.getLogger(__name__)


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def error_response(request: web.Request, error: ApiError) -> web.Response:
    if _wants_json(request):
        body = {"error": {"status": error.status, "code": error.code, "message": error.message,
                          "details": error.details}}
        return web.json_response(body, status=error.status,
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))
    return render_error(request, error)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every failure to a deliberate 4xx/5xx response in the caller's language."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(request, exc)
    except ValidationError as exc:
        if _wants_json(request):
            return error_response(request, validation_error(exc))
        return render_error(request, ApiError(422, page_message(i18n.language(request), exc)))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, ApiError(exc.status))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, ApiError(500, "服务器内部错误 / internal error", code="internal"))
