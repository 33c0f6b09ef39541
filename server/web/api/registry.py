"""Declarative API routes: one declaration drives routing, role checks, validation and OpenAPI.

Keeping the OpenAPI document generated from the same objects that route requests is what keeps it
true to the real routes; a test compares the two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.domain.roles import Role
from server.web.context import DB, PRINCIPAL
from server.web.errors import ApiError, validation_error
from server.web.ids import path_id

PREFIX = "/api/v1"
ALL_ROLES: frozenset[Role] = frozenset(Role)


@dataclass
class Call:
    """What a handler receives: the request, who asks, the unit of work and validated input."""

    request: web.Request
    principal: Principal  # None only on public endpoints
    db: AsyncSession
    body: Any = None
    query: Any = None

    def path_int(self, name: str) -> int:
        """A numeric path parameter; anything else is a 404 (no such resource)."""
        return path_id(self.request, name)


ApiHandler = Callable[[Call], Awaitable[Any]]


@dataclass
class Endpoint:
    method: str
    path: str
    handler: ApiHandler
    summary: str
    roles: frozenset[Role]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    tag: str = ""
    public: bool = False

    @property
    def full_path(self) -> str:
        return PREFIX + self.path


@dataclass
class Api:
    """Collects endpoints; `mount` adds them to an aiohttp app, `openapi` describes them."""

    endpoints: list[Endpoint] = field(default_factory=list)

    def route(self, method: str, path: str, *, summary: str, roles: Iterable[Role] = ALL_ROLES,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: Any = None, status: int = 200, tag: str = "",
              public: bool = False) -> Callable[[ApiHandler], ApiHandler]:
        """Declare an endpoint; `public` ones also serve callers who are not signed in."""
        def decorate(handler: ApiHandler) -> ApiHandler:
            self.endpoints.append(Endpoint(method, path, handler, summary, frozenset(roles), body,
                                           query, response, status, tag, public))
            return handler
        return decorate

    def mount(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.full_path, _wrap(endpoint))


async def _json_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    if request.content_type != "application/json":
        raise ApiError(415)
    raw = await request.read()
    try:
        data = json.loads(raw)
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of over 4300 digits
        raise ApiError(400, f"JSON 格式错误 / malformed JSON: {exc}") from None
    except RecursionError:  # the decoder recurses per level of [ and {: no body of ours nests deep
        raise ApiError(400, "JSON 嵌套层数过多 / JSON nested too deeply") from None
    return model.model_validate(data)


def _query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    unknown = set(request.query) - set(model.model_fields)
    if unknown:
        raise ApiError(422, f"未知查询参数 / unknown query parameters: {', '.join(sorted(unknown))}")
    return model.model_validate(dict(request.query))


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    adapter = TypeAdapter(endpoint.response) if endpoint.response is not None else None

    async def handle(request: web.Request) -> web.StreamResponse:
        principal: Principal | None = request[PRINCIPAL]
        if not endpoint.public:
            if principal is None:
                raise ApiError(401)
            if principal.role not in endpoint.roles:
                raise ApiError(403)
        try:
            call = Call(
                request=request,
                # None only on public endpoints, whose handlers do not read it (login sets it first).
                principal=cast(Principal, principal),
                db=request[DB],
                query=_query(request, endpoint.query) if endpoint.query else None,
                body=await _json_body(request, endpoint.body) if endpoint.body else None,
            )
        except ValidationError as exc:
            raise validation_error(exc) from None
        result = await endpoint.handler(call)
        if isinstance(result, web.StreamResponse):
            return result
        if endpoint.status == 204 or adapter is None:
            return web.Response(status=204)
        payload = adapter.dump_python(result, mode="json")
        return web.json_response(payload, status=endpoint.status,
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))

    handle.__name__ = endpoint.handler.__name__
    return handle


_PATH_PARAM = re.compile(r"{(\w+)}")


def openapi(api: Api, extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every declared endpoint."""
    from pydantic.json_schema import models_json_schema

    models = {m for e in api.endpoints for m in (e.body, e.query) if m is not None}
    defs: dict[str, Any] = {}
    if models:
        _, schema = models_json_schema([(m, "validation") for m in models],
                                       ref_template="#/components/schemas/{model}")
        defs.update(schema.get("$defs", {}))
    paths: dict[str, Any] = dict(extra_paths or {})
    for e in api.endpoints:
        op: dict[str, Any] = {"summary": e.summary, "operationId": e.handler.__name__,
                              "tags": [e.tag] if e.tag else [],
                              "x-roles": ["public"] if e.public else sorted(r.value for r in e.roles)}
        if e.public:
            op["security"] = []
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in _PATH_PARAM.findall(e.path)]
        if e.query is not None:
            for name, info in e.query.model_fields.items():
                params.append({"name": name, "in": "query", "required": info.is_required(),
                               "schema": defs.get(e.query.__name__, {}).get("properties", {}).get(name, {})})
        if params:
            op["parameters"] = params
        if e.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{e.body.__name__}"}}}}
        responses: dict[str, Any] = {}
        if e.response is not None and e.status != 204:
            schema = TypeAdapter(e.response).json_schema(ref_template="#/components/schemas/{model}",
                                                         mode="serialization")
            defs.update(schema.pop("$defs", {}))
            responses[str(e.status)] = {"description": "OK",
                                        "content": {"application/json": {"schema": schema}}}
        else:
            responses["204"] = {"description": "No content"}
        for status in (400, 401, 403, 404, 409, 413, 415, 422):
            responses[str(status)] = {"description": _DESCRIPTIONS[status],
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        paths.setdefault(e.full_path, {})[e.method.lower()] = op
    defs["Error"] = _ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lianshen 联审 API", "version": "1"},
        "paths": paths,
        "components": {"schemas": defs, "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "lianshen_session"}}},
        "security": [{"session": []}],
    }


_DESCRIPTIONS = {400: "Malformed request", 401: "Not signed in", 403: "Role not allowed or CSRF",
                 404: "No such resource visible to the caller", 409: "Conflicts with current state",
                 413: "Body too large", 415: "Not JSON", 422: "Validation failed"}

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}}}}},
}
