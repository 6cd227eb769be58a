"""Reads on the event loop: one statement, on a connection of the loop's own, without a thread hop.

A raw ASGI fast path (the credential lookup, the sign-up gate) answers from one indexed SELECT.
Handing that query to a thread and its answer back costs more than the query itself: measured
with ``bench/lookup`` on SQLite, 660 µs of CPU per valid lookup through a thread pool, 510 µs
on the loop. The SQL is Django's, compiled once by the caller; it runs raw here.

* SQLite: a connection of its own, used by the event loop only, read-only (``query_only``). In
  WAL mode a reader does not wait for writers; in the rare case the database is busy (a WAL
  reset) the read raises ``Busy`` after ``busy_timeout`` seconds, and the caller takes another
  way (a thread with Django's connection) instead of blocking the loop.
* PostgreSQL: psycopg's asyncio connections (``connections`` per event loop), autocommit, on
  the loop.

Connections are replaced after ``conn_age`` seconds and reopened once on a connection error (a
restarted database). ``LoopReaders`` keeps one reader per event loop and per database, so an
event loop that ends (a test's) takes its connections with it (``aclose``).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections


@dataclass(frozen=True)
class Limits:
    busy_timeout: float = 0.05  # SQLite: seconds to wait for a busy database before ``Busy``
    conn_age: float = 300.0  # seconds a connection is kept before a new one is opened
    connections: int = 2  # PostgreSQL: connections per event loop


class Busy(Exception):
    """The SQLite database is busy beyond the loop's short wait."""


Row = tuple[list[str], tuple[Any, ...] | None]
"""Column names and the first row (``None`` when there is none)."""
Rows = tuple[list[str], list[tuple[Any, ...]]]
"""Column names and every row."""


def _qmark(sql: str) -> str:
    """Django's SQL with qmark placeholders, as Django's SQLite cursor turns them (once per SQL)."""
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


class SqliteReader:
    """One SQLite connection of the event loop's thread, read-only."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.db: sqlite3.Connection | None = None
        self.opened = 0.0
        self._qmark: dict[str, tuple[str, list[str]]] = {}  # Django's SQL -> (qmark SQL, names)

    def _open(self, limits: Limits) -> sqlite3.Connection:
        name = connections[self.alias].settings_dict["NAME"]
        db = sqlite3.connect(name, timeout=limits.busy_timeout, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA query_only = 1")
        self.db, self.opened = db, time.monotonic()
        return db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def fetch(self, sql: str, params: list[Any], limits: Limits, *, one: bool) -> Row | Rows:
        db = self.db
        if db is None or time.monotonic() - self.opened > limits.conn_age:
            self.close()
            db = self._open(limits)
        known = self._qmark.get(sql)
        qmark = known[0] if known else _qmark(sql)
        try:
            cursor = db.execute(qmark, params)
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                raise Busy from exc
            self.close()  # a closed or replaced connection: one more try on a new one
            cursor = self._open(limits).execute(qmark, params)
        if known is None:
            known = self._qmark[sql] = (qmark, [col[0] for col in cursor.description])
        return known[1], cursor.fetchone() if one else cursor.fetchall()


def _numbered(sql: str) -> str:
    """Django's SQL with PostgreSQL's own ``$1``, ``$2``… placeholders, for psycopg's raw cursor.

    psycopg's usual cursor parses every statement for ``%s`` placeholders, and caches the result
    only for statements of at most 50 parameters and 4 KiB. The sign-up gate's shared read has 65
    (``BATCH`` volunteers and their sessions): parsing it again on every read was 0.44 ms of the
    event loop's CPU per read (cProfile, bench database). Here it is parsed once per SQL."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        count += 1
        return f"${count}"

    return re.sub(r"%s|%%", number, sql)


class PostgresReader:
    """psycopg asyncio connections of one event loop."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.slots: list[Any] = []  # AsyncConnection | None
        self.opened: list[float] = []
        self.locks: list[asyncio.Lock] = []
        self.next = 0
        self._numbered: dict[str, str] = {}  # Django's SQL -> the same with $n placeholders

    def _params(self) -> dict[str, Any]:
        params = connections[self.alias].get_connection_params()
        for name in ("context", "cursor_factory"):  # Django's adapters and cursor classes: sync ones
            params.pop(name, None)
        return params

    async def _connect(self, params: dict[str, Any]) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(autocommit=True, **params)

    async def fetch(self, sql: str, params: list[Any], limits: Limits, *, one: bool) -> Row | Rows:
        if not self.slots:
            count = max(1, limits.connections)
            self.slots, self.opened = [None] * count, [0.0] * count
            self.locks = [asyncio.Lock() for _ in range(count)]
        i = self.next = (self.next + 1) % len(self.slots)
        async with self.locks[i]:
            connection = self.slots[i]
            if connection is not None and time.monotonic() - self.opened[i] > limits.conn_age:
                await connection.close()
                connection = None
            if connection is None or connection.closed:
                connection = await self._open(i)
            numbered = self._numbered.get(sql)
            if numbered is None:
                numbered = self._numbered[sql] = _numbered(sql)
            try:
                return await self._run(connection, numbered, params, one)
            except Exception as exc:
                import psycopg

                if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
                    raise
                await connection.close()  # a restarted database: one more try on a new connection
                return await self._run(await self._open(i), numbered, params, one)

    async def _open(self, i: int) -> Any:
        params = await sync_to_async(self._params, thread_sensitive=True)()
        self.slots[i] = await self._connect(params)
        self.opened[i] = time.monotonic()
        return self.slots[i]

    @staticmethod
    async def _run(connection: Any, sql: str, params: list[Any], one: bool) -> Row | Rows:
        """``sql`` with ``$n`` placeholders (``_numbered``)."""
        from psycopg import AsyncRawCursor

        cursor: Any = AsyncRawCursor(connection)
        async with cursor:
            await cursor.execute(sql, params)
            names = [col.name for col in cursor.description]
            return names, await (cursor.fetchone() if one else cursor.fetchall())

    async def close(self) -> None:
        for connection in self.slots:
            if connection is not None:
                await connection.close()
        self.slots = []


def vendor_of(alias: str) -> str:
    """``sqlite``, ``postgresql``…: from the settings, without opening a connection."""
    engine = settings.DATABASES[alias]["ENGINE"].rsplit(".", 1)[-1]
    return "sqlite" if engine == "sqlite3" else engine


class LoopReaders:
    """The direct readers of one user (the lookup, the sign-up gate), one per event loop.

    ``limits`` is read on every call, so settings changed at run time (tests) apply at once."""

    def __init__(self, limits: Callable[[], Limits], alias: str = "default") -> None:
        self.limits = limits
        self.alias = alias
        self.sqlite: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SqliteReader] = (
            weakref.WeakKeyDictionary()
        )
        self.postgres: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PostgresReader] = (
            weakref.WeakKeyDictionary()
        )

    def supported(self) -> bool:
        return vendor_of(self.alias) in ("sqlite", "postgresql")

    async def fetchone(self, sql: str, params: list[Any]) -> Row:
        """The first row of ``sql`` (Django's, format-style placeholders) with its column names.
        Raises ``Busy`` (SQLite busy), the driver's errors otherwise."""
        return await self._fetch(sql, params, one=True)  # type: ignore[return-value]

    async def fetchall(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Every row of ``sql``, as ``fetchone``."""
        return (await self._fetch(sql, params, one=False))[1]  # type: ignore[return-value]

    async def _fetch(self, sql: str, params: list[Any], *, one: bool) -> Row | Rows:
        loop = asyncio.get_running_loop()
        if vendor_of(self.alias) == "sqlite":
            reader = self.sqlite.get(loop)
            if reader is None:
                reader = self.sqlite[loop] = SqliteReader(self.alias)
            return reader.fetch(sql, params, self.limits(), one=one)
        pg = self.postgres.get(loop)
        if pg is None:
            pg = self.postgres[loop] = PostgresReader(self.alias)
        return await pg.fetch(sql, params, self.limits(), one=one)

    def close_everywhere(self) -> None:
        """Close every loop's connections from outside any loop: for tests that ran the app on
        loops of their own, now gone (psycopg's asyncio connections are closed at the libpq
        level, which needs no loop)."""
        for reader in list(self.sqlite.values()):
            reader.close()
        self.sqlite.clear()
        for pg in list(self.postgres.values()):
            for connection in pg.slots:
                if connection is not None and not connection.closed:
                    connection.pgconn.finish()
            pg.slots = []
        self.postgres.clear()

    async def aclose(self) -> None:
        """Close the running loop's connections (tests whose loop ends; a server's never does)."""
        loop = asyncio.get_running_loop()
        reader = self.sqlite.pop(loop, None)
        if reader is not None:
            reader.close()
        pg = self.postgres.pop(loop, None)
        if pg is not None:
            await pg.close()


async def compiled_in_thread(compile: Callable[[], Any], *, alias: str = "default") -> Any:
    """``compile()`` (Django compiling a queryset once, which may connect to learn the server's
    version) on Django's sync thread; a connection it opened is closed again, not kept."""

    def run() -> Any:
        connection = connections[alias]
        was_open = connection.connection is not None
        try:
            return compile()
        finally:
            if not was_open:
                connection.close()

    return await sync_to_async(run, thread_sensitive=True)()
