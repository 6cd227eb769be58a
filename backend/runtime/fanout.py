"""One text frame to many sockets of this process, encoded and framed once.

Channels sends through the ASGI ``websocket.send`` message, one socket at a time: for each one
the consumer awaits daphne's ``handle_reply``, daphne encodes the text to UTF-8 and autobahn
builds the frame. A live dashboard feed sends the same text to every dashboard of the event on
the process: ``send_text_to_many`` encodes and frames it once (autobahn's ``prepareMessage``,
made for broadcasting) and writes the prepared frame to each daphne connection that is still
open, without a coroutine per socket. A socket that is not served by daphne (the tests'
``WebsocketCommunicator``, another ASGI server) gets the ordinary ``websocket.send``.

Measured with ``bench/checkin`` (figures in the README's benchmark table).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]


def daphne_connection(send: Send) -> tuple[Any, Any] | None:
    """(daphne server, websocket protocol) behind an ASGI ``send``, or None under another server.

    daphne hands each application instance ``partial(Server.handle_reply, protocol)``."""
    if not isinstance(send, functools.partial) or len(send.args) != 1 or send.keywords:
        return None
    server = getattr(send.func, "__self__", None)
    protocol = send.args[0]
    if getattr(send.func, "__name__", "") != "handle_reply" or not isinstance(
        getattr(server, "connections", None), dict
    ):
        return None
    if not hasattr(protocol, "sendPreparedMessage") or not hasattr(protocol, "factory"):
        return None
    return server, protocol


async def send_text_to_many(sends: Sequence[Send], text: str) -> None:
    """Send ``text`` as one websocket text frame on each of ``sends`` (ASGI send callables of
    accepted sockets). Closed or closing sockets are skipped, as daphne's own send skips them."""
    prepared = None
    for send in sends:
        found = daphne_connection(send)
        if found is None:
            await send({"type": "websocket.send", "text": text})
            continue
        server, protocol = found
        details = server.connections.get(protocol)
        if details is None or details.get("disconnected") or protocol.state != protocol.STATE_OPEN:
            continue
        if prepared is None:
            prepared = protocol.factory.prepareMessage(text.encode("utf-8"), isBinary=False)
        protocol.sendPreparedMessage(prepared)
