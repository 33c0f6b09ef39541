"""The front door: signed-in people go to their cases, others to the sign-in page."""

from __future__ import annotations

from aiohttp import web

from server.web.context import PRINCIPAL

routes = web.RouteTableDef()


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/cases" if request[PRINCIPAL] is not None else "/login")
