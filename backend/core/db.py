"""Database helpers every domain shares: retrying a write transaction that met a transient lock.

SQLite queues writers (``BEGIN IMMEDIATE`` plus a busy timeout, see settings) but can still
answer "database is locked" when the timeout runs out under a long burst; PostgreSQL may report
a deadlock or a serialization failure. Each leaves nothing written, so the whole transaction is
run again. Only an outermost transaction can be retried: inside another ``atomic`` block the
error goes up to whoever owns the outer one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, transaction

R = TypeVar("R")
log = logging.getLogger("linli.db")

_TRANSIENT = ("locked", "busy", "deadlock", "serializ")


def is_transient(exc: OperationalError) -> bool:
    """A lock or serialization failure that a fresh attempt may not meet again."""
    text = str(exc).lower()
    return any(word in text for word in _TRANSIENT)


def lock_retries() -> int:
    return max(int(getattr(settings, "LINLI_DB_LOCK_RETRIES", 5)), 1)


def run_retrying(func: Callable[[], R], *, attempts: int | None = None, pause: float = 0.05) -> R:
    """Run ``func`` (which opens its own transaction) again after a transient lock error.

    Waits ``pause × attempt`` between attempts; the last error goes up unchanged."""
    attempts = attempts or lock_retries()
    for attempt in range(attempts):
        try:
            return func()
        except OperationalError as exc:
            if (
                not is_transient(exc)
                or attempt == attempts - 1
                or transaction.get_connection().in_atomic_block
            ):
                raise
            log.warning("retrying after transient database error: %s", exc)
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover
