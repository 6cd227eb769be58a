"""Event check-in sockets: scanners redeem passes, coordinators watch the live dashboard.

``/ws/v1/events/{id}/scan[?device_id=N]`` (scanner or coordinator of the event)
    client → ``{"type": "redeem", "secret", "nonce", "kind": "entry"|"exit", "scanned_at", "list"?,
    "device_id"?, "forced"?}``
    server → ``{"type": "result", "nonce", "status": "ok"|"error", "reason"?, "pass", "checked_in_at",
    "checked_in_gate", "gate", "conflict"?, ...}``
    client → ``{"type": "annul", "nonce", "reason"}`` → ``{"type": "annulled", "seq", "annulled_seq", ...}``
    A redeem with bad fields gets ``{"type": "error", "code": "invalid_message", "nonce", ...}``,
    a malformed frame an error frame too (``realtime.consumers``: the socket stays; 10 malformed
    frames within 60 s close it with 4400); an oversized one closes it with 4413.
    A registered device (at connect or in a frame) that is unknown closes the socket with 4404;
    a revoked one with 4403, also when it is revoked while the socket is open.

``/ws/v1/events/{id}/live[?since=SEQ]`` (coordinator of the event or its organisation)
    server → ``{"type": "snapshot", "seq", "checked_in", "inside", "by_list", "recent"}`` on
    connect (or the missed ``checkin`` messages after ``since`` when few enough), then one
    ``{"type": "checkin", "seq", ...}`` per recorded scan, seq without gaps. The client may send
    ``{"type": "resume", "since": SEQ}`` at any time. A message that arrives out of order or
    after a gap (the channel layer drops messages for a full, slow dashboard) is healed from the
    database; a gap too long to replay sends a new snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import close_old_connections

from backend.checkin import conf, selectors, services
from backend.checkin.errors import DeviceRevoked, InvalidRedeem, UnknownDevice
from backend.checkin.models import Checkin
from backend.checkin.permissions import Action, event_access
from backend.checkin.redeem.messages import scanner_device
from backend.core.errors import DomainError
from backend.core.i18n import T
from backend.runtime.fanout import Fanout
from realtime.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, LinliConsumer

log = logging.getLogger("linli.checkin")

INVALID_ANNUL = T(
    "撤销消息须含 nonce（字符串）与 reason。", "An annul message needs a nonce (a string) and a reason."
)


def _scan_call(func: Any) -> Any:
    """``database_sync_to_async`` for the scanner's hot path, minus the connection churn.

    ``database_sync_to_async`` closes the connection after every call when ``CONN_MAX_AGE`` is 0
    (a new PostgreSQL connection per scan; on SQLite the last close also checkpoints the WAL).
    A scanner socket is long-lived, so the connection is kept between its scans and the stale-
    connection cleanup runs only when a call failed. HTTP requests in the same thread still
    close it at their end.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:
            close_old_connections()
            raise

    return sync_to_async(call, thread_sensitive=True)


_redeem = _scan_call(services.checkin_redeem)


class _EventConsumer(LinliConsumer):
    action: Action

    async def authorize(self) -> int | None:
        try:
            event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
        except (KeyError, TypeError, ValueError):
            return CLOSE_NOT_FOUND
        try:
            self.event = await database_sync_to_async(event_access)(
                user=self.user, event_id=event_id, action=self.action
            )
        except DomainError:
            # A user with no role on the event learns nothing about whether it exists.
            return CLOSE_FORBIDDEN
        return None


class ScanConsumer(_EventConsumer):
    action = Action.SCAN
    max_message_chars = 2048

    async def opened(self) -> None:
        self.device_id: int | None = None
        self.device_groups: set[str] = set()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("device_id") or [""])[0]
        if raw:
            if not raw.isdigit() or not await self._use_device(int(raw)):
                return
            self.device_id = int(raw)

    async def _use_device(self, device_id: int) -> bool:
        """Scan as the registered ``device_id``: follow its revocation; closes when it is unknown
        (4404) or revoked (4403)."""
        group = services.device_group(device_id)
        if group not in self.device_groups:
            # Join first, then check: a revocation committed in between still reaches us.
            await self.channel_layer.group_add(group, self.channel_name)
            self.device_groups.add(group)
        try:
            await database_sync_to_async(services.device_check)(event_id=self.event.pk, device_id=device_id)
        except UnknownDevice:
            await self.close(code=CLOSE_NOT_FOUND)
            return False
        except DeviceRevoked:
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        return True

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "device_groups", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def on_redeem(self, content: dict[str, Any]) -> None:
        try:
            redeem = services.redeem_parse(content)
        except InvalidRedeem as error:
            if await self.abuse():
                return
            await self.send_json(
                {"type": "error", **error.body(self.lang), "nonce": error.details.get("nonce")}
            )
            return
        if redeem.device_id is None:
            redeem = replace(redeem, device_id=self.device_id)
        elif f"device.{redeem.device_id}" not in self.device_groups and not await self._use_device(
            redeem.device_id
        ):
            return
        try:
            result = await _redeem(
                event_id=self.event.pk,
                redeem=redeem,
                scanner=self.user,
                device=scanner_device(sent=content.get("device"), session=self.scope.get("auth_session")),
                source=Checkin.Source.SOCKET,
            )
        except DeviceRevoked as error:
            await self.send_json({"type": "error", **error.body(self.lang), "nonce": redeem.nonce})
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send_json(result.message())

    async def on_annul(self, content: dict[str, Any]) -> None:
        """Annul a scan of this device (within the annul window) or, for a coordinator, any."""
        nonce, reason, device_id = content.get("nonce"), content.get("reason", ""), content.get("device_id")
        if not isinstance(nonce, str) or not isinstance(reason, str) or not 1 <= len(nonce) <= 64:
            await self.send_error(
                "invalid_message", INVALID_ANNUL, nonce=nonce if isinstance(nonce, str) else None
            )
            return
        if device_id is not None and (not isinstance(device_id, int) or isinstance(device_id, bool)):
            await self.send_error("invalid_message", INVALID_ANNUL, nonce=nonce)
            return
        by = services.AnnulBy(
            user=self.user,
            device_id=device_id if device_id is not None else self.device_id,
            device=scanner_device(sent=content.get("device"), session=self.scope.get("auth_session")),
            source=Checkin.Source.SOCKET,
        )
        row = await database_sync_to_async(services.checkin_annul)(
            event=self.event, nonce=nonce, reason=reason, by=by
        )
        await self.send_json(selectors.checkin_feed_message(row))

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})


def _encode(message: dict[str, Any]) -> str:
    """A feed message as the scan service encodes it (``backend.checkin.services.scans``)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class _Hub:
    """One channel-layer subscription per process and event, fanned out locally to its dashboards.

    A scan then costs the channel layer one message per server process instead of one per
    dashboard (with Redis: one push and one pop, not a hundred). Each dashboard keeps its own
    position (seq); the hub never waits on a slow one: a dashboard busy catching up from the
    database is skipped and catches up to whatever it missed.

    With several server processes, scans recorded by different processes reach the hub in any
    order (seq 11 from one process before seq 10 from the other). The hub puts them back in order
    for all its dashboards at once: a scan that overtook another waits up to ``REORDER_WAIT`` for
    it; a scan still missing then (a full channel dropped it) is read from the database once, for
    every dashboard here. Before this, each dashboard healed the gap itself, one query per
    dashboard per reordering: with 2 processes and 300 dashboards half the server's time went to
    those queries and acks took seconds (``bench/checkin``, figures in the README).

    The hub outlives the channel layer's outages (Redis stopped, failed over or flushed: group
    membership gone). A keeper renews the subscription every ``LINLI_REALTIME_REJOIN_SECONDS``
    (an idempotent ``group_add``), and once the layer answers again after a failure, it reads the
    event's latest seq from the database and has every dashboard replay what it missed. No
    restart, no reconnect.
    """

    REORDER_WAIT = 0.15  # seconds

    hubs: dict[tuple[int, int], _Hub] = {}

    def __init__(self, event_id: int) -> None:
        self.event_id = event_id
        self.members: set[LiveConsumer] = set()
        self.ready = asyncio.Event()
        self.channel = ""
        self.task: asyncio.Task | None = None
        self.last: int | None = None  # highest seq delivered in order
        self.held: dict[int, dict[str, Any]] = {}  # scans that overtook a missing one
        self.lock = asyncio.Lock()
        self.timer: asyncio.TimerHandle | None = None
        self.failed = True  # until the first group_add succeeds
        self.outbox = Fanout()  # frames for the dashboards in line, sent once a batch is taken

    @classmethod
    async def join(cls, consumer: LiveConsumer, event_id: int) -> _Hub:
        key = (id(asyncio.get_running_loop()), event_id)
        hub = cls.hubs.get(key)
        if hub is None:
            hub = cls.hubs[key] = cls(event_id)
            hub.task = asyncio.create_task(hub.run())
        hub.members.add(consumer)
        await hub.ready.wait()
        return hub

    @classmethod
    async def leave(cls, consumer: LiveConsumer, event_id: int) -> None:
        key = (id(asyncio.get_running_loop()), event_id)
        hub = cls.hubs.get(key)
        if hub is None:
            return
        hub.members.discard(consumer)
        if not hub.members and hub.task is not None:
            del cls.hubs[key]
            hub.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hub.task

    async def run(self) -> None:
        layer = get_channel_layer()
        group = selectors.group_name(self.event_id)
        # The default prefix, as consumers use: channels-redis reads all of a process's channels
        # with one blocking pop per prefix, so another prefix would wait behind theirs.
        self.channel = await layer.new_channel()
        await self._join(layer, group)
        self.ready.set()
        keeper = asyncio.create_task(self._keep(layer, group))
        try:
            while True:
                try:
                    message = await layer.receive(self.channel)
                except Exception:  # e.g. Redis away or a read timing out: the hub must outlive it
                    if not self.failed:
                        log.warning(
                            "hub of event %s: channel layer receive failed", self.event_id, exc_info=True
                        )
                    self.failed = True
                    await asyncio.sleep(0.5)
                    continue
                await self._deliver(message)
        finally:
            keeper.cancel()
            if self.timer is not None:
                self.timer.cancel()
            with contextlib.suppress(Exception):
                await layer.group_discard(group, self.channel)

    async def _join(self, layer: Any, group: str) -> bool:
        try:
            await layer.group_add(group, self.channel)
        except Exception:
            self.failed = True
            return False
        return True

    async def _keep(self, layer: Any, group: str) -> None:
        """Renew the subscription; after a failure, resync the dashboards once it succeeds."""
        ticks = 0
        while True:
            await asyncio.sleep(conf.realtime_rejoin_seconds())
            ticks += 1
            was_failed = self.failed
            if not await self._join(layer, group):
                continue
            # Every sixth round also compare positions: a flush without errors loses messages
            # silently (the next scan would show the gap; this shows it without one).
            if was_failed or ticks % 6 == 0:
                self.failed = False
                try:
                    await self._resync()
                except Exception:  # the database away as well: the next round tries again
                    self.failed = True
                    log.warning("hub of event %s: resync failed", self.event_id, exc_info=True)

    async def _resync(self) -> None:
        """Compare the feed's position in the database with the hub's; replay the difference
        once for every dashboard here.

        Under load the database is nearly always a few scans ahead of the hub (committed, still
        on their way through the layer): those get the reorder wait to arrive first. Before,
        every dashboard was told the database's position and read what it lacked itself: with
        500 dashboards on a process, 500 replay queries each round, 56 % of the server's time
        at 45 scans/s (py-spy, ``bench/checkin``, 50 scanners and 1,000 dashboards)."""
        latest = await database_sync_to_async(selectors.event_last_seq)(event_id=self.event_id)
        if self.last is not None and latest <= self.last:
            return
        await asyncio.sleep(self.REORDER_WAIT)
        async with self.lock:
            if self.last is None:  # no position yet: each dashboard checks its own
                for member in list(self.members):
                    member.heard_of(latest)
                return
            if latest <= self.last:
                return  # what was missing arrived meanwhile
            if not await self._replayed(upto=latest):  # too far behind: every dashboard starts over
                for member in list(self.members):
                    member.heard_of(latest)
                return
            self.last = latest
            for seq in [seq for seq in self.held if seq <= latest]:
                del self.held[seq]
            await self.release()
            await self.outbox.flush()

    async def _deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") != "checkin.recorded":
            return
        # One scan, or several published together (``backend.runtime.broadcast``).
        items = (
            [{"seq": seq, "text": text} for seq, text in message["batch"]]
            if "batch" in message
            else [message]
        )
        async with self.lock:
            for item in items:
                await self.take(item)
            await self.outbox.flush()  # each dashboard's frames of this batch in one write

    def start_at(self, seq: int) -> None:
        """Where a dashboard's snapshot left the feed: the order starts there if nothing came yet."""
        if self.last is None:
            self.last = seq

    async def take(self, item: dict[str, Any]) -> None:
        """Deliver ``item`` if it is next (or old: dashboards drop what they have), else hold it."""
        seq = item["seq"]
        if self.last is not None and seq > self.last + 1:
            self.held[seq] = item
            if self.timer is None:
                loop = asyncio.get_running_loop()
                self.timer = loop.call_later(self.REORDER_WAIT, lambda: loop.create_task(self.fill()))
            return
        await self.deliver(item)
        self.last = seq if self.last is None else max(self.last, seq)
        await self.release()

    async def release(self) -> None:
        """Deliver the held scans that are next now."""
        while self.last is not None and self.last + 1 in self.held:
            self.last += 1
            await self.deliver(self.held.pop(self.last))
        if not self.held and self.timer is not None:
            self.timer.cancel()
            self.timer = None

    async def fill(self) -> None:
        """The wait is over: read what is still missing from the database, once for everyone."""
        async with self.lock:
            self.timer = None
            while self.held and self.last is not None:
                upto = min(self.held) - 1
                try:
                    await self._replayed(upto=upto)
                except Exception:  # dashboards heal by seq on their own
                    log.warning("hub of event %s: replay failed", self.event_id, exc_info=True)
                self.last = upto
                await self.release()
            await self.outbox.flush()

    async def _replayed(self, *, upto: int) -> bool:
        """Deliver the scans after ``self.last`` up to ``upto`` from the database, once for every
        dashboard here; ``False`` when that is more than a replay (nothing delivered)."""
        assert self.last is not None
        missed = await database_sync_to_async(selectors.checkin_replay)(
            event_id=self.event_id, after=self.last, upto=upto
        )
        if missed is None:
            return False
        for message in missed:
            await self.deliver({"seq": message["seq"], "text": _encode(message)})
        return True

    async def deliver(self, item: dict[str, Any]) -> None:
        """One scan to every dashboard here: those next in line for it get the one frame
        (``backend.runtime.fanout``: encoded and framed once, sent with the rest of the batch
        when the caller flushes ``outbox``), the others heal by seq."""
        in_line = []
        for member in list(self.members):
            if member.takes_next(item["seq"]):
                in_line.append(member.base_send)
                continue
            try:
                await member.checkin_recorded(item)
            except Exception:  # one broken socket must not silence the others
                log.debug("dashboard delivery failed", exc_info=True)
        self.outbox.add(in_line, item["text"])


class LiveConsumer(_EventConsumer):
    action = Action.LIVE
    max_message_chars = 512

    async def opened(self) -> None:
        self.last_seq = -1
        self.pending = -1  # highest seq heard of while busy catching up
        self.busy = True
        self.joined = True
        # Subscribe first, then read: anything committed after the read arrives through the hub.
        hub = await _Hub.join(self, self.event.pk)
        since = None
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if query.get("since"):
            try:
                since = int(query["since"][0])
            except ValueError:
                since = None
        await self._catch_up(since)
        hub.start_at(self.last_seq)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            self.joined = False
            await _Hub.leave(self, self.event.pk)

    async def _catch_up(self, since: int | None) -> None:
        """Replay after ``since`` (or send a snapshot), then anything heard of meanwhile."""
        self.busy = True
        try:
            await self._resume(since)
            await self._fill()
        finally:
            self.busy = False

    async def _fill_gap(self) -> None:
        try:
            await self._fill()
        finally:
            self.busy = False

    async def _fill(self) -> None:
        while self.pending > self.last_seq:
            missed = await database_sync_to_async(selectors.checkin_replay)(
                event_id=self.event.pk, after=self.last_seq, upto=self.pending
            )
            if missed is None:
                await self._resume(None)
                continue
            for message in missed:
                await self._deliver_message(message)

    async def _resume(self, since: int | None) -> None:
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
        await self._catch_up(since if isinstance(since, int) and not isinstance(since, bool) else None)

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong", "seq": self.last_seq})

    def takes_next(self, seq: int) -> bool:
        """Whether ``seq`` is exactly the next message for this dashboard, now (then it counts
        as sent: the hub sends it along with the other dashboards')."""
        if self.busy or seq != self.last_seq + 1 or getattr(self, "closed_with", None) is not None:
            return False
        self.last_seq = seq
        return True

    def heard_of(self, seq: int) -> None:
        """The event's feed is at ``seq`` (from the database): replay what this dashboard missed."""
        if seq <= self.last_seq:
            return
        self.pending = max(self.pending, seq)
        if not self.busy:
            self.busy = True
            self._filler = asyncio.ensure_future(self._fill_gap())

    async def checkin_recorded(self, message: dict[str, Any]) -> None:
        """One recorded scan, from the hub. In order: sent as encoded once by the service."""
        seq = message["seq"]
        if self.busy:
            self.pending = max(self.pending, seq)
            return
        if seq <= self.last_seq:
            return  # already sent (replayed, or in the snapshot)
        if seq == self.last_seq + 1:
            self.last_seq = seq
            await self.send(text_data=message["text"])
            return
        # A gap: messages were dropped (full channel) or overtaken. Fill it from the database,
        # in this dashboard's own task, so the hub goes on serving the others.
        self.pending = max(self.pending, seq)
        self.busy = True
        self._filler = asyncio.ensure_future(self._fill_gap())
