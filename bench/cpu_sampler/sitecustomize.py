"""CPU-time sampler for the SFU server process (py-spy reads garbage stacks from it: greenlet's frame
switching on 3.11), loaded by putting this directory on PYTHONPATH.

Only a ``python -m server serve`` process samples, and only when ``LIANSHEN_SAMPLER_OUT`` names a
directory: every 4 ms of process CPU time (ITIMER_PROF) the handler records the main thread's Python
stack; at exit the samples go to ``<dir>/<pid>.samples``, one ``<unix time> frame;frame;...`` a line
(``collapse.py`` turns a time range of them into flame-graph counts). ``LIANSHEN_SAMPLER_DELAY`` (s,
default 0) skips start-up. The garbage collector's passes after that go to ``<dir>/<pid>.gc``: one
``<unix time> <generation> <seconds> <objects collected>`` a line (the sampler sees a collection
only as time in whatever allocating frame triggered it). With ``LIANSHEN_SAMPLER_WAKEUPS=1`` the
event loop's wake-ups and the callbacks it runs are counted too, per second and callback, into ``<dir>/<pid>.wakeups``
(this costs a little per callback: use it for the counts, not with the CPU figures).

    LIANSHEN_SAMPLER_OUT=/tmp/prof LIANSHEN_SAMPLER_DELAY=25 \\
        PYTHONPATH=.:bench/cpu_sampler python bench/sfu.py --no-baseline --scenarios fanout:10
"""

import atexit
import collections
import gc
import os
import signal
import sys
import threading
import time
import types
from typing import Any

_OUT = os.environ.get("LIANSHEN_SAMPLER_OUT")


def _is_server() -> bool:
    with open("/proc/self/cmdline", "rb") as handle:
        argv = handle.read().split(b"\0")
    return b"server" in argv and b"serve" in argv


def _start(out: str, delay: float) -> None:
    samples: list[tuple[float, str]] = []

    def label(frame: types.FrameType) -> str:
        code = frame.f_code
        return f"{code.co_name} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"

    def sample(signum: int, frame: types.FrameType | None) -> None:
        stack = []
        while frame is not None:
            stack.append(label(frame))
            frame = frame.f_back
        samples.append((time.time(), ";".join(reversed(stack))))

    passes: list[tuple[float, int, float, int]] = []
    started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            passes.append((time.time(), info["generation"], time.perf_counter() - started[0], info["collected"]))

    wakeups: collections.Counter[tuple[int, str]] = collections.Counter()
    """(unix second, callback): how many times."""

    def count_wakeups() -> None:
        import asyncio.events
        import selectors

        select = selectors.EpollSelector.select
        run = asyncio.events.Handle._run

        def counted_select(self: selectors.EpollSelector, timeout: float | None = None) -> list[Any]:
            ready = select(self, timeout)
            wakeups[int(time.time()), "(wake-ups: select returned)"] += 1
            return ready

        def counted_run(self: asyncio.events.Handle) -> None:
            callback = self._callback  # type: ignore[attr-defined]
            target = getattr(callback, "__self__", None)
            coro = getattr(target, "get_coro", lambda: None)()  # a task's step: name its coroutine
            name = getattr(coro, "__qualname__", None) or getattr(callback, "__qualname__", callback)
            wakeups[int(time.time()), str(name)] += 1
            run(self)

        selectors.EpollSelector.select = counted_select  # type: ignore[method-assign, assignment]
        asyncio.events.Handle._run = counted_run  # type: ignore[method-assign]

    def arm() -> None:
        gc.callbacks.append(on_gc)
        if os.environ.get("LIANSHEN_SAMPLER_WAKEUPS"):
            count_wakeups()
        signal.signal(signal.SIGPROF, sample)
        signal.setitimer(signal.ITIMER_PROF, 0.004, 0.004)

    def dump() -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, f"{os.getpid()}.samples"), "w") as handle:
            for stamp, stack in samples:
                handle.write(f"{stamp:.3f} {stack}\n")
        with open(os.path.join(out, f"{os.getpid()}.gc"), "w") as handle:
            for stamp, generation, seconds, collected in passes:
                handle.write(f"{stamp:.3f} {generation} {seconds:.6f} {collected}\n")
        if wakeups:
            with open(os.path.join(out, f"{os.getpid()}.wakeups"), "w") as handle:
                for (second, name), count in sorted(wakeups.items()):
                    handle.write(f"{second} {count} {name}\n")

    # signal.signal must run in the main thread: a timer thread only waits, then the main thread arms
    # on its next bytecode through a signal of its own (SIGUSR2 is unused by the server).
    signal.signal(signal.SIGUSR2, lambda *_: arm())
    threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGUSR2)).start()
    atexit.register(dump)


if _OUT and _is_server():
    _start(_OUT, float(os.environ.get("LIANSHEN_SAMPLER_DELAY", "0")))
del sys
