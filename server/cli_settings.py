"""What every `lianshen` subcommand starts from: its settings and a short database session.

The subcommand modules (server/cli_*.py) and the main command (server/cli.py) import these from
here, so that the main command can import the subcommands without them importing it back.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from server.settings import Settings, load_settings


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings, with the command line's --data-dir, --host and --port over them; password
    hashing is configured from them (a subcommand may create or check passwords)."""
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    server: dict[str, Any] = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None) is not None:
        server["port"] = args.port
    settings = load_settings(**overrides)
    from server.auth.passwords import configure_hashing

    auth = settings.auth
    configure_hashing(auth.argon2_time_cost, auth.argon2_memory_kib, auth.argon2_parallelism,
                      workers=auth.hash_workers, queue=auth.hash_queue)
    if server:
        settings = settings.model_copy(update={"server": settings.server.model_copy(update=server)})
    return settings


LOG_FILE = Path("logs") / "lianshen.log"


def log_to_file(settings: Settings) -> Path:
    """Send the log (migrations, requests, the SFU) to <data dir>/logs/lianshen.log, keeping only
    warnings and errors on the console: a person starting the server wants the URL and the accounts
    on their screen, an operator looking into a problem wants the whole story in one file."""
    path = settings.data_dir / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_console = logging.StreamHandler()
    to_console.setLevel(logging.WARNING)
    to_console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[to_file, to_console], force=True)
    return path


async def with_db(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(session)` in one committed transaction on a short-lived engine."""
    from server.db.engine import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()
