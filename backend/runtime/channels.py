"""Channel-layer tuning, applied once when the ASGI application starts (``backend.asgi``).

channels-redis waits ``brpop_timeout`` (5 s) in ``BZPOPMIN`` for a process's channels, and
redis-py ≥ 6 stops reading after its default ``socket_timeout`` of 5 s as well: on an idle
channel the two race, and when the client loses, ``redis.exceptions.TimeoutError`` escapes
``layer.receive`` in whichever consumer was reading, which daphne closes with 1011 (seen under
``bench/checkin`` before this setting).
"""

from __future__ import annotations

import inspect
import logging

from channels.layers import get_channel_layer


def tune_channel_layer() -> None:
    """Keep channels-redis's blocking pop shorter than redis-py's read timeout.

    channels-redis waits ``brpop_timeout`` (5 s) in ``BZPOPMIN`` for a process's channels, and
    redis-py ≥ 6 stops reading after its default ``socket_timeout`` of 5 s as well: on an idle
    channel the two race, and when the client loses, ``redis.exceptions.TimeoutError`` escapes
    ``layer.receive`` in whichever consumer was reading, which daphne closes with 1011. The
    pop is cut to half the socket timeout (an idle process then polls Redis every 2 s).
    Settings that give the hosts a longer ``socket_timeout`` (or none) are left alone."""
    layer = get_channel_layer()
    brpop = getattr(layer, "brpop_timeout", None)
    hosts = getattr(layer, "hosts", None)
    if brpop is None or not hosts:
        return
    try:
        from redis.asyncio.connection import AbstractConnection

        default = inspect.signature(AbstractConnection.__init__).parameters["socket_timeout"].default
    except (ImportError, KeyError, ValueError):  # pragma: no cover - another redis-py
        default = 5
    timeouts = [host.get("socket_timeout", default) for host in hosts if isinstance(host, dict)]
    limits = [t for t in timeouts if isinstance(t, int | float) and t > 0]
    if limits and brpop >= min(limits):
        layer.brpop_timeout = max(1, int(min(limits) / 2))
        logging.getLogger("linli.realtime").debug(
            "channels-redis brpop_timeout %s -> %s", brpop, layer.brpop_timeout
        )
