"""The garbage collector and a media server: start-up's objects are set aside once.

CPython's full (generation 2) collection walks every tracked object, and it runs in whatever code
allocated last: on a node that is the event loop, so for as long as it takes no packet is
forwarded to anyone. After start-up the server holds ~175 000 such objects (aiortc, av,
SQLAlchemy, Jinja, the routes, the settings) that live as long as the process: a full collection
of them took ~130 ms here, and such collections come whenever the heap grows (joins, a recording
starting), each one a freeze of every meeting's video on the node. ``gc.freeze()`` moves them out
of the collector's reach for good (they are never garbage), so a full collection walks only what
came after start-up: the live meetings.
"""

import gc

from aiohttp import web


async def _freeze_startup_heap(_app: web.Application) -> None:
    gc.collect()  # what start-up left as garbage goes now; frozen, it would stay forever
    gc.freeze()


def freeze_after_startup(app: web.Application) -> None:
    """Set start-up's objects aside once the app has started (its last startup step).

    For the long-running server only: a process that builds many apps (the tests) would keep
    each one's cyclic garbage forever."""
    app.on_startup.append(_freeze_startup_heap)
