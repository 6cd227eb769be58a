"""The live status of a badge at the least cost: one statement, on the event loop.

The status query is one statement (credential ⋈ practitioner ⋈ association, plus an EXISTS for
an open blacklist entry). Django compiles it once per process; after that it runs raw.

Where the status query runs (``LINLI_LOOKUP_DB``)
    ``direct`` (the default): on the event loop, without a thread hop, by the readers of
    ``backend.runtime.loopdb`` (a read-only SQLite connection of the loop's own; psycopg's asyncio
    connections, ``LINLI_LOOKUP_DB_CONNECTIONS`` per event loop, 2 by default). They are replaced
    after ``LINLI_LOOKUP_DB_CONN_AGE`` seconds. When SQLite is busy beyond
    ``LINLI_LOOKUP_DB_BUSY_TIMEOUT`` (a WAL reset), the query goes to a thread with Django's
    connection instead of blocking the loop.

    ``django``: in the caller's thread through Django's connection. Tests use it, so the query
    sees the test's transaction.

The lookup log is written elsewhere (``backend.credentials.lookup.log``), by a thread of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet

from backend.credentials import conf
from backend.credentials.models import BlacklistEntry, Credential
from backend.runtime.loopdb import Busy, Limits, LoopReaders, compiled_in_thread
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


# --- on the event loop (backend.runtime.loopdb) ----------------------------------------------------


def _limits() -> Limits:
    return Limits(
        busy_timeout=conf.lookup_db_busy_timeout(),
        conn_age=conf.lookup_db_conn_age(),
        connections=conf.lookup_db_connections(),
    )


readers = LoopReaders(_limits, alias=ALIAS)


async def _compiled() -> _Statement:
    return _statements.get(ALIAS) or await compiled_in_thread(statement, alias=ALIAS)


async def aquery_token_row(token_id_hex: str) -> dict[str, Any] | None:
    """The status row of a token id, for code on an event loop (see the module's docstring)."""
    if conf.lookup_db() != "direct" or not readers.supported():
        return await sync_to_async(query_token_row, thread_sensitive=True)(token_id_hex)
    compiled = await _compiled()
    try:
        names, raw = await readers.fetchone(compiled.sql, compiled.bind(token_id_hex))
    except Busy:
        return await sync_to_async(query_token_row, thread_sensitive=True)(token_id_hex)
    return _row(names, raw)


async def aclose() -> None:
    """Close the running loop's direct connections (tests whose loop ends; a server's never does)."""
    await readers.aclose()
