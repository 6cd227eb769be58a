"""Idle live-dashboard sockets held by one daphne process: how many, memory per socket, leaks.

``python -m bench ws_connections [--sockets 5000] [--cycles 10] [--cycle-sockets 1000]``

Starts Linli under daphne (fresh SQLite, in-memory layer), seeds one event, then opens
``--sockets`` authenticated dashboard sockets on ``/ws/v1/events/{id}/live`` (each gets its
snapshot, then idles). Reports how many were held, the server's RSS before and with them
(``kib_per_socket``), and whether a scan still reaches them all. Then ``--cycles`` rounds of
connect/disconnect of ``--cycle-sockets`` sockets: ``rss_after_cycles_kib`` against the RSS after
the first round (``growth_pct``; target: within 10%). Targets (issue 6): ≥ 5,000 sockets at
≤ 100 KiB each. The baseline in the same run is an idle server's RSS; ``ratio`` = sockets held ÷
sockets asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import sys
import time
from typing import Any

from bench.checkin import connect, load_seed, seed_command
from bench.harness import Server, cpu_plan, pinned, result, rss_kib

log = logging.getLogger("bench.ws_connections")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sockets", type=int, default=5000, help="idle dashboard sockets to hold (default 5000)"
    )
    parser.add_argument("--cycles", type=int, default=10, help="connect/disconnect rounds (default 10)")
    parser.add_argument("--cycle-sockets", type=int, default=1000, help="sockets per round (default 1000)")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight (default 100)")


async def _open(url: str, token: str, count: int, concurrency: int) -> tuple[list[Any], int]:
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one() -> Any:
        nonlocal failures
        async with gate:
            try:
                ws = await connect(url, token, subprotocol=True, open_timeout=60)
                snapshot = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert snapshot["type"] == "snapshot"
                return ws
            except Exception:  # counted, the run goes on
                failures += 1
                return None

    sockets = await asyncio.gather(*(one() for _ in range(count)))
    return [ws for ws in sockets if ws is not None], failures


async def _close_all(sockets: list[Any]) -> None:
    async def one(ws: Any) -> None:
        with contextlib.suppress(Exception):
            await ws.close()

    for start in range(0, len(sockets), 500):
        await asyncio.gather(*(one(ws) for ws in sockets[start : start + 500]))


def _settle(pid: int, seconds: float = 2.0) -> int:
    time.sleep(seconds)
    return rss_kib(pid)


async def measure(server: Server, seed: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    live_url = f"{server.ws_url}/ws/v1/events/{seed['event_id']}/live"
    scan_url = f"{server.ws_url}/ws/v1/events/{seed['event_id']}/scan"
    token = seed["coordinator"]
    # Warm up code paths (imports, caches) so they are not counted as per-socket memory.
    warm, _ = await _open(live_url, token, 20, 20)
    await _close_all(warm)
    rss_idle = _settle(server.pid)
    started = time.perf_counter()
    held, failures = await _open(live_url, token, args.sockets, args.concurrency)
    connect_s = time.perf_counter() - started
    rss_held = _settle(server.pid)
    # Every idle dashboard still hears a scan.
    scanner = await connect(scan_url, seed["scanners"][0])
    await scanner.send(json.dumps({"type": "redeem", "secret": seed["secrets"][0], "nonce": "wsconn-0001"}))
    await asyncio.wait_for(scanner.recv(), 30)
    await scanner.close()

    async def heard(ws: Any) -> bool:
        try:
            return json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "checkin"
        except Exception:
            return False

    got = sum(await asyncio.gather(*(heard(ws) for ws in held)))
    await _close_all(held)
    del held
    gc.collect()
    rss_after_close = _settle(server.pid)
    rounds = []
    for _ in range(args.cycles):
        batch, _ = await _open(live_url, token, args.cycle_sockets, args.concurrency)
        await _close_all(batch)
        rounds.append(_settle(server.pid, 1.0))
    first = rounds[0] if rounds else rss_after_close
    last = rounds[-1] if rounds else rss_after_close
    count = args.sockets - failures
    per_socket = (rss_held - rss_idle) / count if count and rss_held > rss_idle else None
    return {
        "asked": args.sockets,
        "held": args.sockets - failures,
        "connect_failures": failures,
        "connect_s": round(connect_s, 1),
        "heard_scan": got,
        "rss_idle_kib": rss_idle,
        "rss_held_kib": rss_held,
        "kib_per_socket": round(per_socket, 1) if per_socket else None,
        "rss_after_close_kib": rss_after_close,
        "cycles": args.cycles,
        "cycle_sockets": args.cycle_sockets,
        "rss_after_first_cycle_kib": first,
        "rss_after_cycles_kib": last,
        "growth_pct": round(100 * (last - first) / first, 1) if first else None,
        "rss_by_cycle_kib": rounds,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    server_cpus, loadgen_cpus = cpu_plan() if not args.no_pin else (None, None)
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        seed_command(passes=2, scanners=1),
    ]
    with Server.linli(cpus=server_cpus, env={"REDIS_URL": ""}, prepare=prepare) as server:
        seed = load_seed(server)
        with pinned(loadgen_cpus):
            figures = asyncio.run(measure(server, seed, args))
    figures["ratio"] = round(figures["held"] / figures["asked"], 3) if figures["asked"] else None
    figures["targets_met"] = bool(
        figures["held"] >= 5000
        and figures["kib_per_socket"] is not None
        and figures["kib_per_socket"] <= 100
        and figures["growth_pct"] is not None
        and figures["growth_pct"] <= 10
    )
    return result("ws_connections", **figures)
