"""daphne, as Linli runs it (``python -m backend.serve``).

It takes daphne's arguments (``python -m backend.serve -b 0.0.0.0 -p 8000 --proxy-headers
backend.asgi:application``) and runs daphne's own command line with a server that differs in
what it logs per request:

* Twisted formats a Combined Log Format line for every request, and at verbosity 0 or 1 daphne
  sends Twisted's log nowhere. Here the line is not formatted in the first place (at ``-v 2``
  and above it is, and daphne passes it on as before).
* ``LINLI_ACCESS_LOG=0`` turns daphne's own access log off. In production nginx writes the
  access log (``docker-compose.yml`` sets it); ``make run`` keeps daphne's, to watch requests.

Measured with ``bench/lookup`` (one core, 64 connections): the two lines cost 15 % of the
server's CPU per lookup (465 → 402 µs) and p99 went from 45-48 ms to 34 ms.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server

from backend.core.flags import switched_on


def access_log_enabled() -> bool:
    return switched_on(os.environ.get("LINLI_ACCESS_LOG", "1"))


def _discard(request: Any) -> None:
    """Twisted's per-request log line, at a verbosity where daphne would throw it away."""


class LinliServer(Server):
    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, action_logger=action_logger if access_log_enabled() else None, **kwargs)

    def listen_success(self, port: Any) -> None:
        # The HTTP factory exists once daphne listens, before the reactor serves any request.
        if self.verbosity <= 1:
            self.http_factory.log = _discard
        super().listen_success(port)


class LinliCommandLine(CommandLineInterface):
    server_class = LinliServer


def main(argv: list[str] | None = None) -> None:
    LinliCommandLine().run(sys.argv[1:] if argv is None else argv)
