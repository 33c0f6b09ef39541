"""Work done one item at a time, in submission order, off the caller's path.

Media callbacks (a producer appears, the speaker changes) fire synchronously inside the SFU and
must not wait for a socket or the database; but what they cause must still reach clients and the
event log in the order it happened. A queue drained by one task gives both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class SerialQueue:
    """Runs submitted jobs one after another; a failing job is logged and skipped."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    def submit(self, job: Job) -> None:
        self._jobs.put_nowait(job)

    async def drain(self) -> None:
        """Wait until everything submitted so far has run."""
        await self._jobs.join()

    async def close(self) -> None:
        await self.drain()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                logger.exception("%s: job failed", self._name)
            finally:
                self._jobs.task_done()
