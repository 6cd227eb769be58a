"""The benchmark harness: load generator framing and counting, percentiles, the daphne Server.

Loopback only and bounded: the load generator runs against a small asyncio HTTP server in this
process or against the bare ASGI apps in ``bench.apps`` under a real daphne. No Django.
Run with ``pytest -p no:django tests/bench``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from bench import loadgen
from bench.harness import ROOT, Server, ServerError, free_port, percentile, percentiles, rss_kib
from bench.loadgen import encode_request, http_load, read_response, ws_echo_load
from tests.support.own_server import _fresh_cache, _isolated_media  # noqa: F401 (own server)

# The suite's autouse fixtures (tests/conftest.py) need Django; these tests run without it
# (``-p no:django``), so they replace them, by name, with no-ops for this module.


# -- a tiny HTTP/1.1 server in the test's own event loop ------------------------------------------

CHUNKED = b"5\r\nhello\r\n7;ext=1\r\n chunky\r\n0\r\nX-Trailer: yes\r\n\r\n"


class StubServer:
    """Answers by path; records every request it parsed and every connection it accepted."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, bytes, dict[bytes, bytes], bytes]] = []
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> StubServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, _, header_block = head.partition(b"\r\n")
                method, path, _ = request_line.split(b" ")
                headers = {}
                for line in header_block.strip().split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get(b"content-length", 0)))
                self.requests.append((method, path, headers, body))
                if not await self._respond(path.decode(), writer):
                    break
        writer.close()

    async def _respond(self, path: str, writer: asyncio.StreamWriter) -> bool:
        """Write the response for ``path``; False when the connection is to be closed."""
        if path.startswith("/status/"):
            writer.write(f"HTTP/1.1 {path[8:]} Whatever\r\nContent-Length: 2\r\n\r\nno".encode())
        elif path == "/chunked":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED)
        elif path == "/close":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye")
            return False
        elif path == "/eof":
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            return False
        elif path == "/no-content":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        elif path == "/slow":
            await asyncio.sleep(30)
        elif path == "/garbage":
            writer.write(b"SMTP ready\r\n\r\n")
        elif path == "/hang-up":
            return False
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
        await writer.drain()
        return True


# -- load generator against the stub ---------------------------------------------------------------


async def test_counts_every_request_and_status() -> None:
    paths = ["/ok", "/status/404", "/status/503"]
    async with StubServer() as stub:
        result = await http_load(
            stub.url,
            connections=8,
            duration=10,
            max_requests=300,
            make_request=lambda i: ("GET", paths[i % 3], {"X-I": str(i)}, None),
        )
    assert result.requests == 300
    assert result.statuses == {200: 100, 404: 100, 503: 100}
    assert result.non_2xx == 200
    assert result.errors == {}
    assert sorted(int(h[b"x-i"]) for _, _, h, _ in stub.requests) == list(range(300))
    seen = Counter(p for _, p, _, _ in stub.requests)
    assert seen == {b"/ok": 100, b"/status/404": 100, b"/status/503": 100}
    assert stub.connections == 8  # keep-alive: no connection was reopened


async def test_frames_chunked_eof_close_and_bodiless_responses() -> None:
    paths = ["/chunked", "/eof", "/close", "/no-content", "/ok"]
    async with StubServer() as stub:
        result = await http_load(
            stub.url,
            connections=4,
            duration=10,
            max_requests=100,
            make_request=lambda i: ("GET", paths[i % 5], None, None),
        )
    assert result.errors == {}
    assert result.statuses == {200: 80, 204: 20}
    assert result.bytes_received == 20 * (len("hello chunky") + len("until the end") + len("bye") + 0 + 5)
    # /eof and /close end their connection: each one costs a new connection afterwards.
    assert 40 <= stub.connections <= 4 + 40


async def test_stops_at_max_requests_long_before_the_duration() -> None:
    async with StubServer() as stub:
        started = time.perf_counter()
        result = await http_load(stub.url, "/ok", connections=4, duration=30, max_requests=50)
    assert result.requests == 50
    assert len(stub.requests) == 50
    assert time.perf_counter() - started < 5


async def test_stops_at_the_duration() -> None:
    async with StubServer() as stub:
        result = await http_load(stub.url, "/ok", connections=4, duration=0.5)
    assert 0.5 <= result.duration_s < 1.5
    assert result.requests == len(stub.requests) > 0
    assert result.rps == pytest.approx(result.requests / result.duration_s)


async def test_hard_cap_applies_without_max_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    assert loadgen.MAX_REQUESTS == 1_000_000
    monkeypatch.setattr(loadgen, "MAX_REQUESTS", 30)
    async with StubServer() as stub:
        result = await http_load(stub.url, "/ok", connections=4, duration=30)
        capped = await http_load(stub.url, "/ok", connections=4, duration=30, max_requests=10**9)
    assert result.requests == capped.requests == 30


async def test_counts_timeouts_and_stops_waiting() -> None:
    async with StubServer() as stub:
        started = time.perf_counter()
        result = await http_load(stub.url, "/slow", connections=2, duration=0.3, request_timeout=0.2)
    assert result.requests == 0
    assert result.errors["timeout"] >= 2
    assert time.perf_counter() - started < 2


async def test_counts_malformed_responses_and_hang_ups_as_errors() -> None:
    async with StubServer() as stub:
        garbage = await http_load(stub.url, "/garbage", connections=2, duration=5, max_requests=6)
        hang_up = await http_load(stub.url, "/hang-up", connections=2, duration=5, max_requests=6)
    assert garbage.requests == 0
    assert garbage.errors == {"protocol": 6}
    assert hang_up.requests == 0
    assert hang_up.errors == {"closed": 6}


async def test_counts_refused_connections_and_still_stops() -> None:
    port = free_port()  # nothing listens there
    started = time.perf_counter()
    result = await http_load(("127.0.0.1", port), "/", connections=4, duration=0.3)
    assert result.requests == 0
    assert result.errors["connect"] >= 4
    assert time.perf_counter() - started < 2


async def test_sends_method_headers_and_body() -> None:
    async with StubServer() as stub:
        await http_load(
            stub.url,
            "/ok",
            connections=1,
            max_requests=2,
            method="POST",
            headers={"Authorization": "Bearer t"},
            body='{"a": 1}',
        )
    assert [(m, p, h[b"authorization"], b) for m, p, h, b in stub.requests] == [
        (b"POST", b"/ok", b"Bearer t", b'{"a": 1}')
    ] * 2
    assert stub.requests[0][2][b"content-length"] == b"8"
    assert stub.requests[0][2][b"host"] == f"127.0.0.1:{stub.port}".encode()


async def test_refuses_targets_off_the_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await http_load("http://192.0.2.1:80", "/", duration=0.1)
    with pytest.raises(ValueError, match="loopback"):
        await ws_echo_load("ws://192.0.2.1:80/ws", duration=0.1)


def test_encode_request_adds_host_and_content_length_once() -> None:
    raw = encode_request("PUT", "/x", "127.0.0.1:1", [("Content-Length", "0")], None)
    assert raw == b"PUT /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 0\r\n\r\n"


async def test_read_response_reads_a_head_response_without_body() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.0 404 Nope\r\n\r\n")
    reader.feed_eof()
    assert await read_response(reader, "HEAD") == (200, 0, True)
    assert await read_response(reader, "GET") == (404, 0, False)  # HTTP/1.0 body runs to EOF


async def test_latency_figures_come_from_the_recorded_latencies() -> None:
    async with StubServer() as stub:
        result = await http_load(stub.url, "/ok", connections=2, max_requests=40, duration=5)
    figures = result.as_dict()
    assert json.loads(json.dumps(figures)) == figures
    assert len(result.latencies_ms) == 40
    assert result.p50_ms == percentile(result.latencies_ms, 50)
    assert result.p99_ms == percentile(result.latencies_ms, 99)
    assert result.max_ms == max(result.latencies_ms)
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms


# -- percentiles -----------------------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [40, 15, 50, 35, 20]  # sorted: 15 20 35 40 50
    assert percentile(values, 0) == 15
    assert percentile(values, 25) == 20
    assert percentile(values, 40) == pytest.approx(29)  # rank 1.6: 20 + 0.6 * 15
    assert percentile(values, 50) == 35
    assert percentile(values, 100) == 50
    assert percentiles(values, (50, 90)) == [35, pytest.approx(46)]
    assert percentile([7.5], 99) == 7.5


def test_percentile_of_nothing_is_nan_and_rejects_bad_ranks() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


# -- a real daphne ---------------------------------------------------------------------------------

PREPARE = [sys.executable, "-c", "import os, pathlib; pathlib.Path(os.environ['BENCH_TMP'], 'ready').touch()"]


@pytest.fixture(scope="module")
def echo_server():
    first_cpu = min(os.sched_getaffinity(0))
    with Server("bench.apps:echo_app", cpus=[first_cpu], prepare=[PREPARE], ready_timeout=20) as server:
        yield server


@pytest.mark.server
def test_server_runs_prepare_pins_and_serves(echo_server: Server) -> None:
    assert (echo_server.tmp / "ready").exists()
    assert os.sched_getaffinity(echo_server.pid) == set(echo_server.cpus)
    assert rss_kib(echo_server.pid) > 1000
    assert echo_server.environ()["DATABASE_URL"] == f"sqlite:///{echo_server.tmp}/db.sqlite3"


@pytest.mark.server
async def test_load_generator_reads_daphne_responses(echo_server: Server) -> None:
    paths = ["/api/v1/ping", "/chunked", "/status/404"]
    result = await http_load(
        echo_server.url,
        connections=4,
        duration=5,
        max_requests=90,
        make_request=lambda i: ("GET", paths[i % 3], None, None),
    )
    assert result.errors == {}
    assert result.statuses == {200: 60, 404: 30}
    assert result.bytes_received == 30 * (len(b'{"ok": true}') * 2 + len(b"hello chunked world"))


@pytest.mark.server
async def test_ws_echo_load_counts_round_trips(echo_server: Server) -> None:
    result = await ws_echo_load(f"{echo_server.ws_url}/ws", clients=4, duration=5, max_messages=200)
    assert result.messages == 200
    assert result.connected == 4
    assert result.errors == {}
    assert result.as_dict()["msg_per_s"] > 0


@pytest.mark.server
def test_server_process_is_gone_after_exit() -> None:
    with Server("bench.apps:hello_app", ready_timeout=20) as server:
        pid, tmp = server.pid, server.tmp
        os.kill(pid, 0)  # alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not tmp.exists()


@pytest.mark.server
def test_server_that_cannot_import_its_app_raises_with_the_log() -> None:
    server = Server("bench.no_such_module:app", ready_timeout=20)
    with pytest.raises(ServerError, match="no_such_module"):
        server.start()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.pid


@pytest.mark.server
def test_cli_prints_exactly_one_json_line() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "hello", "--app", "bench.apps:hello_app"),
            *("--duration", "0.3", "--warmup", "0", "--connections", "4"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert figures["bench"] == "hello"
    assert figures["ratio"] == 1.0
    assert figures["rps"] > 0
    assert figures["errors"] == 0
    assert figures["python"]


def test_cli_lists_hello() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--list"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert "hello" in [line.split()[0] for line in done.stdout.splitlines()]
