"""Every websocket frame and close code the suite's sockets send is checked against the served
AsyncAPI document (``api/asyncapi.py``), as ``tests/support/contract.py`` checks HTTP answers.

``WebsocketContract`` wraps the websocket application for the test run (``backend.settings``
names it in ``LINLI_WS_CONTRACT`` under pytest; ``realtime.middleware.websocket_stack`` applies
it outermost). It finds the channel by the socket's path, then validates each JSON frame the
server sends against the channel's ``send`` messages and each close code against the channel's
``x-close-codes``. A violation is recorded (a frame raising inside a consumer would only end the
socket) and fails the test that produced it (``tests/conftest.py``).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

VIOLATIONS: list[str] = []
#: How many frames and close codes were checked, per channel (a test shows the check runs).
CHECKED: dict[str, int] = {}


@functools.cache
def document() -> dict[str, Any]:
    from api.asyncapi import document as build

    return json.loads(json.dumps(build()))


@functools.cache
def _channels() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for name, channel in document()["channels"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(channel["address"]))
        out.append((re.compile("^" + pattern + "$"), name))
    return out


def channel_of(path: str) -> str | None:
    return next((name for pattern, name in _channels() if pattern.match(path)), None)


@functools.cache
def _validators(channel: str) -> dict[str, Any]:
    """``{type const: validator}`` of the messages the server sends on ``channel``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc = document()
    registry = Registry().with_resource(
        "urn:linli:asyncapi", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    (operation,) = [
        op
        for op in doc["operations"].values()
        if op["action"] == "send" and op["channel"]["$ref"] == f"#/channels/{channel}"
    ]
    out = {}
    for ref in operation["messages"]:
        message_name = ref["$ref"].rsplit("/", 1)[1]
        schema_name = doc["components"]["messages"][message_name]["payload"]["$ref"].rsplit("/", 1)[1]
        schema = doc["components"]["schemas"][schema_name]
        type_name = schema["properties"]["type"]["const"]
        out[type_name] = Draft202012Validator(
            {
                "$id": "urn:linli:asyncapi#frame",
                "$ref": f"urn:linli:asyncapi#/components/schemas/{schema_name}",
            },
            registry=registry,
        )
    return out


def check_frame(channel: str, text: str) -> str | None:
    """The violation in one server frame, or ``None``."""
    try:
        payload = json.loads(text)
    except ValueError:
        return f"{channel}: frame is not JSON: {text[:200]!r}"
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return f"{channel}: frame is not an object with a type: {text[:200]!r}"
    validator = _validators(channel).get(payload["type"])
    if validator is None:
        return f"{channel}: the server may not send type {payload['type']!r} here: {text[:200]!r}"
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(map(str, first.absolute_path)) or "(root)"
        return (
            f"{channel}: {payload['type']} frame breaks the schema at {where}: {first.message}\n{text[:600]}"
        )
    return None


def check_close(channel: str, code: int) -> str | None:
    listed = {entry["code"] for entry in document()["channels"][channel]["x-close-codes"]}
    if code in listed:
        return None
    return f"{channel}: close code {code} is not published (published: {sorted(listed)})"


#: Sockets that exist only in a test (a consumer a test mounts to exercise shared machinery, such
#: as ``tests/realtime/test_socket_revocation.py``) are not part of the published protocol.
TEST_ONLY_PREFIX = "/ws/test/"


class WebsocketContract:
    """ASGI middleware: checks what the server sends on each socket (see the module docstring)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        channel = channel_of(scope.get("path", ""))
        if channel is None and scope.get("path", "").startswith(TEST_ONLY_PREFIX):
            return await self.inner(scope, receive, send)
        if channel is None:
            VIOLATIONS.append(f"socket path {scope.get('path')!r} is on no published channel")
            return await self.inner(scope, receive, send)

        async def checked_send(message: dict[str, Any]) -> None:
            problem = None
            if message["type"] == "websocket.send":
                if message.get("text") is None:
                    problem = f"{channel}: binary frame sent; the protocol has JSON text frames only"
                else:
                    problem = check_frame(channel, message["text"])
            elif message["type"] == "websocket.close":
                problem = check_close(channel, message.get("code", 1000))
            if message["type"] in ("websocket.send", "websocket.close"):
                CHECKED[channel] = CHECKED.get(channel, 0) + 1
            if problem:
                VIOLATIONS.append(problem)
            await send(message)

        return await self.inner(scope, receive, checked_send)
