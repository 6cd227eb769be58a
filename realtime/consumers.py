"""Websocket consumers. ``LinliConsumer`` is the base every Linli socket builds on: token auth
(4401), per-object permission (4403), size and shape checks on incoming frames, and error frames
in the same ``{"code", "message", "details"}`` shape as the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from backend.core.errors import DomainError
from backend.core.faults import is_database_away
from backend.core.i18n import T, localize, scope_lang
from realtime.middleware import SUBPROTOCOL

log = logging.getLogger("linli.realtime")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_FRAME = 4400
CLOSE_TOO_BIG = 4413
CLOSE_UNAVAILABLE = 4503  # the database is away: reconnect after a few seconds (as HTTP 503)

INVALID_JSON = T("消息不是有效的 JSON。", "The message is not valid JSON.")
INVALID_MESSAGE = T("消息格式不正确。", "The message is malformed.")
UNKNOWN_TYPE = T("不支持的消息类型。", "Unknown message type.")


class LinliConsumer(AsyncJsonWebsocketConsumer):
    max_message_chars = 16 * 1024

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """``AsyncConsumer.__call__`` with a channel-layer receive that outlives the layer's
        outages: Channels' own would raise out of the consumer while Redis is away, closing
        every open socket with 1011. Here the socket stays and the receive retries."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        receivers = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = self._layer_receive
            receivers.append(self._layer_receive)
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch(receivers, self.dispatch)

    async def _layer_receive(self) -> Any:
        delay = 0.2
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except Exception:
                log.debug("socket %s: channel layer receive failed", self.channel_name, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def authorize(self) -> int | None:
        """Return ``None`` to admit the signed-in user, or a close code (4403, 4404)."""
        return None

    async def opened(self) -> None:
        """Called after the socket is accepted."""

    @property
    def lang(self) -> str:
        return scope_lang(self.scope)

    @property
    def user(self) -> Any:
        return self.scope["user"]

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols") or []
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
        if self.scope.get("auth_error"):
            await self.accept(subprotocol)
            unavailable = self.scope["auth_error"] == "unavailable"
            await self.close(code=CLOSE_UNAVAILABLE if unavailable else CLOSE_UNAUTHENTICATED)
            return
        try:
            refusal = await self.authorize()
        except Exception as exc:
            if not is_database_away(exc):
                raise
            refusal = CLOSE_UNAVAILABLE
        await self.accept(subprotocol)
        if refusal is not None:
            await self.close(code=refusal)
            return
        await self.opened()

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.close(code=CLOSE_BAD_FRAME)
            return
        if len(text_data) > self.max_message_chars:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("invalid_json", INVALID_JSON)
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("invalid_message", INVALID_MESSAGE)
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        handler = getattr(self, "on_" + content["type"].replace(".", "_"), None)
        if handler is None:
            await self.send_error("unknown_type", UNKNOWN_TYPE, type=content["type"][:40])
            return
        try:
            await handler(content)
        except DomainError as error:
            await self.send_json({"type": "error", **error.body(self.lang), "nonce": content.get("nonce")})

    async def send_error(self, code: str, message: T, **details: Any) -> None:
        await self.send_json(
            {
                "type": "error",
                "code": code,
                "message": message.get(self.lang),
                "details": localize(details, self.lang),
            }
        )

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


class EchoConsumer(LinliConsumer):
    """``/ws/v1/echo``: an authenticated echo, for clients to test their connection and auth."""

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong", "user_id": self.user.pk, "data": content.get("data")})
