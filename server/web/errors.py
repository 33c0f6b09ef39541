"""One error shape for the API and readable error pages for people: never a bare 500 or a traceback.

API errors are JSON: {"error": {"status", "code", "message", "details"}}; `message` is bilingual
(Chinese / English) because API clients show it to users of either language.

This module holds the refusal itself (pages and API handlers raise it); how it is answered lives in
server.web.error_pages, which renders pages and so imports the pages' renderer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_GENERIC = {
    400: ("bad_request", "请求格式错误 / malformed request"),
    401: ("unauthenticated", "请先登录 / sign in first"),
    403: ("forbidden", "无权执行此操作 / not allowed"),
    404: ("not_found", "不存在或无权查看 / not found"),
    405: ("method_not_allowed", "不支持该请求方法 / method not allowed"),
    409: ("conflict", "与当前状态冲突 / conflicts with the current state"),
    413: ("too_large", "请求体过大 / request body too large"),
    415: ("unsupported_media_type", "请使用 application/json / send application/json"),
    422: ("invalid", "数据校验未通过 / validation failed"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试 / too many attempts, try again later"),
}


class ApiError(Exception):
    """A refusal with an HTTP status, a stable machine code and a message for people."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        default_code, default_message = _GENERIC.get(status, ("error", "错误 / error"))
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.details = details or []


def validation_error(exc: ValidationError) -> ApiError:
    """Turn pydantic's report into a 422 naming each bad field."""
    details = [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False)
    ]
    fields = "; ".join(f"{d['field'] or '(body)'}: {d['message']}" for d in details)
    return ApiError(422, f"数据校验未通过 / validation failed: {fields}", details=details)
