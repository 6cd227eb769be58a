"""After-commit broadcasts to an event's dashboards that never hold up the scan that caused them.

``realtime.events.group_send_after_commit`` waits, in the database thread, until the event loop
has delivered the message; under load that wait stalls every scanner behind the one database
thread. Here the on-commit hook only hands the message to the event loop and returns. One
sender task per loop takes messages in commit order, so a single process publishes an event's
feed in sequence order (dashboards still heal any gap or reordering by seq, see
``realtime.checkin.LiveConsumer``). Outside a server (scripts, jobs) it sends synchronously.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger("linli.checkin")

_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue] = weakref.WeakKeyDictionary()
_senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = weakref.WeakKeyDictionary()


async def _sender(queue: asyncio.Queue) -> None:
    """Publish queued messages in order; ends when the queue is empty (the next publish starts
    another), so no task lingers on a loop that is about to close."""
    layer = get_channel_layer()
    while not queue.empty():
        group, message = queue.get_nowait()
        try:
            await layer.group_send(group, message)
        except Exception:  # a failed publish must not stop the others; dashboards resync by seq
            log.exception("broadcast to %s failed", group)


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
