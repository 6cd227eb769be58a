"""What every raw ASGI fast path shares: the security checks, the framing, handing over to Django.

A fast path (the credential lookup, the sign-up gate) serves one hot request beside Django's
handlers, with the same answers at a fraction of the cost: no request signals with their thread
hops, no URL resolution, no middleware chain, no ninja parameter parsing. What it does not
answer (another method, a body to parse, an ``Idempotency-Key``, any doubt) goes to
``fallback``, the lean Django handler, untouched: a message the fast path read is handed over
with it (``replaying``).

Django's ``SecurityMiddleware`` runs its request check (an HTTPS redirect is left to Django) and
adds its response headers, as in ``LINLI_API_MIDDLEWARE``; ``Content-Length`` is added here
(Django's handler leaves the framing to the server).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.security import SecurityMiddleware


def _unused_get_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    raise AssertionError("only SecurityMiddleware's process_request/process_response are used")


class FastPath:
    """Base of a raw ASGI app for a few paths (``prefixes``); ``backend.asgi`` routes them here."""

    prefixes: tuple[str, ...] = ()

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback
        self.security = SecurityMiddleware(_unused_get_response)

    @staticmethod
    def plain(scope: dict[str, Any]) -> bool:
        """Served at the root (no script prefix): the paths mean what they say."""
        return not scope.get("root_path") and not settings.FORCE_SCRIPT_NAME

    def request(self, scope: dict[str, Any], body: bytes = b"") -> HttpRequest | None:
        """Django's request for ``scope``, or ``None`` when Django must answer (its HTTPS redirect)."""
        request = ASGIRequest(scope, io.BytesIO(body))
        if self.security.process_request(request) is not None:
            return None
        return request

    async def respond(self, request: HttpRequest, response: HttpResponseBase, send: Any) -> None:
        response = self.security.process_response(request, response)  # type: ignore[arg-type]
        await send_response(response, send)


def response_messages(response: HttpResponseBase) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ASGI messages of a complete (not streaming) response, with its length."""
    body = response.content  # type: ignore[attr-defined]
    headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
    headers.append((b"Content-Length", str(len(body)).encode("ascii")))
    return (
        {"type": "http.response.start", "status": response.status_code, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


async def send_response(response: HttpResponseBase, send: Any) -> None:
    """A complete (not streaming) response, with its length."""
    for message in response_messages(response):
        await send(message)


def empty_body(message: dict[str, Any]) -> bool:
    """Whether the first message of a request says: no body at all."""
    return message["type"] == "http.request" and not message.get("body") and not message.get("more_body")


def replaying(first: dict[str, Any], receive: Any) -> Any:
    """``receive`` for the fallback: the message the fast path already took, then the client's own."""
    taken = [first]

    async def replay() -> dict[str, Any]:
        if taken:
            return taken.pop()
        return await receive()

    return replay
