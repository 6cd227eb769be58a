"""Per-client-address rate limits of the public lookup (QR scans and manual lookups).

Fixed windows: a client address may make ``N`` lookups in each window of the configured period
(``LINLI_LOOKUP_RATE`` = ``"60/m"`` → 60 per calendar minute, windows aligned on the epoch so
every process agrees). The client address is ``backend.core.context.client_ip`` with
``NINJA_NUM_PROXIES`` trusted proxies, as everywhere else in Linli.

Where the counts live
    With ``REDIS_URL``: in Redis, shared by every process — one pipelined ``INCR`` + ``EXPIRE``
    round trip per lookup. ``ahit`` talks to Redis through ``redis.asyncio`` on the caller's event
    loop (the ASGI fast path never hops to a thread for it); ``hit`` uses the blocking client (sync
    views). Without Redis: a dictionary in this process (the current window only).
    If Redis cannot be reached the lookup is let through and the failure logged: a resident at
    the door gets an answer rather than an error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from ninja.throttling import SimpleRateThrottle

from backend.core.context import client_ip
from backend.credentials import conf

log = logging.getLogger("linli.credentials.ratelimit")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds until the window ends (≥ 1 when refused)


ALLOWED = Decision(True)


@functools.lru_cache(maxsize=32)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/m"`` → (60, 60): the same syntax as ninja's throttles (``"10/5m"``, ``"100/s"``…)."""
    count, seconds = SimpleRateThrottle.parse_rate(_RATE_SYNTAX, rate)
    if not count or not seconds or count < 0 or seconds <= 0:
        raise ValueError(f"Invalid rate: {rate!r}")
    return count, seconds


_RATE_SYNTAX = SimpleRateThrottle.__new__(SimpleRateThrottle)  # only its parse_rate is used


class _LocalCounts:
    """Counts of the current window per (scope, period), in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows: dict[tuple[str, int], tuple[int, dict[str, int]]] = {}

    def incr(self, scope: str, seconds: int, window: int, ident: str) -> int:
        with self.lock:
            current = self.windows.get((scope, seconds))
            if current is None or current[0] != window:  # a new window: the old counts go
                current = self.windows[(scope, seconds)] = (window, {})
            counts = current[1]
            count = counts[ident] = counts.get(ident, 0) + 1
            return count

    def clear(self) -> None:
        with self.lock:
            self.windows.clear()


_local = _LocalCounts()
_sync_client: Any = None
_sync_lock = threading.Lock()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
_last_warning = 0.0


def _redis_url() -> str:
    return getattr(settings, "REDIS_URL", None) or ""


def _redis_sync() -> Any:
    global _sync_client
    if _sync_client is None:
        with _sync_lock:
            if _sync_client is None:
                import redis

                _sync_client = redis.Redis.from_url(_redis_url(), socket_timeout=2, socket_connect_timeout=2)
    return _sync_client


def _redis_async() -> Any:
    """The ``redis.asyncio`` client of the running event loop (a client belongs to one loop)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio

        client = _async_clients[loop] = redis.asyncio.Redis.from_url(
            _redis_url(), socket_timeout=2, socket_connect_timeout=2
        )
    return client


async def aclose() -> None:
    """Close the running loop's Redis client (tests whose loop ends; a server's loop never does)."""
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def reset() -> None:
    """Forget every count (tests): this process's, and this process's keys in Redis."""
    _local.clear()
    if _redis_url():
        client = _redis_sync()
        keys = list(client.scan_iter(match=f"{_key_prefix()}*", count=1000))
        if keys:
            client.delete(*keys)


def _key_prefix() -> str:
    return f"{getattr(settings, 'LINLI_REDIS_PREFIX', 'linli')}:rl:"


def _redis_failed() -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        log.exception("Rate-limit counter unavailable; lookups are let through")


class RateLimit:
    """One rate limit (``scope``) per client address; ``rate`` is read on every call, so a changed
    setting applies without a restart."""

    def __init__(self, *, scope: str, rate: Callable[[], str]) -> None:
        self.scope = scope
        self.rate = rate

    def _window(self, meta: dict[str, Any]) -> tuple[str, int, int, int, float]:
        count, seconds = parse_rate(self.rate())
        ident = client_ip(meta, settings.NINJA_NUM_PROXIES) or "unknown"
        now = time.time()
        window = int(now // seconds)
        return ident, count, seconds, window, (window + 1) * seconds - now

    def _decide(self, used: int, count: int, left: float) -> Decision:
        if used <= count:
            return ALLOWED
        return Decision(False, max(1, math.ceil(left)))

    def _key(self, ident: str, seconds: int, window: int) -> str:
        return f"{_key_prefix()}{self.scope}:{seconds}:{window}:{ident}"

    def hit(self, meta: dict[str, Any]) -> Decision:
        """Count one lookup from the client of ``meta`` (``request.META``); sync callers."""
        ident, count, seconds, window, left = self._window(meta)
        if not _redis_url():
            return self._decide(_local.incr(self.scope, seconds, window, ident), count, left)
        key = self._key(ident, seconds, window)
        try:
            with _redis_sync().pipeline(transaction=False) as pipe:
                used, _ = pipe.incr(key).expire(key, seconds).execute()
        except Exception:
            _redis_failed()
            return ALLOWED
        return self._decide(int(used), count, left)

    async def ahit(self, meta: dict[str, Any]) -> Decision:
        """``hit`` for code on an event loop: no thread hop (in-process dict, or redis.asyncio)."""
        ident, count, seconds, window, left = self._window(meta)
        if not _redis_url():
            return self._decide(_local.incr(self.scope, seconds, window, ident), count, left)
        key = self._key(ident, seconds, window)
        try:
            async with _redis_async().pipeline(transaction=False) as pipe:
                used, _ = await pipe.incr(key).expire(key, seconds).execute()
        except Exception:
            _redis_failed()
            return ALLOWED
        return self._decide(int(used), count, left)


lookup_limit = RateLimit(scope="credential-lookup", rate=conf.lookup_rate)
manual_limit = RateLimit(scope="credential-manual", rate=conf.manual_lookup_rate)
