"""The scanner protocol's edges through real daphne processes (issue 14's defects).

- one daphne on a temporary SQLite file and the in-memory layer: oversized frames of any size
  close with 4413; a logout or a revoked grant closes the open sockets that depended on it;
- two daphne processes on PostgreSQL + Redis: a socket on one closes when the session ends or
  the grant is revoked through the other (skipped without DATABASE_URL / REDIS_URL unless
  LINLI_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.error
import urllib.request

import pytest

from bench.checkin import connect, load_seed, seed_command
from bench.harness import Server
from tests.checkin.test_e2e_daphne import MIGRATE, _logs_on_failure, _postgres_database, _services, msg, recv
from tests.support.own_server import _fresh_cache, _fresh_keys, _isolated_media  # noqa: F401 (own server)

pytestmark = pytest.mark.server

WITHIN = 5.0  # seconds: the bound between a revocation and the close


@pytest.fixture(scope="module")
def server():
    env = {"REDIS_URL": "", "LINLI_REDIS_PREFIX": f"linli-e2ep-{os.getpid()}"}
    with Server.linli(env=env, prepare=[MIGRATE, seed_command(passes=10, scanners=4)]) as srv:
        srv.seed = load_seed(srv)
        yield srv


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def http(srv, method: str, path: str, token: str, data: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{srv.url}/api/v1{path}",
        data=None if data is None else json.dumps(data).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


async def closed_within(ws, seconds: float = WITHIN) -> tuple[int | None, float]:
    """(close code, seconds it took) — the code is None when the socket stayed open."""
    from websockets.exceptions import ConnectionClosed

    start = time.monotonic()
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        while True:
            await asyncio.wait_for(ws.recv(), max(seconds - (time.monotonic() - start), 0.01))
    return ws.close_code, time.monotonic() - start


# --- oversized frames ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 2 * 1024 * 1024, 16 * 1024 * 1024])
def test_every_oversized_frame_gets_4413_whatever_its_size(server, size):
    scan_url = f"{server.ws_url}/ws/v1/events/{server.seed['event_id']}/scan"

    async def scenario():
        ws = await connect(scan_url, server.seed["scanners"][0])
        with contextlib.suppress(Exception):  # the server may close while the client still sends
            await ws.send("x" * size)
        code, _ = await closed_within(ws, 10)
        again = await connect(scan_url, server.seed["scanners"][0])
        await again.send(json.dumps({"type": "ping"}))
        pong = await recv(again)
        await again.close()
        return code, pong

    code, pong = run(scenario())
    assert code == 4413
    assert pong["type"] == "pong"  # the server carries on


def test_a_binary_frame_over_the_limit_gets_4413_too(server):
    scan_url = f"{server.ws_url}/ws/v1/events/{server.seed['event_id']}/scan"

    async def scenario():
        ws = await connect(scan_url, server.seed["scanners"][0])
        with contextlib.suppress(Exception):
            await ws.send(b"\x00" * (2 * 1024 * 1024))
        return (await closed_within(ws, 10))[0]

    assert run(scenario()) == 4413


# --- sockets close when what admitted them ends ----------------------------------------------------


def test_logout_closes_the_scanner_socket_4401_within_5_seconds(server):
    seed = server.seed
    scan_url = f"{server.ws_url}/ws/v1/events/{seed['event_id']}/scan"
    token = seed["scanners"][1]

    async def scenario():
        ws = await connect(scan_url, token)
        await ws.send(msg(seed["secrets"][0], "e2e-proto-logout"))
        first = await recv(ws)
        status, _ = await asyncio.to_thread(http, server, "POST", "/auth/logout", token)
        code, took = await closed_within(ws)
        return first, status, code, took

    first, status, code, took = run(scenario())
    assert first["status"] == "ok" and status == 200
    assert code == 4401 and took < WITHIN


def test_revoking_the_scanner_grant_closes_the_socket_4403_within_5_seconds(server):
    seed = server.seed
    scan_url = f"{server.ws_url}/ws/v1/events/{seed['event_id']}/scan"

    async def scenario():
        ws = await connect(scan_url, seed["scanners"][2])
        await ws.send(json.dumps({"type": "ping"}))
        await recv(ws)
        status, _ = await asyncio.to_thread(
            http, server, "DELETE", f"/grants/{seed['scanner_grants'][2]}", seed["admin"]
        )
        code, took = await closed_within(ws)
        again = await connect(scan_url, seed["scanners"][2])
        refused, _ = await closed_within(again)
        return status, code, took, refused

    status, code, took, refused = run(scenario())
    assert status == 200
    assert code == 4403 and took < WITHIN
    assert refused == 4403


# --- two processes on PostgreSQL + Redis -----------------------------------------------------------


def test_revocations_on_one_process_close_sockets_on_another_postgres_redis():
    database_url, redis_url = _services()
    with _postgres_database(database_url) as db_url:
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "LINLI_REDIS_PREFIX": f"linli-e2ep2-{os.getpid()}",
        }
        with (
            Server.linli(env=env, prepare=[MIGRATE, seed_command(passes=2, scanners=2)]) as first,
            Server.linli(env=env, prepare=[]) as second,
        ):
            seed = load_seed(first)
            scan_url = f"{first.ws_url}/ws/v1/events/{seed['event_id']}/scan"
            live_url = f"{first.ws_url}/ws/v1/events/{seed['event_id']}/live"

            async def scenario():
                logged_out = await connect(scan_url, seed["scanners"][0])
                revoked = await connect(scan_url, seed["scanners"][1])
                dashboard = await connect(live_url, seed["coordinator"])
                await recv(dashboard)  # the snapshot
                for ws in (logged_out, revoked):
                    await ws.send(json.dumps({"type": "ping"}))
                    await recv(ws)
                # Both requests go to the other process.
                status_logout, _ = await asyncio.to_thread(
                    http, second, "POST", "/auth/logout", seed["scanners"][0]
                )
                status_revoke, _ = await asyncio.to_thread(
                    http, second, "DELETE", f"/grants/{seed['scanner_grants'][1]}", seed["admin"]
                )
                results = await asyncio.gather(closed_within(logged_out), closed_within(revoked))
                await dashboard.send(json.dumps({"type": "ping"}))
                pong = await recv(dashboard)  # the coordinator lost nothing
                await dashboard.close()
                return status_logout, status_revoke, results, pong

            with _logs_on_failure(first, second):
                status_logout, status_revoke, results, pong = run(scenario())
                assert (status_logout, status_revoke) == (200, 200)
                (code_a, took_a), (code_b, took_b) = results
                assert code_a == 4401 and took_a < WITHIN
                assert code_b == 4403 and took_b < WITHIN
                assert pong["type"] == "pong"
