"""The one after-commit broadcast: websocket messages that never hold up the write that caused them.

Services call ``publish_after_commit(group, message)`` inside their transaction (Zulip's
``send_event_on_commit``): nothing is sent when the transaction rolls back. The on-commit hook
only hands the message to the server's event loop and returns, so a database thread never waits
for the channel layer (under load such a wait stalled every scanner behind the one database
thread). One sender task per loop takes messages in commit order (several at once as one batch),
so a single process publishes an event's feed in sequence order (dashboards still heal any gap
or reordering by seq, see ``realtime.checkin.LiveConsumer``). Outside a server (scripts, jobs)
it sends synchronously.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger("linli.realtime")

_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue] = weakref.WeakKeyDictionary()
_senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = weakref.WeakKeyDictionary()


async def _sender(queue: asyncio.Queue) -> None:
    """Publish queued messages in order; ends when the queue is empty (the next publish starts
    another), so no task lingers on a loop that is about to close.

    Messages that queued up for one group while the previous publish was on its way go out as
    one ``batch`` message (``[[seq, text], ...]``, in order): under load a scan then costs the
    channel layer a fraction of a publish (with Redis, several round trips each), so the feed
    keeps up with the scanners instead of falling seconds behind."""
    layer = get_channel_layer()
    while not queue.empty():
        pending: dict[str, list[dict[str, Any]]] = {}
        while not queue.empty():
            group, message = queue.get_nowait()
            pending.setdefault(group, []).append(message)
        for group, messages in pending.items():
            for out in _batched(messages):
                try:
                    await layer.group_send(group, out)
                except Exception:  # a failed publish must not stop the others; dashboards resync by seq
                    log.exception("broadcast to %s failed", group)


def _batched(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed messages (``seq`` and ``text``) of one type in a row become one ``batch`` message;
    any other message (``backend.runtime.sockets``' close and recheck) goes out as it is, in order."""
    out: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            out.append({"type": run[0]["type"], "batch": [[m["seq"], m["text"]] for m in run]})
        run.clear()

    for message in messages:
        feed = "seq" in message and "text" in message
        if not feed or (run and run[0]["type"] != message["type"]):
            flush()
        if feed:
            run.append(message)
        else:
            out.append(message)
    flush()
    return out


def _enqueue(loop: asyncio.AbstractEventLoop, group: str, message: dict[str, Any]) -> None:
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = asyncio.Queue()
    queue.put_nowait((group, message))
    sender = _senders.get(loop)
    if sender is None or sender.done():
        _senders[loop] = loop.create_task(_sender(queue))


def publish(group: str, message: dict[str, Any]) -> None:
    if get_channel_layer() is None:
        return
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running():
        loop.call_soon_threadsafe(_enqueue, loop, group, message)
        return
    async_to_sync(get_channel_layer().group_send)(group, message)


def publish_after_commit(group: str, message: dict[str, Any]) -> None:
    transaction.on_commit(lambda: publish(group, message))
