"""End to end through real daphne processes with the ``websockets`` client.

- one daphne on a temporary SQLite file and the in-memory layer: scanning, dashboard, auth,
  malformed frames, offline upload over HTTP;
- two daphne processes on PostgreSQL + Redis: a scanner on one, a dashboard on the other
  (skipped without DATABASE_URL / REDIS_URL unless LINLI_REQUIRE_SERVICES=1);
- headless Chromium opens the live page and sees the count change after a redeem (skipped
  without /usr/bin/chromium unless LINLI_REQUIRE_BROWSER=1).

Each server is seeded by ``bench.checkin.seed`` in its own environment before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.checkin import connect, load_seed, seed_command
from bench.harness import Server, free_port
from tests.support.own_server import _fresh_cache, _fresh_keys, _isolated_media  # noqa: F401 (own server)

pytestmark = pytest.mark.server

MIGRATE = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]


@pytest.fixture(scope="module")
def server():
    env = {"REDIS_URL": "", "LINLI_REDIS_PREFIX": f"linli-e2e-{os.getpid()}"}
    with Server.linli(env=env, prepare=[MIGRATE, seed_command(passes=40, scanners=2)]) as srv:
        srv.seed = load_seed(srv)
        srv.next_pass = 0
        yield srv


def take(srv, n: int = 1) -> list[str]:
    secrets = srv.seed["secrets"][srv.next_pass : srv.next_pass + n]
    srv.next_pass += n
    assert len(secrets) == n
    return secrets


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def msg(secret: str, nonce: str, kind: str = "entry", scanned_at: datetime | None = None) -> str:
    return json.dumps(
        {
            "type": "redeem",
            "secret": secret,
            "nonce": nonce,
            "kind": kind,
            "scanned_at": (scanned_at or datetime.now(UTC)).isoformat(),
        }
    )


async def recv(ws, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def close_code(ws) -> int:
    from websockets.exceptions import ConnectionClosed

    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return ws.close_code


def urls(srv, event_id: int | None = None):
    event_id = event_id or srv.seed["event_id"]
    return f"{srv.ws_url}/ws/v1/events/{event_id}/scan", f"{srv.ws_url}/ws/v1/events/{event_id}/live"


def test_scan_and_dashboard_through_daphne(server):
    scan_url, live_url = urls(server)
    a, b = take(server, 2)

    async def scenario():
        live = await connect(live_url, server.seed["coordinator"], subprotocol=True)
        assert live.subprotocol == "linli.v1"
        snapshot = await recv(live)
        assert snapshot["type"] == "snapshot"
        base = snapshot["seq"]
        scanner = await connect(scan_url, server.seed["scanners"][0])
        await scanner.send(msg(a, "e2e-first-1"))
        first = await recv(scanner)
        await scanner.send(msg(a, "e2e-second-1"))
        second = await recv(scanner)
        await scanner.send(msg(a, "e2e-first-1"))  # the same nonce again
        replay = await recv(scanner)
        await scanner.send(msg(b, "e2e-exit-01", kind="exit"))
        exit_first = await recv(scanner)
        feed = [await recv(live) for _ in range(3)]
        await scanner.close()
        await live.close()
        return base, first, second, replay, exit_first, feed

    base, first, second, replay, exit_first, feed = run(scenario())
    assert first["status"] == "ok" and first["pass"]["kind"] == "attendee"
    assert second["status"] == "error" and second["reason"] == "already_redeemed"
    assert replay["seq"] == first["seq"] and replay["status"] == "ok"
    assert exit_first["status"] == "ok" and exit_first["checked_in_at"] is None
    assert [m["seq"] for m in feed] == [base + 1, base + 2, base + 3]
    assert [m["status"] for m in feed] == ["ok", "error", "ok"]


def test_auth_failures_close_with_4401_and_4403(server):
    scan_url, live_url = urls(server)

    async def scenario():
        anonymous = await connect(scan_url)
        bad_token = await connect(scan_url, "v1.not.a.token")
        outsider = await connect(scan_url, server.seed["outsider"])
        scanner_on_live = await connect(live_url, server.seed["scanners"][0])
        return [await close_code(ws) for ws in (anonymous, bad_token, outsider, scanner_on_live)]

    assert run(scenario()) == [4401, 4401, 4403, 4403]


def test_malformed_frames_get_error_frames_and_oversized_ones_close_4413(server):
    scan_url, _ = urls(server)
    (secret,) = take(server)

    async def scenario():
        ws = await connect(scan_url, server.seed["scanners"][1])
        errors = []
        for frame in ("{broken", b"\x00binary"):
            await ws.send(frame)
            errors.append((await recv(ws))["code"])
        await ws.send(json.dumps({"type": "redeem", "secret": "A" * 4000}))
        too_big = await close_code(ws)
        ws = await connect(scan_url, server.seed["scanners"][1])
        await ws.send(msg(secret, "e2e-after-bad"))
        answer = await recv(ws)
        await ws.close()
        return errors, too_big, answer

    errors, too_big, answer = run(scenario())
    assert errors == ["invalid_json", "invalid_message"]
    assert too_big == 4413
    assert answer["status"] == "ok"


def test_two_scanners_racing_through_daphne_admit_once(server):
    scan_url, _ = urls(server)
    (secret,) = take(server)

    async def scenario():
        one = await connect(scan_url, server.seed["scanners"][0])
        two = await connect(scan_url, server.seed["scanners"][1])
        await asyncio.gather(one.send(msg(secret, "race-one-01")), two.send(msg(secret, "race-two-01")))
        answers = await asyncio.gather(recv(one), recv(two))
        await one.close()
        await two.close()
        return answers

    answers = run(scenario())
    assert sorted(a.get("reason", "ok") for a in answers) == ["already_redeemed", "ok"]


def test_late_offline_upload_over_http_is_ordered_by_scan_time(server):
    (secret,) = take(server)
    now = datetime.now(UTC)
    items = [
        json.loads(msg(secret, "late-exit-01", kind="exit", scanned_at=now - timedelta(minutes=5))),
        json.loads(msg(secret, "late-entry-1", kind="entry", scanned_at=now - timedelta(minutes=20))),
    ]
    request = urllib.request.Request(
        f"{server.url}/api/v1/events/{server.seed['event_id']}/checkins",
        data=json.dumps({"device": "offline-phone", "items": items}).encode(),
        headers={"Authorization": f"Bearer {server.seed['scanners'][0]}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        results = json.loads(response.read())["results"]
    assert [(r["nonce"], r["status"], r["late"]) for r in results] == [
        ("late-entry-1", "ok", True),
        ("late-exit-01", "ok", True),
    ]


# --- two processes on PostgreSQL + Redis -------------------------------------------------------------


def _services() -> tuple[str, str] | None:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if database_url.startswith("postgres") and redis_url:
        return database_url, redis_url
    if os.environ.get("LINLI_REQUIRE_SERVICES") == "1":
        pytest.fail("LINLI_REQUIRE_SERVICES=1 but DATABASE_URL (PostgreSQL) / REDIS_URL are not set")
    pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL")


@contextlib.contextmanager
def _postgres_database(database_url: str):
    import psycopg

    base = database_url.rsplit("/", 1)[0]
    name = f"h_checkin_e2e_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_scanner_on_one_process_dashboard_on_another_postgres_redis():
    database_url, redis_url = _services()
    with _postgres_database(database_url) as db_url:
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "LINLI_REDIS_PREFIX": f"linli-e2e2-{os.getpid()}",
        }
        with (
            Server.linli(env=env, prepare=[MIGRATE, seed_command(passes=4, scanners=1)]) as first,
            Server.linli(env=env, prepare=[]) as second,
        ):
            seed = load_seed(first)
            scan_url = f"{first.ws_url}/ws/v1/events/{seed['event_id']}/scan"
            live_url = f"{second.ws_url}/ws/v1/events/{seed['event_id']}/live"
            assert first.pid != second.pid

            async def scenario():
                live = await connect(live_url, seed["coordinator"], subprotocol=True)
                base = (await recv(live))["seq"]
                scanner = await connect(scan_url, seed["scanners"][0])
                answers = []
                for i, secret in enumerate(seed["secrets"][:3]):
                    await scanner.send(msg(secret, f"two-proc-{i:04d}"))
                    answers.append(await recv(scanner))
                feed = [await recv(live) for _ in range(3)]
                await live.close()
                # Reconnect to the other process with since: the missed scan comes from the log.
                await scanner.send(msg(seed["secrets"][3], "two-proc-late"))
                await recv(scanner)
                again = await connect(f"{live_url}?since={base + 3}", seed["coordinator"])
                resumed = await recv(again)
                missed = await recv(again)
                await again.close()
                await scanner.close()
                return base, answers, feed, resumed, missed

            with _logs_on_failure(first, second):
                base, answers, feed, resumed, missed = run(scenario())
                assert [a["status"] for a in answers] == ["ok", "ok", "ok"]
                assert [m["seq"] for m in feed] == [base + 1, base + 2, base + 3]
                assert feed[-1]["checked_in"] == 3
                assert resumed["type"] == "resumed" and missed["seq"] == base + 4


@contextlib.contextmanager
def _logs_on_failure(*servers):
    """A failure carries the servers' logs (a 1011 close is explained only there)."""
    try:
        yield
    except BaseException as error:
        logs = "\n".join(f"--- daphne on port {s.port} ---\n{s.log_tail(60)}" for s in servers)
        raise AssertionError(f"{error!r}\n{logs}") from error


# --- headless Chromium on the live page --------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("LINLI_REQUIRE_BROWSER") == "1":
        pytest.fail("LINLI_REQUIRE_BROWSER=1 but chromium is not installed")
    pytest.skip("needs headless chromium")


class DevTools:
    """A minimal Chrome DevTools protocol client over the ``websockets`` client."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.ids = iter(range(1, 10**9))

    async def call(self, method: str, **params):
        ident = next(self.ids)
        await self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
            if reply.get("id") == ident:
                assert "error" not in reply, reply
                return reply.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, expected, timeout: float = 20):
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value == expected:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"{expression} = {value!r}, expected {expected!r}")


@pytest.mark.browser
def test_live_page_in_headless_chromium_shows_the_count_change(server):
    chromium = _chromium()
    (secret,) = take(server)
    scan_url, _ = urls(server)
    port = free_port()
    profile = tempfile.mkdtemp(prefix="linli-chromium-")
    page = f"{server.url}/events/{server.seed['event_id']}/live#token={server.seed['coordinator']}"
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        target = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and target is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    pages = [t for t in json.loads(response.read()) if t.get("type") == "page"]
                    target = pages[0]["webSocketDebuggerUrl"] if pages else None
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        assert target, "chromium did not open its debugging port"

        async def scenario():
            from websockets.asyncio.client import connect as ws_connect

            async with ws_connect(target, max_size=None, ping_interval=None) as cdp_ws:
                cdp = DevTools(cdp_ws)
                await cdp.call("Page.enable")
                await cdp.call("Page.navigate", url=page)
                await cdp.wait_for(
                    "document.getElementById('status') && document.getElementById('status').dataset.state",
                    "live",
                )
                await cdp.wait_for("document.getElementById('seq').textContent !== '–'", True)
                before = int(await cdp.evaluate("document.getElementById('checked-in').textContent"))
                assert await cdp.evaluate("location.hash") == ""  # the token left the address bar
                scanner = await connect(scan_url, server.seed["scanners"][0])
                await scanner.send(msg(secret, "browser-0001"))
                answer = await recv(scanner)
                await scanner.close()
                after = await cdp.wait_for(
                    "Number(document.getElementById('checked-in').textContent)", before + 1
                )
                name = await cdp.evaluate("document.querySelector('#feed li .who').textContent")
                return answer, before, after, name

        answer, before, after, name = run(scenario())
        assert answer["status"] == "ok"
        assert after == before + 1
        assert name == answer["pass"]["name"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
        Path(profile).exists()
