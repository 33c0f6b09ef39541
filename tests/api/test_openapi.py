"""The published OpenAPI document is valid OpenAPI 3.1 and describes exactly the routes served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate
from pydantic import TypeAdapter

from server.app import build_app
from server.settings import load_settings
from server.web.api import API

DOCUMENT = "/api/v1/openapi.json"
REF = "#/components/schemas/{model}"


async def _served(tmp_path: Path) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """The document as served over HTTP, and the (METHOD, path) pairs the app routes under
    /api/v1 (the document itself excluded: it describes the API, not its own URL). No database
    is needed: neither this request nor building the routes touches one."""
    app = build_app(load_settings(data_dir=tmp_path / "data"))
    routes = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and route.resource.canonical.startswith("/api/v1/")
              and route.resource.canonical != DOCUMENT}
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get(DOCUMENT)
        assert response.status == 200
        return await response.json(), routes


async def test_document_is_valid_openapi_3_1(tmp_path: Path) -> None:
    document, _ = await _served(tmp_path)
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises OpenAPIValidationError with the offending path


async def test_document_paths_equal_the_real_routes(tmp_path: Path) -> None:
    document, routes = await _served(tmp_path)
    documented = {(method.upper(), path) for path, operations in document["paths"].items()
                  for method in operations}
    assert documented - routes == set(), "documented but not served"
    assert routes - documented == set(), "served but not documented"


async def test_every_schema_name_means_one_model(tmp_path: Path) -> None:
    """Components are keyed by model name: two different models with one name would make the
    document describe one endpoint with another's schema. Each endpoint's own schema must match."""
    document, _ = await _served(tmp_path)
    components = document["components"]["schemas"]
    mismatches = []
    for endpoint in API.endpoints:
        schemas: dict[str, Any] = {}
        for model in (endpoint.body, endpoint.query):
            if model is not None:
                schema = model.model_json_schema(ref_template=REF)
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
        if endpoint.response is not None and endpoint.status != 204:
            schemas.update(TypeAdapter(endpoint.response).json_schema(
                ref_template=REF, mode="serialization").get("$defs", {}))
        mismatches += [f"{endpoint.method} {endpoint.full_path}: {name}" for name, schema in schemas.items()
                       if components.get(name) != schema]
    assert not mismatches, "schemas shadowed by another model of the same name:\n" + "\n".join(mismatches)
