"""Run alembic migrations from code, so `lianshen db upgrade` needs no alembic.ini on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An alembic Config pointing at our migrations and the given database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (blocking: alembic's env runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """`upgrade` from inside a running event loop (tests, the demo command)."""
    await asyncio.to_thread(upgrade, url, revision)


def is_at_head(url: str) -> bool:
    """True when the database carries the newest migration (serve refuses a stale schema)."""
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    return asyncio.run(_current_revisions(url)) == heads


async def _current_revisions(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    from server.db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()))
    finally:
        await engine.dispose()
