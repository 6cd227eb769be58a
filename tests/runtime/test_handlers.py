"""The HTTP router has daphne forget a finished request at once, as daphne's own 1-second sweep
would, and leaves alone what that sweep must still see (errors, unfinished requests).

Driven through daphne's real ``Server`` (its ``create_application`` and ``handle_reply``) with a
stand-in for the Twisted request, which finishes the way daphne's ``WebRequest`` does."""

from __future__ import annotations

import asyncio
import time

import pytest
from daphne.server import Server

from backend.runtime.handlers import http_router


class StandInRequest:
    """What daphne's ``WebRequest`` does with replies: the last body chunk finishes the request,
    which marks it disconnected in ``Server.connections``."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.sent: list[dict] = []

    def handle_reply(self, message: dict) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.server.protocol_disconnected(self)


async def answer(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def fail(scope, receive, send):
    raise RuntimeError("boom")


async def half(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})


def _server(app) -> Server:
    server = Server(
        application=http_router(app, app), endpoints=["tcp:port=0:interface=127.0.0.1"]
    )  # never run
    server.connections = {}
    return server


async def _serve(server: Server, path: str = "/api/v1/ping") -> tuple[StandInRequest, asyncio.Future]:
    request = StandInRequest(server)
    server.protocol_connected(request)
    server.connections[request]["connected"] = time.time()
    server.create_application(request, {"type": "http", "method": "GET", "path": path, "headers": []})
    task = server.connections[request]["application_instance"]
    await asyncio.wait([task])
    for _ in range(3):  # the reap runs on the loop once the task has ended
        await asyncio.sleep(0)
    return request, task


@pytest.mark.asyncio
async def test_a_finished_request_is_forgotten_at_once():
    server = _server(answer)
    requests = [await _serve(server, path) for path in ("/api/v1/ping", "/v/TOKEN", "/admin/")]
    assert server.connections == {}
    assert all(request.sent[-1]["body"] == b"ok" for request, _ in requests)


@pytest.mark.asyncio
async def test_a_failed_application_stays_for_daphnes_sweep_to_log():
    server = _server(fail)
    request, task = await _serve(server)
    assert request in server.connections and isinstance(task.exception(), RuntimeError)


@pytest.mark.asyncio
async def test_an_unfinished_response_stays():
    server = _server(half)
    request, _ = await _serve(server)
    assert request in server.connections and "disconnected" not in server.connections[request]


@pytest.mark.asyncio
async def test_other_servers_send_callables_are_left_alone():
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():  # pragma: no cover - the app does not read
        return {"type": "http.disconnect"}

    await http_router(answer, answer)({"type": "http", "path": "/api/v1/ping"}, receive, send)
    await asyncio.sleep(0)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
