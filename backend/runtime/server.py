"""daphne, as Linli runs it (``python -m backend.serve``).

It takes daphne's arguments (``python -m backend.serve -b 0.0.0.0 -p 8000 --proxy-headers
backend.asgi:application``) and runs daphne's own command line with a server that differs in
what it logs per request:

* Twisted formats a Combined Log Format line for every request, and at verbosity 0 or 1 daphne
  sends Twisted's log nowhere. Here the line is not formatted in the first place (at ``-v 2``
  and above it is, and daphne passes it on as before).
* Requests Twisted or daphne refuse before the application get the JSON error body, and raw
  UTF-8 in a request line is percent-encoded instead of refused (``backend.runtime.http``).
* ``LINLI_ACCESS_LOG=0`` turns daphne's own access log off. In production nginx writes the
  access log (``docker-compose.yml`` sets it); ``make run`` keeps daphne's, to watch requests.

Measured with ``bench/lookup`` (one core, 64 connections): the two lines cost 15 % of the
server's CPU per lookup (465 → 402 µs) and p99 went from 45-48 ms to 34 ms.

Listen backlog. Twisted listens with a backlog of 50 connections waiting to be accepted. A
burst of new connections beyond that (200 volunteers tapping "sign up" as an activity opens)
overflows the kernel's accept queue: the SYNs are dropped and each of those clients retries one
second later (then three). ``bench/signup_burst`` (200 connections at once, 20 bursts, SQLite)
counted 6,095 ``ListenOverflows`` and 4,830 SYN retransmits in ``nstat``; sign-ups/s varied from
224 to 373 between identical runs with the same p50 (165-175 ms), the difference being bursts
that waited a second for their last connections. Every TCP or Unix endpoint here listens with
``backlog=LINLI_LISTEN_BACKLOG`` (default 1024, nginx's own default is 511; the kernel caps it at
``net.core.somaxconn``). Figures after the change in the README's benchmark table.

Oversized websocket frames. daphne hands autobahn a frame and a message limit
(``--websocket-max-frame-size`` / ``--websocket-max-message-size``, 1 MiB = 1,048,576 bytes
each, kept: ``WS_MAX_BYTES``). Linli's consumers take far less (``realtime.consumers``: 16 KiB by
default, 2 KiB on the scanner socket, 512 characters on the dashboard) and close a larger text
frame with 4413 themselves. A frame or message over the server's limit never reaches them:
autobahn fails the connection when the frame header announces the length, and with daphne's
settings it fails by dropping TCP (the client saw 1006 and no close frame, whatever the size
above 1 MiB). ``LinliWebSocketProtocol`` answers that case as the consumers do: a 4413 close
frame, sent as soon as the header is read, the rest of the payload read and discarded without
being kept, and the connection closed once the client answers the close (autobahn's close
handshake timeout, 1 s, otherwise). So every frame over any limit gets 4413: 2 KiB + 1 byte on
the scanner socket, 1 MiB + 1, 2 MiB or 16 MiB alike (``tests/checkin/test_e2e_protocol.py``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

from backend.core.flags import switched_on
from backend.runtime.http import LinliHTTPFactory


def access_log_enabled() -> bool:
    return switched_on(os.environ.get("LINLI_ACCESS_LOG", "1"))


def _discard(request: Any) -> None:
    """Twisted's per-request log line, at a verbosity where daphne would throw it away."""


WS_MAX_BYTES = 1024 * 1024
CLOSE_TOO_BIG = 4413


class LinliWebSocketProtocol(WebSocketProtocol):
    """daphne's websocket protocol, closing with 4413 where autobahn would drop the connection
    for a frame or message over the server's limit."""

    def _max_message_size_exceeded(self, msg_size: int, max_msg_size: int, reason: str) -> None:
        if self.state != self.STATE_OPEN:
            super()._max_message_size_exceeded(msg_size, max_msg_size, reason)
            return
        self.failedByMe = True  # what is left of the payload is read and thrown away
        self.sendCloseFrame(code=CLOSE_TOO_BIG, reasonUtf8=b"message too big", isReply=False)


DEFAULT_LISTEN_BACKLOG = 1024


def listen_backlog() -> int:
    """``LINLI_LISTEN_BACKLOG``, else ``DEFAULT_LISTEN_BACKLOG`` (the kernel caps it at
    ``net.core.somaxconn``, 4096 on current Linux)."""
    value = os.environ.get("LINLI_LISTEN_BACKLOG", "").strip()
    return max(1, int(value)) if value else DEFAULT_LISTEN_BACKLOG


def with_backlog(endpoint: str, backlog: int) -> str:
    """A Twisted ``tcp:`` or ``unix:`` endpoint description with ``backlog=`` unless it has one."""
    kind = endpoint.split(":", 1)[0]
    if kind not in ("tcp", "tcp6", "unix") or ":backlog=" in endpoint:
        return endpoint
    return f"{endpoint}:backlog={backlog}"


class LinliServer(Server):
    def __init__(self, *args: Any, action_logger: Any = None, endpoints: Any = None, **kwargs: Any) -> None:
        backlog = listen_backlog()
        endpoints = [with_backlog(str(e), backlog) for e in endpoints or []]
        super().__init__(
            *args,
            action_logger=action_logger if access_log_enabled() else None,
            endpoints=endpoints,
            **kwargs,
        )

    # daphne builds its HTTPFactory inside run(); Linli's answers every request it refuses with
    # the JSON error body (backend.runtime.http).
    @property
    def http_factory(self) -> Any:
        return self._linli_http_factory

    @http_factory.setter
    def http_factory(self, factory: Any) -> None:
        self._linli_http_factory = LinliHTTPFactory(self) if type(factory) is HTTPFactory else factory

    def listen_success(self, port: Any) -> None:
        # The HTTP factory exists once daphne listens, before the reactor serves any request.
        if self.verbosity <= 1:
            self.http_factory.log = _discard
        ws_factory = getattr(self, "ws_factory", None)  # built in run(), before listening
        if ws_factory is not None:
            ws_factory.protocol = LinliWebSocketProtocol
        super().listen_success(port)


class LinliCommandLine(CommandLineInterface):
    server_class = LinliServer


def served_host(argv: list[str]) -> str:
    """``host:port`` from daphne's ``-b/--bind`` and ``-p/--port`` (defaults 127.0.0.1, 8000); a
    wildcard bind names no host a browser could open, so it counts as loopback."""
    host, port = "127.0.0.1", "8000"
    for i, arg in enumerate(argv):
        flag, _, inline = arg.partition("=")
        value = inline or (argv[i + 1] if i + 1 < len(argv) else "")
        if flag in ("-b", "--bind"):
            host = value
        elif flag in ("-p", "--port"):
            port = value
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # Links printed outside a request (jobs, the shell) name the address this server listens on,
    # unless LINLI_PUBLIC_HOST says otherwise (backend.core.links); read when settings load.
    os.environ.setdefault("LINLI_SERVED_HOST", served_host(args))
    LinliCommandLine().run(args)
