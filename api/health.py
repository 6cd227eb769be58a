"""Liveness (``/ping``) and readiness (``/health``: database, cache, channel layer)."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from ninja import Router

from api.schemas import Schema

router = Router(tags=["health"])


class PingOut(Schema):
    ok: bool


@router.get("/ping", response=PingOut, auth=None)
async def ping(request: HttpRequest):
    """Liveness: the process answers. No I/O (the benchmarks' baseline endpoint)."""
    return {"ok": True}


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


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
        await check()
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}


@router.get("/health", auth=None)
async def health(request: HttpRequest):
    """Readiness: database, cache and channel layer each answer. 503 when any does not."""
    results = {
        "database": await _timed(sync_to_async(_check_database)),
        "cache": await _timed(sync_to_async(_check_cache)),
        "channel_layer": await _timed(_check_channel_layer),
    }
    ok = all(r["ok"] for r in results.values())
    return JsonResponse({"ok": ok, "checks": results}, status=200 if ok else 503)
