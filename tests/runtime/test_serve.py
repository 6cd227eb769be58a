"""``python -m backend.serve``: daphne's command line, with the access log as configured and
without Twisted's discarded per-request line. Real daphne processes on loopback."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import time

import pytest
from daphne.server import Server as DaphneServer

from backend.runtime.server import LinliCommandLine, LinliServer, _discard
from bench.harness import Server

pytestmark = pytest.mark.django_db(transaction=True)


def _get(server: Server, path: str) -> int:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _access_lines(server: Server, path: str, *, expect: int) -> list[str]:
    """daphne's access log lines for ``path``, once ``expect`` are there (or after 5 s)."""
    deadline = time.monotonic() + (5 if expect else 0.5)
    while True:
        lines = [line for line in server.log_path.read_text().splitlines() if f'"GET {path}"' in line]
        if len(lines) >= max(expect, 1) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.parametrize(("setting", "logged"), [("1", 3), ("0", 0)])
def test_access_log_follows_linli_access_log(setting, logged):
    with Server.linli(env={"LINLI_ACCESS_LOG": setting}) as server:
        for _ in range(3):
            assert _get(server, "/api/v1/health") == 200
        assert len(_access_lines(server, "/api/v1/health", expect=logged)) == logged


def test_the_command_line_builds_linlis_server():
    assert LinliCommandLine.server_class is LinliServer and issubclass(LinliServer, DaphneServer)


@pytest.mark.parametrize(("verbosity", "discarded"), [(0, True), (1, True), (2, False)])
def test_twisted_request_line_is_skipped_only_where_daphne_drops_it(verbosity, discarded, monkeypatch):
    monkeypatch.setenv("LINLI_ACCESS_LOG", "0")
    server = LinliServer(
        application=None,
        endpoints=["tcp:port=0:interface=127.0.0.1"],
        verbosity=verbosity,
        action_logger=object(),
    )
    assert server.action_logger is None  # LINLI_ACCESS_LOG=0

    class Factory:
        def log(self, request):  # pragma: no cover - replaced or never called here
            return "line"

    server.http_factory = Factory()
    server.listen_success(object())
    assert (server.http_factory.log is _discard) is discarded


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("tcp:port=8000:interface=127.0.0.1", "tcp:port=8000:interface=127.0.0.1:backlog=1024"),
        ("unix:/run/linli.sock", "unix:/run/linli.sock:backlog=1024"),
        ("tcp:port=8000:backlog=64", "tcp:port=8000:backlog=64"),  # an explicit one is kept
        ("fd:fileno=3", "fd:fileno=3"),  # an inherited socket listens already
    ],
)
def test_endpoints_listen_with_a_backlog(endpoint, expected, monkeypatch):
    monkeypatch.delenv("LINLI_LISTEN_BACKLOG", raising=False)
    assert LinliServer(application=None, endpoints=[endpoint]).endpoints == [expected]


def test_listen_backlog_follows_the_setting(monkeypatch):
    monkeypatch.setenv("LINLI_LISTEN_BACKLOG", "300")
    server = LinliServer(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])
    assert server.endpoints == ["tcp:port=0:interface=127.0.0.1:backlog=300"]


def _listen_backlog(port: int) -> int:
    """The accept queue's size of the socket listening on ``port`` (``ss``'s Send-Q column)."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    return int(out.split()[2])


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss")
def test_the_served_socket_takes_a_burst_of_connections():
    """Twisted's own backlog is 50: a burst of 200 new connections lost SYNs and waited a second."""
    with Server.linli(env={"LINLI_LISTEN_BACKLOG": ""}) as server:
        assert _listen_backlog(server.port) == 1024
