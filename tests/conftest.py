"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL where it runs), the app.

Migrations run once per session into a template (a SQLite file, a PostgreSQL template database);
each test gets a copy, which is much faster than migrating per test and keeps tests independent.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import build_app
from server.auth.passwords import configure_hashing
from server.db.engine import create_engine, session_factory
from server.db.migrate import upgrade
from server.settings import Settings, load_settings

# Cheap password hashing for the suite (it signs in hundreds of times); subprocesses inherit it.
TEST_HASH_COST = {"LIANSHEN_AUTH_ARGON2_TIME_COST": "1", "LIANSHEN_AUTH_ARGON2_MEMORY_KIB": "64",
                  "LIANSHEN_AUTH_ARGON2_PARALLELISM": "1"}
os.environ.update(TEST_HASH_COST)
configure_hashing(1, 64, 1)

PG_ADMIN_URL = os.environ.get("LIANSHEN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TEMPLATE_DB = f"lianshen_tpl_{os.getpid()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder so scripts/test.sh can run media and browser groups in a namespace."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for group in ("media", "browser"):
            if group in parts:
                item.add_marker(getattr(pytest.mark, group))


async def _pg_exec(*statements: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason to skip."""
    try:
        asyncio.run(_pg_exec("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
    return None


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"', f'CREATE DATABASE "{TEMPLATE_DB}"'))
    upgrade(_pg_url(TEMPLATE_DB))
    yield TEMPLATE_DB
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database; every DB test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "lianshen.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"lianshen_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database={"url": database_url})


@pytest.fixture
async def db_sessions(settings: Settings) -> AsyncIterator[object]:
    """A session factory on the test database (for arranging data and checking results)."""
    engine = create_engine(settings.database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    """An HTTP client against the real app on 127.0.0.1."""
    server = TestServer(build_app(settings), host="127.0.0.1")
    async with TestClient(server) as test_client:
        yield test_client
