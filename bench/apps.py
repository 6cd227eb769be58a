"""Bare ASGI apps: the floor under Linli's figures, and test targets for the harness.

- ``hello_app``: every HTTP request gets ``200 {"ok": true}`` with a Content-Length, except two
  test paths: ``/status/NNN`` answers with status NNN, ``/chunked`` streams its body without a
  Content-Length (so the server sends it chunked).
- ``echo_app``: the same over HTTP, and a websocket that echoes every text or bytes frame.
"""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]

HELLO_BODY = b'{"ok": true}'
_HELLO_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(HELLO_BODY)).encode())]


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _drain_request(receive: Any) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def hello_app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        raise ValueError(f"hello_app serves HTTP only, not {scope['type']}")
    await _drain_request(receive)
    path = scope["path"]
    if path.startswith("/status/"):
        status = int(path.removeprefix("/status/"))
        await send({"type": "http.response.start", "status": status, "headers": _HELLO_HEADERS})
        await send({"type": "http.response.body", "body": HELLO_BODY})
    elif path == "/chunked":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        for part in (b"hello ", b"chunked ", b"world"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": _HELLO_HEADERS})
        await send({"type": "http.response.body", "body": HELLO_BODY})


async def echo_app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        await hello_app(scope, receive, send)
        return
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif kind == "websocket.disconnect":
            return
