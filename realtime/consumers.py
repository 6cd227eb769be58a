"""Websocket consumers. ``LinliConsumer`` is the base every Linli socket builds on: token auth
(4401), per-object permission (4403), size and shape checks on incoming frames, and error frames
in the same ``{"code", "message", "details"}`` shape as the HTTP API.

Every socket joins its session's and its user's groups (``backend.runtime.sockets``) before its
authorization is read, and answers their messages: ``socket.close`` closes it with the code
given; ``socket.recheck`` reads its session and authorization again (``check_access``) and
closes it with 4401 or 4403 when they no longer hold. A consumer that is admitted for more than
its session and role (a scanner device) adds that object's group in ``socket_groups``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from backend.accounts.selectors import session_in_force, user_grants_forget
from backend.core.errors import DomainError
from backend.core.faults import is_database_away
from backend.core.i18n import T, localize, scope_lang
from backend.runtime.sockets import session_group, user_group
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
BINARY_FRAME = T("只接受文本（JSON）消息。", "Only text (JSON) frames are accepted.")


class LinliConsumer(AsyncJsonWebsocketConsumer):
    max_message_chars = 16 * 1024
    # Malformed frames (binary, not JSON, not an object with a "type", an unknown type) get an
    # error frame and the socket stays; this many within the window is abuse: closed with 4400.
    bad_frames_allowed = 10
    bad_frames_window = 60.0

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

    def socket_groups(self) -> list[str]:
        """The groups whose ``socket.close`` / ``socket.recheck`` messages this socket obeys:
        its session's and its user's. Subclasses admitted for more (a device) add theirs."""
        session = self.scope.get("auth_session")
        if session is None or self.scope.get("auth_error"):
            return []
        return [session_group(session.pk), user_group(session.user_id)]

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        # Joined (by Channels) before ``connect`` reads the session and the role, and left on
        # disconnect: a revocation committed meanwhile is seen by the read or heard as a message.
        self.groups = self.socket_groups()
        await super().websocket_connect(message)

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols") or []
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
        if self.scope.get("auth_error"):
            await self.accept(subprotocol)
            unavailable = self.scope["auth_error"] == "unavailable"
            await self.close(code=CLOSE_UNAVAILABLE if unavailable else CLOSE_UNAUTHENTICATED)
            return
        try:
            refusal = await self.check_access()
        except Exception as exc:
            if not is_database_away(exc):
                raise
            refusal = CLOSE_UNAVAILABLE
        await self.accept(subprotocol)
        if refusal is not None:
            await self.close(code=refusal)
            return
        await self.opened()

    async def check_access(self) -> int | None:
        """``None`` while the session is in force and ``authorize`` admits the user, else the
        close code (4401 for a session that ended, 4403/4404 from ``authorize``)."""
        session = self.scope.get("auth_session")
        if session is not None and not await database_sync_to_async(session_in_force)(session_id=session.pk):
            return CLOSE_UNAUTHENTICATED
        user_grants_forget(self.user)
        return await self.authorize()

    async def socket_close(self, message: dict[str, Any]) -> None:
        """``backend.runtime.sockets``: what admitted this socket ended (session, device)."""
        await self._close_once(int(message.get("code") or CLOSE_UNAUTHENTICATED))

    async def socket_recheck(self, message: dict[str, Any]) -> None:
        """``backend.runtime.sockets``: a role of the user was taken away; does this socket depend on it?"""
        if getattr(self, "closed_with", None) is not None:
            return
        refusal = await self.check_access()
        if refusal is not None:
            await self._close_once(refusal)

    async def _close_once(self, code: int) -> None:
        # A person's socket can hear its session's and its user's group say the same thing.
        if getattr(self, "closed_with", None) is None:
            self.closed_with = code
            await self.close(code=code)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.bad_frame("invalid_message", BINARY_FRAME)
            return
        if len(text_data) > self.max_message_chars:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.bad_frame("invalid_json", INVALID_JSON)
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.bad_frame("invalid_message", INVALID_MESSAGE)
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        handler = getattr(self, "on_" + content["type"].replace(".", "_"), None)
        if handler is None:
            await self.bad_frame("unknown_type", UNKNOWN_TYPE, type=content["type"][:40])
            return
        try:
            await handler(content)
        except DomainError as error:
            await self.send_json({"type": "error", **error.body(self.lang), "nonce": content.get("nonce")})

    async def bad_frame(self, code: str, message: T, **details: Any) -> None:
        """Answer a malformed frame with an error frame (the socket stays), unless it is abuse."""
        if not await self.abuse():
            await self.send_error(code, message, **details)

    async def abuse(self) -> bool:
        """Count one malformed frame. The ``bad_frames_allowed``-th within ``bad_frames_window``
        seconds is abuse: the socket is closed with 4400 and True returned."""
        now = time.monotonic()
        recent = [t for t in getattr(self, "_bad_frames", []) if now - t < self.bad_frames_window]
        recent.append(now)
        self._bad_frames = recent
        if len(recent) >= self.bad_frames_allowed:
            await self._close_once(CLOSE_BAD_FRAME)
            return True
        return False

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
