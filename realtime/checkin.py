"""Event check-in sockets: scanners redeem passes, coordinators watch the live dashboard.

``/ws/v1/events/{id}/scan`` (scanner or coordinator of the event)
    client → ``{"type": "redeem", "secret", "nonce", "kind": "entry"|"exit", "scanned_at", "list"?}``
    server → ``{"type": "result", "nonce", "status": "ok"|"error", "reason"?, "pass", "checked_in_at", ...}``
    A redeem with bad fields gets ``{"type": "error", "code": "invalid_message", "nonce", ...}``;
    a frame that is not a JSON object closes the socket with 4400, an oversized one with 4413.

``/ws/v1/events/{id}/live[?since=SEQ]`` (coordinator of the event or its organisation)
    server → ``{"type": "snapshot", "seq", "checked_in", "inside", "by_list", "recent"}`` on
    connect (or the missed ``checkin`` messages after ``since`` when few enough), then one
    ``{"type": "checkin", "seq", ...}`` per recorded scan, seq without gaps. The client may send
    ``{"type": "resume", "since": SEQ}`` at any time. A message that arrives out of order or
    after a gap (the channel layer drops messages for a full, slow dashboard) is healed from the
    database; a gap too long to replay sends a new snapshot.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from backend.checkin import selectors, services
from backend.checkin.errors import InvalidRedeem
from backend.checkin.models import Checkin
from backend.core.permissions import can
from realtime.consumers import CLOSE_BAD_FRAME, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_TOO_BIG, LinliConsumer


class _EventConsumer(LinliConsumer):
    action = ""

    async def authorize(self) -> int | None:
        try:
            event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
        except (KeyError, TypeError, ValueError):
            return CLOSE_NOT_FOUND
        self.event = await database_sync_to_async(selectors.event_get)(event_id=event_id)
        allowed = self.event is not None and await database_sync_to_async(can)(
            self.user, self.action, self.event
        )
        if allowed:
            return None
        # A user with no role on the event learns nothing about whether it exists.
        return CLOSE_FORBIDDEN

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # A scanner app that sends something other than a JSON object is broken: close, don't guess.
        if text_data is None:
            await self.close(code=CLOSE_BAD_FRAME)
            return
        if len(text_data) > self.max_message_chars:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.close(code=CLOSE_BAD_FRAME)
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.close(code=CLOSE_BAD_FRAME)
            return
        await self.receive_json(content)


class ScanConsumer(_EventConsumer):
    action = "checkin.scan"
    max_message_chars = 2048

    async def opened(self) -> None:
        session = self.scope.get("auth_session")
        self.device = f"session:{session.pk}" if session is not None else ""

    async def on_redeem(self, content: dict[str, Any]) -> None:
        try:
            redeem = services.redeem_parse(content)
        except InvalidRedeem as error:
            await self.send_json(
                {"type": "error", **error.body(self.lang), "nonce": error.details.get("nonce")}
            )
            return
        device = content.get("device")
        result = await database_sync_to_async(services.checkin_redeem)(
            event_id=self.event.pk,
            redeem=redeem,
            scanner=self.user,
            device=device[:64] if isinstance(device, str) and device else self.device,
            source=Checkin.Source.SOCKET,
        )
        await self.send_json(result.message())

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})


class LiveConsumer(_EventConsumer):
    action = "checkin.live"
    max_message_chars = 512

    async def opened(self) -> None:
        self.group = selectors.group_name(self.event.pk)
        self.last_seq = -1
        # Join first, then read: anything committed after the read arrives through the group.
        await self.channel_layer.group_add(self.group, self.channel_name)
        since = None
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if query.get("since"):
            try:
                since = int(query["since"][0])
            except ValueError:
                since = None
        await self.resume(since)

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def resume(self, since: int | None) -> None:
        if since is not None:
            missed = await database_sync_to_async(selectors.checkin_replay)(
                event_id=self.event.pk, after=since
            )
            if missed is not None:
                self.last_seq = since
                await self.send_json({"type": "resumed", "since": since, "count": len(missed)})
                for message in missed:
                    await self._deliver_message(message)
                return
        snapshot = await database_sync_to_async(selectors.event_snapshot)(event=self.event)
        self.last_seq = snapshot["seq"]
        await self.send_json(snapshot)

    async def _deliver_message(self, message: dict[str, Any]) -> None:
        if message["seq"] == self.last_seq + 1:
            self.last_seq = message["seq"]
            await self.send_json(message)

    async def on_resume(self, content: dict[str, Any]) -> None:
        since = content.get("since")
        await self.resume(since if isinstance(since, int) and not isinstance(since, bool) else None)

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong", "seq": self.last_seq})

    async def checkin_recorded(self, message: dict[str, Any]) -> None:
        seq = message["seq"]
        if seq <= self.last_seq:
            return  # already sent (replayed, or in the snapshot)
        if seq == self.last_seq + 1:
            self.last_seq = seq
            await self.send(text_data=message["text"])
            return
        # A gap: messages were dropped (full channel) or overtaken. Fill it from the database.
        missed = await database_sync_to_async(selectors.checkin_replay)(
            event_id=self.event.pk, after=self.last_seq, upto=seq
        )
        if missed is None:
            await self.resume(None)
            return
        for item in missed:
            await self._deliver_message(item)
