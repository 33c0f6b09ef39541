"""What every request handler may reach: settings, database sessions, shared services."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.auth.throttle import LoginThrottle
from server.db.models import AuthSession
from server.settings import Settings


@dataclass
class AppContext:
    """Long-lived objects built once from settings when the app starts."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    throttle: LoginThrottle

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> AppContext:
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            throttle=LoginThrottle.from_settings(settings.auth),
        )


CONTEXT = web.AppKey("lianshen_context", AppContext)
# Per-request values set by the middleware (see server.web.middleware).
DB = web.RequestKey("lianshen_db", AsyncSession)
# Subscripted rather than given a class: a union is not a class, and the key carries its type.
PRINCIPAL = web.RequestKey[Principal | None]("lianshen_principal")
AUTH_SESSION = web.RequestKey[AuthSession | None]("lianshen_auth_session")


def context(request: web.Request) -> AppContext:
    return request.app[CONTEXT]


def db(request: web.Request) -> AsyncSession:
    """The request's unit of work: committed when the handler succeeds, rolled back otherwise."""
    return request[DB]
