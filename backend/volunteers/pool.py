"""A small bounded thread pool for the sign-up endpoint's database work.

Under daphne every request to a sync view gets a thread of its own (Django's
ThreadSensitiveContext per request), so a burst of 200 sign-ups opens 200 database connections at
once: PostgreSQL refuses connections past ``max_connections`` (500s) and SQLite writers spin in
their busy handlers. The async sign-up endpoint instead runs its database work (token lookup and
the sign-up transaction) on ``conf.signup_workers()`` threads; the other requests wait on the
event loop without holding a connection. Each pool thread keeps one connection and checks it
before use (``is_usable``), so at most ``workers`` connections exist and none goes stale.

With 0 workers (the default under pytest, where the test's transaction lives on the calling
thread's connection) the work runs thread-sensitively, like a sync view.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections

from backend.volunteers import conf

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_size = 0


def _get_executor(workers: int) -> ThreadPoolExecutor:
    global _executor, _size
    with _lock:
        if _executor is None or _size != workers:
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="linli-signup")
            _size = workers
        return _executor


def _checked(func: Callable[P, R]) -> Callable[P, R]:
    """Each pool thread keeps its connection between calls (connecting to PostgreSQL costs more
    than a sign-up); a connection that stopped working is dropped before the call."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for conn in connections.all(initialized_only=True):
            if conn.connection is not None and (conn.errors_occurred or not conn.is_usable()):
                conn.close()
            conn.errors_occurred = False
        return func(*args, **kwargs)

    return run


def pooled(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``await pooled(func)(...)``: run ``func`` on the bounded pool (or thread-sensitively)."""
    workers = conf.signup_workers()
    if workers <= 0:
        return sync_to_async(func, thread_sensitive=True)
    return sync_to_async(_checked(func), thread_sensitive=False, executor=_get_executor(workers))


def reset() -> None:
    """Close every pool thread's connection and stop the pool (tests; a settings change)."""
    global _executor, _size
    with _lock:
        executor, size = _executor, _size
        _executor, _size = None, 0
    if executor is None:
        return
    barrier = threading.Barrier(size)

    def close() -> None:
        connections.close_all()
        # hold this thread until every thread has taken one task: each closes its own
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)

    for future in [executor.submit(close) for _ in range(size)]:
        future.result()
    executor.shutdown(wait=True)
