"""The live status of a badge at the least cost: one statement, on the event loop.

The status query is one statement (credential ⋈ practitioner ⋈ association, plus an EXISTS for
an open blacklist entry). Django compiles it once per process; after that it runs raw.

Where the status query runs (``LINLI_LOOKUP_DB``)
    ``direct`` (the default): on the event loop, without a thread hop. Handing a query to a thread
    and its answer back costs more than the query itself: measured with ``bench/lookup`` on
    SQLite, 660 µs of CPU per valid lookup through a thread pool, 510 µs direct.

    * SQLite: a connection of its own, used by the event loop only, read-only (``query_only``).
      In WAL mode a reader does not wait for writers; in the rare case the database is busy
      (a WAL reset), the query goes to a thread with Django's connection instead of blocking
      the loop.
    * PostgreSQL: psycopg's asyncio connections (``LINLI_LOOKUP_DB_CONNECTIONS`` per event loop,
      2 by default), autocommit, on the loop.

    These connections are replaced after ``LINLI_LOOKUP_DB_CONN_AGE`` seconds and reopened once
    on a connection error (a restarted database).

    ``django``: in the caller's thread through Django's connection. Tests use it, so the query
    sees the test's transaction.

The lookup log is written elsewhere (``backend.credentials.lookup.log``), by a thread of its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from datetime import date
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet

from backend.credentials import conf
from backend.credentials.models import BlacklistEntry, Credential
from backend.wechat.selectors import media_hidden

FIELDS = (
    "id",
    "association_id",
    "status",
    "valid_from",
    "valid_until",
    "type",
    "qualification",
    "certificate_no",
    "practitioner__name",
    "practitioner__employer",
    "practitioner__status",
    "practitioner__photo_thumb",
    "association__name",
    "blacklisted",
    "photo_hidden",
)

ALIAS = "default"  # the database the lookup reads, and its log is written to


def queryset() -> QuerySet[Credential]:
    """Credentials with ``blacklisted`` (an open blacklist entry exists for their practitioner)
    and ``photo_hidden`` (WeChat's image check found the practitioner's photo risky)."""
    open_entry = BlacklistEntry.objects.filter(
        practitioner_id=OuterRef("practitioner_id"), lifted_at__isnull=True
    )
    return Credential.objects.annotate(
        blacklisted=Exists(open_entry), photo_hidden=media_hidden("practitioner__photo")
    ).order_by()


# --- the status query, compiled once ------------------------------------------------------------

_MARKER = "linli-token-id-marker"


class _Statement:
    """Django's SQL for the status of one token id (format-style placeholders) and its params,
    the token id's place marked."""

    def __init__(self, sql: str, params: tuple[Any, ...]) -> None:
        if list(params).count(_MARKER) != 1:  # pragma: no cover - guards a change of the query
            raise RuntimeError("the token lookup must take the token id exactly once")
        self.sql = sql
        self.params = params

    def bind(self, token_id_hex: str) -> list[Any]:
        return [token_id_hex if p == _MARKER else p for p in self.params]


_statements: dict[str, _Statement] = {}


def statement() -> _Statement:
    compiled = _statements.get(ALIAS)
    if compiled is None:
        qs = queryset().filter(token_id=_MARKER).values(*FIELDS)[:1]
        sql, params = qs.query.get_compiler(using=ALIAS).as_sql()
        compiled = _statements[ALIAS] = _Statement(sql, tuple(params))
    return compiled


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _row(names: list[str], raw: tuple | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    row = dict(zip(names, raw, strict=True))
    row["valid_from"] = _as_date(row["valid_from"])
    row["valid_until"] = _as_date(row["valid_until"])
    row["blacklisted"] = bool(row["blacklisted"])
    row["photo_hidden"] = bool(row["photo_hidden"])
    return row


def query_token_row(token_id_hex: str) -> dict[str, Any] | None:
    """The status row of a token id through Django's connection (sync callers; tests)."""
    compiled = statement()
    with connections[ALIAS].cursor() as cursor:
        cursor.execute(compiled.sql, compiled.bind(token_id_hex))
        names = [col[0] for col in cursor.description]
        return _row(names, cursor.fetchone())


# --- direct readers ------------------------------------------------------------------------------


class SqliteReader:
    """One SQLite connection of the event loop's thread, for the status query only."""

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None
        self.opened = 0.0
        self.sql = ""
        self.names: list[str] = []

    def _open(self, compiled: _Statement) -> sqlite3.Connection:
        from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

        name = connections[ALIAS].settings_dict["NAME"]
        db = sqlite3.connect(
            name, timeout=conf.lookup_db_busy_timeout(), isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA query_only = 1")
        # Django's SQLite cursor turns format-style placeholders into qmarks the same way.
        self.sql = FORMAT_QMARK_REGEX.sub("?", compiled.sql).replace("%%", "%")
        self.db, self.opened = db, time.monotonic()
        return db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def query(self, compiled: _Statement, token_id_hex: str) -> dict[str, Any] | None:
        db = self.db
        if db is None or time.monotonic() - self.opened > conf.lookup_db_conn_age():
            self.close()
            db = self._open(compiled)
        params = compiled.bind(token_id_hex)
        try:
            cursor = db.execute(self.sql, params)
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                raise _Busy from exc
            self.close()  # a closed or replaced connection: one more try on a new one
            cursor = self._open(compiled).execute(self.sql, params)
        if not self.names:
            self.names = [col[0] for col in cursor.description]
        return _row(self.names, cursor.fetchone())


class _Busy(Exception):
    """The SQLite database is busy beyond the loop's short wait."""


class PostgresReader:
    """psycopg asyncio connections of one event loop, for the status query only."""

    def __init__(self) -> None:
        self.slots: list[Any] = []  # AsyncConnection | None
        self.opened: list[float] = []
        self.locks: list[asyncio.Lock] = []
        self.next = 0

    def _params(self) -> dict[str, Any]:
        params = connections[ALIAS].get_connection_params()
        for name in ("context", "cursor_factory"):  # Django's adapters and cursor classes: sync ones
            params.pop(name, None)
        return params

    async def _connect(self, params: dict[str, Any]) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(autocommit=True, **params)

    async def query(self, compiled: _Statement, token_id_hex: str) -> dict[str, Any] | None:
        if not self.slots:
            count = max(1, conf.lookup_db_connections())
            self.slots, self.opened = [None] * count, [0.0] * count
            self.locks = [asyncio.Lock() for _ in range(count)]
        i = self.next = (self.next + 1) % len(self.slots)
        async with self.locks[i]:
            connection = self.slots[i]
            if connection is not None and time.monotonic() - self.opened[i] > conf.lookup_db_conn_age():
                await connection.close()
                connection = None
            if connection is None or connection.closed:
                connection = await self._open(i)
            params = compiled.bind(token_id_hex)
            try:
                return await self._run(connection, compiled.sql, params)
            except Exception as exc:
                import psycopg

                if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
                    raise
                await connection.close()  # a restarted database: one more try on a new connection
                return await self._run(await self._open(i), compiled.sql, params)

    async def _open(self, i: int) -> Any:
        params = await sync_to_async(self._params, thread_sensitive=True)()
        self.slots[i] = await self._connect(params)
        self.opened[i] = time.monotonic()
        return self.slots[i]

    @staticmethod
    async def _run(connection: Any, sql: str, params: list[Any]) -> dict[str, Any] | None:
        async with connection.cursor() as cursor:
            await cursor.execute(sql, params)
            names = [col.name for col in cursor.description]
            return _row(names, await cursor.fetchone())

    async def close(self) -> None:
        for connection in self.slots:
            if connection is not None:
                await connection.close()
        self.slots = []


_sqlite_readers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SqliteReader] = (
    weakref.WeakKeyDictionary()
)
_pg_readers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PostgresReader] = (
    weakref.WeakKeyDictionary()
)
_vendor: list[str] = []


async def _statement_and_vendor() -> tuple[_Statement, str]:
    compiled = _statements.get(ALIAS)
    if compiled is None or not _vendor:

        def prepare() -> tuple[_Statement, str]:
            connection = connections[ALIAS]
            was_open = connection.connection is not None
            try:
                return statement(), connection.vendor
            finally:
                if not was_open:  # compiling may connect (server version): not a lasting one
                    connection.close()

        compiled, vendor = await sync_to_async(prepare, thread_sensitive=True)()
        _vendor[:] = [vendor]
    return compiled, _vendor[0]


async def aquery_token_row(token_id_hex: str) -> dict[str, Any] | None:
    """The status row of a token id, for code on an event loop (see the module's docstring)."""
    if conf.lookup_db() != "direct":
        return await sync_to_async(query_token_row, thread_sensitive=True)(token_id_hex)
    compiled, vendor = await _statement_and_vendor()
    loop = asyncio.get_running_loop()
    if vendor == "sqlite":
        reader = _sqlite_readers.get(loop)
        if reader is None:
            reader = _sqlite_readers[loop] = SqliteReader()
        try:
            return reader.query(compiled, token_id_hex)
        except _Busy:
            return await sync_to_async(query_token_row, thread_sensitive=True)(token_id_hex)
    if vendor == "postgresql":
        pg = _pg_readers.get(loop)
        if pg is None:
            pg = _pg_readers[loop] = PostgresReader()
        return await pg.query(compiled, token_id_hex)
    return await sync_to_async(query_token_row, thread_sensitive=True)(token_id_hex)  # pragma: no cover


async def aclose() -> None:
    """Close the running loop's direct connections (tests whose loop ends; a server's never does)."""
    loop = asyncio.get_running_loop()
    reader = _sqlite_readers.pop(loop, None)
    if reader is not None:
        reader.close()
    pg = _pg_readers.pop(loop, None)
    if pg is not None:
        await pg.close()
