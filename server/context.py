"""What the running server shares: settings, the database, and services built once at start.

Built by the composition root (server.app) and handed to every part that needs it: the web layer
reaches it through its aiohttp key (server.web.context.CONTEXT), signaling and recording are given it
when they are built. It lives outside the web layer because those parts are not web handlers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.auth.throttle import LoginThrottle
from server.services.log_hub import LogHub
from server.settings import Settings


@dataclass
class AppContext:
    """Long-lived objects built once from settings when the app starts."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    throttle: LoginThrottle
    log_hub: LogHub
    """Every meeting event these sessions commit, told to live meetings (signaling follows it)."""

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> AppContext:
        log_hub = LogHub()
        log_hub.watch(sessions)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            throttle=LoginThrottle.from_settings(settings.auth),
            log_hub=log_hub,
        )
