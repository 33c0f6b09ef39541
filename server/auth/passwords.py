"""Password hashing with argon2id, off the event loop in a small bounded pool of worker threads.

The cost is process-wide because every code path that hashes or verifies (CLI, API, demo seed)
must agree, and verification reads the cost from the stored hash anyway. Tests lower it to keep
a suite that signs in hundreds of times fast; production keeps argon2-cffi's RFC 9106 defaults.

One argon2 call costs a few hundred milliseconds of CPU. Run on the event loop it would stop every
meeting, page and socket.io heartbeat of the process for that long, once per sign-in; so hashing
and verifying run in worker threads (argon2-cffi releases the GIL while it computes). The pool is
bounded twice: `workers` threads compute, at most `queue` more calls wait, and a call beyond that
is refused at once with `HashingBusy` (the caller answers 503) rather than piling up unboundedly.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.settings import AuthSettings

MIN_LENGTH = 8
MAX_LENGTH = 256  # what the sign-in form and API accept


class HashingBusy(Exception):
    """Every worker is busy and the waiting line is full: the caller should ask to retry later."""


class _Hashing:
    """The configured hasher plus a dummy hash of the same cost (see `verification_slot`)."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.dummy = hasher.hash("lianshen-no-such-user")


class _Pool:
    """Worker threads plus the count of calls admitted (computing or waiting), and how long a
    verification typically takes (so a check that is skipped can answer after the same time)."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers, self.queue = workers, queue
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._lock = threading.Lock()
        self._admitted = 0
        self.typical_seconds = 0.0

    @contextmanager
    def slot(self) -> Iterator[Callable[..., asyncio.Future[Any]]]:
        """Admission for one call (raises `HashingBusy` when full); yields the function that runs
        it. The place is held until the thread has finished the call, even if the awaiting
        request is cancelled meanwhile, so the threads' work never exceeds the bound."""
        with self._lock:
            if self._admitted >= self.workers + self.queue:
                raise HashingBusy
            self._admitted += 1
        handed_over = False

        def run(function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
            nonlocal handed_over
            assert not handed_over, "one call per slot"
            handed_over = True
            future = self.executor.submit(function, *args)
            future.add_done_callback(lambda _: self._release())
            return asyncio.wrap_future(future)

        try:
            yield run
        finally:
            if not handed_over:
                self._release()

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1

    def timed_verify(self, hashing: _Hashing, password_hash: str | None, password: str) -> bool:
        started = time.perf_counter()
        try:
            return _verify(hashing, password_hash, password)
        finally:
            spent = time.perf_counter() - started
            self.typical_seconds = spent if not self.typical_seconds else 0.8 * self.typical_seconds + 0.2 * spent


_current = _Hashing(PasswordHasher())
_pool = _Pool(AuthSettings().hash_workers, AuthSettings().hash_queue)  # until configure_hashing


def configure_hashing(time_cost: int, memory_kib: int, parallelism: int, *, workers: int | None = None,
                      queue: int | None = None) -> None:
    """Set the argon2id cost for new hashes (existing hashes keep verifying with their own) and,
    when given, the pool's size (auth.hash_workers, auth.hash_queue).

    Called with the auth settings wherever a process starts (server app, CLI).
    """
    global _current, _pool
    hasher = _current.hasher
    if (hasher.time_cost, hasher.memory_cost, hasher.parallelism) != (time_cost, memory_kib, parallelism):
        _current = _Hashing(PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                           parallelism=parallelism))
    size = (workers or _pool.workers, _pool.queue if queue is None else queue)
    if size != (_pool.workers, _pool.queue):
        _pool.executor.shutdown(wait=False)  # calls already running finish in their threads
        _pool = _Pool(*size)


def _checked(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"密码至少 {MIN_LENGTH} 位 / password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"密码最多 {MAX_LENGTH} 位 / password must have at most {MAX_LENGTH} characters")


def _verify(hashing: _Hashing, password_hash: str | None, password: str) -> bool:
    try:
        return hashing.hasher.verify(password_hash or hashing.dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """Hash a new password in the pool; refuses ones too short to be worth storing (ValueError)
    and raises `HashingBusy` when the pool is full."""
    _checked(password)
    hasher = _current.hasher
    with _pool.slot() as run:
        return await run(hasher.hash, password)


Verifier = Callable[[str | None, str], Awaitable[bool]]


@contextmanager
def verification_slot() -> Iterator[Verifier]:
    """Admission to the pool for one password check; yields the verifier to await.

    Raises `HashingBusy` when the pool is full. Sign-in takes its slot before it counts the attempt,
    so an attempt refused as busy never uses up one of the account's allowed failures.

    The verifier is True when the password matches. With no account (hash None), a dummy hash of
    the same cost is verified instead, so that a missing username costs the same time as a wrong
    password and timing does not reveal which usernames exist.
    """
    pool, hashing = _pool, _current
    with pool.slot() as run:

        async def verify(password_hash: str | None, password: str) -> bool:
            return await run(pool.timed_verify, hashing, password_hash, password)

        yield verify


def typical_verify_seconds() -> float:
    """Recent time of one verification (0 before the first): what a skipped check waits instead."""
    return _pool.typical_seconds
