"""Django's PostgreSQL backend, checking a pooled connection only after it has sat idle.

psycopg's pool (settings: ``OPTIONS["pool"]``) can check each connection it hands out with an
empty statement, and Django turns that on with ``CONN_HEALTH_CHECKS``: one round trip more for
every request, before its first query. In ``bench/signup_burst`` on PostgreSQL that was one of a
sign-up's eleven round trips, and it cost 2-5 % of the server's CPU per sign-up (two servers on
one core fed alternately, with the check and without). A connection given back to the pool a
moment ago by a request that ended well is as sound as the check could show.

Here the check (the pool's own, ``ConnectionPool.check_connection``) is made only for a
connection idle for more than ``CHECK_AFTER`` seconds, or never seen given back. One that fails
it goes back to the pool, which drops it, and the next is taken. If the database goes away in
the moment after a connection was given back, the request that takes it meets the error at its
first query and answers ``503 service_unavailable`` (``backend.core.faults``), and the pool drops
that connection too: a request the check would have spared, at most one per pooled connection.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

CHECK_AFTER = 1.0
"""Seconds a pooled connection may sit idle and still be handed out without a check."""

_given_back: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


class DatabaseWrapper(base.DatabaseWrapper):  # type: ignore[misc]
    pool: Any  # Django's property: psycopg's pool, or None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool = self.pool
        if pool is None:
            return super().get_new_connection(conn_params)
        for _ in range(pool.max_size + 1):
            connection = super().get_new_connection(conn_params)
            given_back = _given_back.pop(connection, None)
            if given_back is not None and time.monotonic() - given_back <= CHECK_AFTER:
                return connection
            try:
                ConnectionPool.check_connection(connection)
            except psycopg.Error:
                pool.putconn(connection)  # broken: the pool closes it and forgets it
                continue
            return connection
        raise psycopg.OperationalError("no pooled connection passed its check")

    def _close(self) -> None:
        if self.pool is not None and self.connection is not None and not self.connection.closed:
            _given_back[self.connection] = time.monotonic()
        super()._close()  # type: ignore[misc]
