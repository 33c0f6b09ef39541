"""Build the aiohttp application from settings: the composition root of Lianshen."""

from __future__ import annotations

import importlib
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from server.auth.passwords import configure_hashing
from server.cluster.node import attach as attach_cluster
from server.context import AppContext
from server.db.engine import create_engine, session_factory
from server.live_recording import attach as attach_recording
from server.settings import Settings
from server.signaling import attach as attach_signaling
from server.web.api import API
from server.web.api.registry import openapi
from server.web.context import CONTEXT
from server.web.error_pages import error_middleware
from server.web.headers import install as install_headers
from server.web.middleware import auth_middleware, csrf_middleware, db_middleware
from server.web.pages.archive import attach_exports

CLIENT_WEB = Path(__file__).resolve().parent.parent / "client_web"

# Importing these modules declares their endpoints on API / their page routes.
API_MODULES = ("session", "meta", "calendar", "cases", "meetings", "people", "join_tokens", "materials",
               "minutes", "archive", "recordings", "links")
PAGE_MODULES = ("auth", "home", "cases", "meetings", "people", "room", "archive", "recordings",
                "minutes", "metrics")


def _load(package: str, names: tuple[str, ...]) -> list[object]:
    return [importlib.import_module(f"{package}.{name}") for name in names]


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(settings: Settings) -> web.Application:
    """The whole web application; the database engine opens on startup and closes on cleanup."""
    auth = settings.auth
    configure_hashing(auth.argon2_time_cost, auth.argon2_memory_kib, auth.argon2_parallelism,
                      workers=auth.hash_workers, queue=auth.hash_queue)
    app = web.Application(
        middlewares=[error_middleware, db_middleware, auth_middleware, csrf_middleware],
        client_max_size=settings.server.max_body_bytes,
    )
    engine = create_engine(settings.database_url)
    context = app[CONTEXT] = AppContext.build(settings, engine, session_factory(engine))
    install_headers(app)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(CLIENT_WEB / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    _load("server.web.api", API_MODULES)
    for module in _load("server.web.pages", PAGE_MODULES):
        app.router.add_routes(module.routes)  # type: ignore[attr-defined]
    API.mount(app)
    document = openapi(API)

    async def openapi_json(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", CLIENT_WEB / "static", append_version=True)

    async def _dispose(app: web.Application) -> None:
        await app[CONTEXT].engine.dispose()

    app.on_cleanup.append(_dispose)
    signaling = attach_signaling(app, context)
    recording = attach_recording(app, context, signaling)
    node = attach_cluster(app, signaling)
    if node is not None:
        node.records_on_home(recording)
    attach_exports(app)
    return app
