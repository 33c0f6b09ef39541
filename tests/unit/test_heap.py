"""The server sets start-up's objects aside from the collector once it has started (server/heap.py)."""

import gc

from aiohttp import web

from server.heap import freeze_after_startup


async def test_after_startup_what_startup_made_is_out_of_the_collectors_reach() -> None:
    startup_objects = [[i] for i in range(50_000)]  # lists are tracked by the collector
    app = web.Application()
    freeze_after_startup(app)
    assert gc.get_freeze_count() == 0
    app.freeze()
    try:
        await app.startup()
        assert gc.get_freeze_count() >= len(startup_objects)
    finally:
        gc.unfreeze()  # the rest of this test process builds and drops many apps
