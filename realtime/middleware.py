"""Websocket authentication and origin checks.

The access token comes in the ``Authorization: Bearer …`` header (the mini-program's
``wx.connectSocket`` can set headers) or, from browsers, as a subprotocol: the client offers
``["linli.v1", "bearer.<token>"]`` and the consumer accepts ``linli.v1``. Never in the URL.

Browsers always send ``Origin``; it must be one of ``LINLI_WS_ALLOWED_ORIGINS`` or a host in
``ALLOWED_HOSTS``. The mini-program sends none and is admitted on its token alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from django.utils.module_loading import import_string

from backend.accounts.selectors import session_from_access_token
from backend.core.faults import is_database_away

SUBPROTOCOL = "linli.v1"
TOKEN_PREFIX = "bearer."


def token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            if text[:7].lower() == "bearer ":
                return text[7:].strip()
    for protocol in scope.get("subprotocols", []) or []:
        if protocol.startswith(TOKEN_PREFIX):
            return protocol[len(TOKEN_PREFIX) :]
    return None


@database_sync_to_async
def _session_for(token: str):
    return session_from_access_token(token)


class TokenAuthMiddleware:
    """Fills ``scope["user"]`` (AnonymousUser when the token is missing or not valid) and
    ``scope["auth_error"]`` so consumers can close with 4401."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        token = token_from_scope(scope)
        unavailable = False
        try:
            session = await _session_for(token) if token else None
        except Exception as exc:
            if not is_database_away(exc):
                raise
            session, unavailable = None, True  # the consumer closes with 4503: try again later
        scope = dict(scope)
        scope["user"] = session.user if session else AnonymousUser()
        scope["auth_session"] = session
        scope["auth_error"] = (
            "unavailable"
            if unavailable
            else None
            if session
            else ("invalid_token" if token else "not_authenticated")
        )
        return await self.inner(scope, receive, send)


def origin_allowed(origin: bytes | None) -> bool:
    if origin is None:
        return True  # the mini-program and native apps send no Origin
    try:
        text = origin.decode("latin-1")
    except UnicodeDecodeError:
        return False
    if text in settings.LINLI_WS_ALLOWED_ORIGINS:
        return True
    host = urlparse(text).netloc
    return bool(host) and validate_host(
        host.rsplit(":", 1)[0] if host.count(":") == 1 else host, settings.ALLOWED_HOSTS
    )


class OriginCheckMiddleware:
    """Refuses the handshake (HTTP 403) of a browser page from a foreign origin."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        origin = next((v for k, v in scope.get("headers", []) if k == b"origin"), None)
        if not origin_allowed(origin):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4403})
            return None
        return await self.inner(scope, receive, send)


def websocket_stack(patterns: list) -> Any:
    stack = OriginCheckMiddleware(TokenAuthMiddleware(URLRouter(patterns)))
    if getattr(settings, "LINLI_WS_CONTRACT", ""):
        # The test run checks every frame against the AsyncAPI document (backend.settings).
        stack = import_string(settings.LINLI_WS_CONTRACT)(stack)
    return stack
