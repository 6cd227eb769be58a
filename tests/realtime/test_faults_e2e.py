"""Faults under two real daphne processes (issue 17).

Redis restarted empty (no persistence, as after a failover or a flush) under two daphnes: the
dashboards on both keep their sockets and get every scan again, the ones recorded during the
outage included, without a restart. The Redis is this test's own ``redis-server`` on a free
loopback port (the shared one is never touched). PostgreSQL when ``DATABASE_URL`` names one,
else both processes share one SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bench.checkin import connect, load_seed, seed_command
from bench.harness import Server, free_port
from tests.checkin.test_e2e_daphne import MIGRATE, _logs_on_failure, _postgres_database, msg, recv
from tests.support.own_server import _fresh_cache, _isolated_media  # noqa: F401 (own server)

pytestmark = pytest.mark.server


class OwnRedis:
    """A throwaway redis-server on a free loopback port, without persistence; stopped by pid."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("needs redis-server")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)  # as a crash: nothing saved (there is nothing to save)
            proc.wait(timeout=10)


@contextlib.contextmanager
def own_redis(tmp_path: Path):
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextlib.contextmanager
def shared_database(tmp_path: Path):
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        with _postgres_database(database_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"


async def feed_until(ws, last: int, timeout: float) -> list[int]:
    """The seqs of checkin frames a dashboard gets until it reaches ``last``."""
    seqs: list[int] = []
    deadline = time.monotonic() + timeout
    while (not seqs or seqs[-1] < last) and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            frame = await recv(ws, timeout=max(0.1, deadline - time.monotonic()))
            if frame["type"] in ("checkin", "snapshot"):  # a snapshot would show a lost position
                seqs.append(frame["seq"])
    return seqs


def test_dashboards_on_two_processes_heal_after_redis_restarts_empty(tmp_path):
    with own_redis(tmp_path) as redis, shared_database(tmp_path) as db_url:
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis.url,
            "LINLI_REDIS_PREFIX": f"linli-heal-{os.getpid()}",
            "LINLI_REALTIME_REJOIN_SECONDS": "1",
        }
        with (
            Server.linli(env=env, prepare=[MIGRATE, seed_command(passes=6, scanners=1)]) as first,
            Server.linli(env=env, prepare=[]) as second,
        ):
            seed = load_seed(first)
            event = seed["event_id"]
            scan_url = f"{first.ws_url}/ws/v1/events/{event}/scan"

            async def scenario():
                live_one = await connect(f"{first.ws_url}/ws/v1/events/{event}/live", seed["coordinator"])
                live_two = await connect(f"{second.ws_url}/ws/v1/events/{event}/live", seed["coordinator"])
                base = (await recv(live_one))["seq"]
                assert (await recv(live_two))["seq"] == base
                scanner = await connect(scan_url, seed["scanners"][0])
                secrets = iter(seed["secrets"])

                async def scan(nonce: str) -> dict:
                    await scanner.send(msg(next(secrets), nonce))
                    return await recv(scanner, timeout=20)

                assert (await scan("heal-before-1"))["status"] == "ok"
                before = [await feed_until(ws, base + 1, 10) for ws in (live_one, live_two)]

                redis.stop()
                await asyncio.sleep(3)
                during = await scan("heal-during-1")  # recorded; its broadcast is lost
                await asyncio.sleep(1)
                redis.start()  # back, empty: no groups, no queued messages

                await asyncio.sleep(2.5)  # the hubs' keepers rejoin (every second here)
                after_scan = await scan("heal-after-01")
                after = [await feed_until(ws, base + 3, 20) for ws in (live_one, live_two)]
                for ws in (live_one, live_two, scanner):
                    await ws.close()
                return base, before, during, after_scan, after

            with _logs_on_failure(first, second):
                base, before, during, after_scan, after = asyncio.run(asyncio.wait_for(scenario(), 120))
                assert before == [[base + 1], [base + 1]]
                assert during["status"] == "ok" and after_scan["status"] == "ok"
                # Both dashboards, on their original sockets, got the scan of the outage and the
                # one after it, in order and without a gap.
                assert after == [[base + 2, base + 3], [base + 2, base + 3]]


# --- PostgreSQL away ---------------------------------------------------------------------------------


def _get(url: str, token: str | None = None, timeout: float = 20) -> tuple[int, dict, dict, float]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, dict(error.headers), error.read()
    return status, headers, json.loads(body or b"{}"), time.monotonic() - started


def test_database_away_is_a_fast_503_and_health_says_so_at_once():
    from tests.support.tcp_proxy import TcpProxy

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("needs DATABASE_URL (PostgreSQL)")
    from urllib.parse import urlsplit

    with _postgres_database(database_url) as db_url:
        parts = urlsplit(db_url)
        with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            through = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
            env = {"DATABASE_URL": through, "REDIS_URL": "", "LINLI_DB_POOL_TIMEOUT": "3"}
            with Server.linli(env=env, prepare=[MIGRATE, seed_command(passes=1, scanners=1)]) as server:
                seed = load_seed(server)
                token = seed["coordinator"]
                me = f"{server.url}/api/v1/me"
                with _logs_on_failure(server):
                    assert _get(me, token)[0] == 200
                    proxy.pause()

                    status, headers, body, took = _get(f"{server.url}/api/v1/health")
                    assert status == 503 and took < 3, (status, took)
                    assert body["code"] == "service_unavailable"
                    assert body["details"]["checks"]["database"]["ok"] is False
                    for _ in range(2):
                        status, headers, body, took = _get(me, token)
                        assert (status, body.get("code")) == (503, "service_unavailable"), body
                        assert int(headers["Retry-After"]) > 0 and took < 6, took

                    async def socket_close() -> int | None:
                        live = await connect(f"{server.ws_url}/ws/v1/events/{seed['event_id']}/live", token)
                        with contextlib.suppress(Exception):
                            while True:
                                await recv(live, timeout=15)
                        return live.close_code

                    assert asyncio.run(asyncio.wait_for(socket_close(), 30)) == 4503

                    proxy.resume()
                    deadline = time.monotonic() + 20
                    while (status := _get(me, token)[0]) != 200 and time.monotonic() < deadline:
                        time.sleep(0.5)
                    assert status == 200
