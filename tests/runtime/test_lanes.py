"""The lean API handler runs requests' sync code on a fixed set of lanes, not a thread each."""

from __future__ import annotations

import asyncio
import threading

import pytest

from backend.runtime.handlers import LeanASGIHandler
from backend.runtime.lanes import Lanes, lane_count
from tests.support.asgi import http_scope


def test_a_request_takes_the_least_loaded_lane_and_gives_it_back():
    lanes = Lanes(3)
    assert [lanes.take() for _ in range(4)] == [0, 1, 2, 0]
    lanes.give_back(1)
    assert lanes.take() == 1
    assert lanes.load == [2, 1, 1]


def test_lane_count_follows_the_setting(settings):
    settings.LINLI_SYNC_LANES = 3
    assert lane_count() == 3


async def _get(app, path: str) -> int:
    sent: list[dict] = []
    body = asyncio.Queue()
    await body.put({"type": "http.request", "body": b"", "more_body": False})

    async def receive():
        if body.empty():
            await asyncio.sleep(60)
        return await body.get()

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return sent[0]["status"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_burst_of_sync_requests_runs_on_the_lanes_only(settings, monkeypatch):
    settings.LINLI_SYNC_LANES = 2
    LeanASGIHandler.lanes = None  # built again with the setting above
    started: list[str] = []
    start = threading.Thread.start

    def recording_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    try:
        app = LeanASGIHandler()
        statuses = await asyncio.gather(*[_get(app, "/api/v1/divisions") for _ in range(40)])
        assert statuses == [200] * 40
        # two lane threads at most, and no thread per request (nor one to join it afterwards)
        assert len(started) <= 2, started
        assert all(name.startswith("linli-lane-") for name in started)
        assert LeanASGIHandler.lanes is not None and LeanASGIHandler.lanes.load == [0, 0]
    finally:
        lanes, LeanASGIHandler.lanes = LeanASGIHandler.lanes, None
        if lanes is not None:
            for executor in lanes.executors:
                executor.submit(_close_connections).result()
                executor.shutdown()


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_4xx_is_answered_without_a_trip_to_log_it(monkeypatch):
    """django.request logs errors only: a refusal costs no thread to call the logger."""
    import django.core.handlers.base

    from backend.runtime import handlers

    logged: list[str] = []
    monkeypatch.setattr(handlers, "log_response", lambda *a, **k: logged.append(a[2]))
    monkeypatch.setattr(django.core.handlers.base, "log_response", lambda *a, **k: logged.append(a[2]))
    app = LeanASGIHandler()
    assert await _get(app, "/api/v1/divisions/999999999") == 404
    assert logged == []
    handlers.request_logger.setLevel("WARNING")
    try:
        assert await _get(app, "/api/v1/divisions/999999999") == 404
    finally:
        handlers.request_logger.setLevel("ERROR")
    assert logged == ["/api/v1/divisions/999999999"]


class _Receive:
    """daphne's ``receive``: the request's body, then (once the client leaves) ``http.disconnect``."""

    def __init__(self, disconnect_after: bool) -> None:
        self.messages = [{"type": "http.request", "body": b"", "more_body": False}]
        self.disconnect_after = disconnect_after

    async def __call__(self) -> dict:
        if self.messages:
            return self.messages.pop()
        if self.disconnect_after:
            return {"type": "http.disconnect"}
        await asyncio.sleep(60)
        return {}


@pytest.mark.parametrize("client_leaves", [True, False])
def test_a_finished_request_leaves_no_garbage_cycle(client_leaves):
    """What a request's cycle held (its receive, send, scope and with them daphne's request and
    connection) goes when the request ends, by reference counting, not at the collector's next
    pass. The disconnect watcher's exception (``RequestAborted``, or the ``CancelledError`` of a
    watcher still waiting) held the handler's frame through its traceback: every API request
    then left ~110 objects to the collector, and its young-generation passes took 46-83 ms each
    in a sign-up burst (gc callbacks, PostgreSQL)."""
    import gc
    import weakref

    async def once():
        receive = _Receive(client_leaves)
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        scope = http_scope("/api/v1/ping", headers={"host": "testserver"})
        await LeanASGIHandler()(scope, receive, send)
        assert sent[0]["status"] == 200
        return weakref.ref(receive)

    asyncio.run(once())  # Django's first request builds what it keeps
    gc.collect()
    gc.disable()
    try:
        gone = asyncio.run(once())
        assert gone() is None
    finally:
        gc.enable()
