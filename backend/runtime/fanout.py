"""Text frames to many sockets of this process, each encoded and framed once, each socket written once.

Channels sends through the ASGI ``websocket.send`` message, one socket at a time: for each one
the consumer awaits daphne's ``handle_reply``, daphne encodes the text to UTF-8 and autobahn
builds the frame. A live dashboard feed sends the same text to every dashboard of the event on
the process: ``Fanout`` encodes and frames each text once (autobahn's ``prepareMessage``, made
for broadcasting) and, when several texts go out together (scans published as one batch), writes
every socket's frames in one write. Only sockets still open are written to, as daphne's own
send skips closed ones. A socket that is not served by daphne (the tests'
``WebsocketCommunicator``, another ASGI server) gets the ordinary ``websocket.send``.

The write goes to the connection's transport directly, as autobahn's ``sendData`` does for a
socket with nothing queued, without its per-call debug formatting (``hltype``/``hlval`` run
before the logger's level is checked). A py-spy profile of ``bench/checkin`` (50 scanners, 1,000
dashboards, two processes on one core, one scan per scanner per second) found the fan-out at 28 %
of a server process and that formatting at 6 % of it. A socket that has frames queued inside
autobahn, or compression negotiated, goes through ``sendPreparedMessage`` as before.

Measured with ``bench/checkin`` (figures in the README's benchmark table).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger("linli.realtime")


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


class Fanout:
    """Texts for sets of sockets, collected with ``add`` and sent with ``flush``: each socket gets
    its texts as frames in the order added, in one write where daphne serves it."""

    def __init__(self) -> None:
        self._texts: list[tuple[Sequence[Send], str]] = []

    def add(self, sends: Sequence[Send], text: str) -> None:
        if sends:
            self._texts.append((sends, text))

    async def flush(self) -> None:
        texts, self._texts = self._texts, []
        frames: dict[Any, list[Any]] = {}  # protocol -> prepared messages, in order
        behind: dict[Send, tuple[Any, Any] | None] = {}  # each socket looked up once per flush
        for sends, text in texts:
            prepared = None
            for send in sends:
                if send not in behind:
                    behind[send] = daphne_connection(send)
                found = behind[send]
                if found is None:
                    try:
                        await send({"type": "websocket.send", "text": text})
                    except Exception:  # one broken socket must not silence the others
                        log.debug("websocket send failed", exc_info=True)
                    continue
                server, protocol = found
                details = server.connections.get(protocol)
                if details is None or details.get("disconnected") or protocol.state != protocol.STATE_OPEN:
                    continue
                if prepared is None:
                    prepared = protocol.factory.prepareMessage(text.encode("utf-8"), isBinary=False)
                frames.setdefault(protocol, []).append(prepared)
        for protocol, messages in frames.items():
            try:
                _write(protocol, messages)
            except Exception:
                log.debug("websocket write failed", exc_info=True)


def _write(protocol: Any, messages: list[Any]) -> None:
    plain = (
        protocol._perMessageCompress is None
        and not protocol.send_queue
        and protocol.transport is not None
        and protocol.state == protocol.STATE_OPEN
    )
    if not plain:
        for message in messages:
            protocol.sendPreparedMessage(message)
        return
    data = b"".join(message.payloadHybi for message in messages)
    send_now(protocol.transport, data)
    protocol.trafficStats.outgoingOctetsWireLevel += len(data)


def send_now(transport: Any, data: bytes) -> None:
    """``transport.write(data)``, but handed to the socket at once when nothing waits before it.

    Twisted's ``write`` only buffers: it registers the socket with the reactor (an ``epoll_ctl``
    through asyncio's selector), sends when the loop next finds it writable, then unregisters it
    (another ``epoll_ctl``). For one frame to each of a thousand dashboards that bookkeeping was
    34 % of a server process and the ``send`` itself 3 % (py-spy, ``bench/checkin``, 50 scanners,
    1,000 dashboards, two processes on one core). A plain TCP transport with empty buffers gets
    the bytes now, as asyncio's own transports do; what the socket does not take, and any other
    transport (TLS, closing, data already queued), goes through ``transport.write``, in order."""
    sock = getattr(transport, "socket", None)
    if (
        sock is None
        or getattr(transport, "TLS", True)
        or not getattr(transport, "connected", False)
        or getattr(transport, "disconnecting", True)
        or getattr(transport, "_writeDisconnected", True)
        or getattr(transport, "_tempDataBuffer", True)
        or len(getattr(transport, "dataBuffer", b"x")) > getattr(transport, "offset", 0)
    ):
        transport.write(data)
        return
    try:
        sent = sock.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:  # reset or closed: Twisted finds it on its own write and closes as usual
        transport.write(data)
        return
    if sent < len(data):
        transport.write(data[sent:])
