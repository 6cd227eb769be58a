"""Liveness (``/ping``) and readiness (``/health``: database, cache, channel layer, storage).

Each check is bounded (``CHECK_TIMEOUT``): a database that is away shows at once as
``{"ok": false, "error": "timeout"}`` and a 503, not after the connection pool's own wait."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema

from api.schemas import ErrorOut
from backend.core.errors import ServiceUnavailable
from backend.core.faults import DATABASE_RETRY_AFTER
from backend.core.i18n import request_lang

router = Router(tags=["health"])


class PingOut(Schema):
    ok: bool


@router.get("/ping", response=PingOut, auth=None)
async def ping(request: HttpRequest):
    """Liveness: the process answers. No I/O (the benchmarks' baseline endpoint)."""
    return {"ok": True}


CHECK_TIMEOUT = 1.5


def _check_database() -> None:
    # Runs on a thread of its own (a hung database must not hold the thread other requests'
    # database work runs on), so the connection it took goes back at once.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def _check_storage() -> None:
    """The media directory takes a write (uploads go there): create, write, remove a file."""
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".health-", delete=True) as handle:
        handle.write(b"ok")
        handle.flush()


def _check_cache() -> None:
    key = f"health:{time.monotonic_ns()}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache read-back failed")
    cache.delete(key)


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.check"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("type") != "health.check":
        raise RuntimeError("channel layer read-back failed")


async def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT)
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except TimeoutError:
        return {"ok": False, "error": "timeout"}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}


class HealthCheckOut(Schema):
    ok: bool
    ms: float | None = None
    error: str | None = None


class HealthOut(Schema):
    ok: bool
    checks: dict[str, HealthCheckOut]


@router.get("/health", response={200: HealthOut, 503: ErrorOut}, auth=None)
async def health(request: HttpRequest):
    """Readiness: database, cache, channel layer and media storage each answer (each within
    1.5 s). When any does not: 503 ``service_unavailable`` with ``Retry-After``, the checks in
    ``details.checks``."""
    results = {
        "database": await _timed(sync_to_async(_check_database, thread_sensitive=False)),
        "cache": await _timed(sync_to_async(_check_cache, thread_sensitive=False)),
        "channel_layer": await _timed(_check_channel_layer),
        "storage": await _timed(sync_to_async(_check_storage, thread_sensitive=False)),
    }
    if all(r["ok"] for r in results.values()):
        return JsonResponse({"ok": True, "checks": results})
    error = ServiceUnavailable(checks=results, retry_after=DATABASE_RETRY_AFTER)
    response = JsonResponse(
        error.body(request_lang(request)), status=503, json_dumps_params={"ensure_ascii": False}
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
