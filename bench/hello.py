"""GET /api/v1/ping under daphne: the baseline every other benchmark reports its ratio to.

``python -m bench hello`` starts Linli's real ASGI app (``backend.asgi:application``) on a fresh
SQLite database, warms up, then keeps 64 keep-alive connections busy on ``/api/v1/ping`` (a bare
async django-ninja endpoint) for ``--duration`` seconds. ``--app bench.apps:hello_app`` measures a
raw ASGI hello instead (the floor under any Django figure).

Other benchmarks call ``measure_hello(server)`` in their own run and divide by its ``rps``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

from bench.harness import LINLI_APP, READY_PATH, Server, cpu_plan, pinned, result, rss_kib
from bench.loadgen import http_load

log = logging.getLogger("bench.hello")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app", default=LINLI_APP, help=f"ASGI app to serve (default {LINLI_APP})")
    parser.add_argument("--path", default=READY_PATH, help=f"path to request (default {READY_PATH})")


async def measure_hello_async(
    url: str,
    *,
    duration: float = 10.0,
    warmup: float = 2.0,
    connections: int = 64,
    path: str = READY_PATH,
    max_requests: int | None = None,
) -> dict[str, Any]:
    """Warm up, then measure ``GET path`` on the server at ``url``; figures as a dict."""
    if warmup > 0:
        await http_load(url, path, connections=connections, duration=warmup, max_requests=max_requests)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    load = await http_load(url, path, connections=connections, duration=duration, max_requests=max_requests)
    cpu_pct = 100 * (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    figures = load.as_dict()
    figures.update(path=path, warmup_s=warmup, loadgen_cpu_pct=round(cpu_pct, 1))
    if load.requests == 0 or load.non_2xx or load.errors_total:
        log.warning("%s: %d responses, %d not 2xx, errors %s", path, load.requests, load.non_2xx, load.errors)
    return figures


def measure_hello(
    server: Server | None = None,
    duration: float = 10.0,
    *,
    warmup: float = 2.0,
    connections: int = 64,
    app: str = LINLI_APP,
    path: str = READY_PATH,
    max_requests: int | None = None,
    pin: bool = True,
) -> dict[str, Any]:
    """The hello baseline, on ``server`` if given, else on a server of its own serving ``app``.

    With ``pin`` and two usable cores, the server it starts gets the first and this process (the
    load generator) the second for the duration of the measurement.
    """
    server_cpus, loadgen_cpus = cpu_plan() if pin else (None, None)
    if server is None:
        own = Server.linli(cpus=server_cpus) if app == LINLI_APP else Server(app, cpus=server_cpus)
        with own:
            figures = measure_hello(
                own,
                duration,
                warmup=warmup,
                connections=connections,
                app=app,
                path=path,
                max_requests=max_requests,
                pin=pin,
            )
        return figures
    if server.cpus is None or loadgen_cpus is None or set(loadgen_cpus) & set(server.cpus):
        loadgen_cpus = None  # pinning only one side buys nothing
    log.info(
        "hello: %s%s, %d connections, %.1fs (+%.1fs warm-up)", server.url, path, connections, duration, warmup
    )
    with pinned(loadgen_cpus):
        figures = asyncio.run(
            measure_hello_async(
                server.url,
                duration=duration,
                warmup=warmup,
                connections=connections,
                path=path,
                max_requests=max_requests,
            )
        )
    figures.update(
        app=server.app,
        server_rss_kib=rss_kib(server.pid),
        server_cpus=server.cpus,
        loadgen_cpus=loadgen_cpus,
    )
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    figures = measure_hello(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        app=args.app,
        path=args.path,
        max_requests=args.max_requests,
        pin=not args.no_pin,
    )
    rps = figures.pop("rps")
    return result("hello", rps=rps, ratio=1.0, baseline_rps=rps, **figures)
