"""The public lookup: a scanned token (or certificate number + name) → what the resident sees.

Order of work for a scanned token, cheapest first:
1. parse and verify the Ed25519 signature with keys cached in the process (``backend.core.keys``):
   a malformed, altered or forged token ends here, without a database query;
2. one SELECT (credential ⋈ practitioner ⋈ association, plus an EXISTS for an open blacklist
   entry) for the live status, so revocation, suspension and blacklisting show at once;
3. the lookup is queued for the log (``LookupLogBuffer``), written in batches off the request.

Statuses, most serious first: ``not_genuine``, ``revoked``, ``blacklisted``, ``suspended``,
``expired``, ``not_yet_valid``, ``valid``. A genuine token whose id no credential carries any
more (the badge was re-issued) reads ``revoked``.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import functools
import ipaddress
import logging
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.db.models import Exists, OuterRef
from django.utils import timezone

from backend.core.context import client_ip
from backend.core.keys import atoken_verify, token_verify
from backend.core.masking import mask_name
from backend.core.signed_tokens import TokenError
from backend.credentials import conf
from backend.credentials.models import BlacklistEntry, Credential, LookupLog, Practitioner

log = logging.getLogger("linli.credentials.lookup")

STATUS_TEXT = {
    "valid": ("有效", "Valid"),
    "expired": ("已过期", "Expired"),
    "not_yet_valid": ("尚未生效", "Not yet valid"),
    "suspended": ("已暂停", "Suspended"),
    "revoked": ("已吊销", "Revoked"),
    "blacklisted": ("已列入黑名单", "Blacklisted"),
    "not_genuine": ("非本平台签发", "Not genuine"),
}

_FIELDS = (
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
)


@dataclass
class LookupResult:
    status: str
    checked_at: datetime
    token_id: str = ""
    detail: str = ""  # why not genuine: malformed / bad_signature / unknown_key / revoked_key
    credential: dict[str, Any] | None = None
    credential_id: int | None = None
    association_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def genuine(self) -> bool:
        return self.status != "not_genuine"

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        zh, en = STATUS_TEXT[self.status]
        return {
            "status": self.status,
            "status_text": en if lang == "en" else zh,
            "genuine": self.genuine,
            "checked_at": self.checked_at.isoformat(),
            "credential": self.credential,
        }


def _queryset():
    open_entry = BlacklistEntry.objects.filter(
        practitioner_id=OuterRef("practitioner_id"), lifted_at__isnull=True
    )
    return Credential.objects.annotate(blacklisted=Exists(open_entry)).order_by()


def _query(token_id_hex: str | None = None, certificate_no: str | None = None) -> list[dict[str, Any]]:
    """The credential rows for a token id or a certificate number (ORM; one query)."""
    qs = _queryset()
    qs = (
        qs.filter(token_id=token_id_hex)
        if token_id_hex is not None
        else qs.filter(certificate_no=certificate_no)
    )
    return list(qs.values(*_FIELDS)[:5])


# The hot path runs the same statement every time: compile it once per database (the ORM spends
# far longer compiling this join than the database spends answering it) and execute it raw.
_MARKER = "linli-token-id-marker"
_compiled: dict[str, tuple[str, tuple[Any, ...]]] = {}


def _token_sql(connection, token_id_hex: str) -> tuple[str, list[Any]]:
    compiled = _compiled.get(connection.alias)
    if compiled is None:
        qs = _queryset().filter(token_id=_MARKER).values(*_FIELDS)[:1]
        sql, params = qs.query.get_compiler(using=connection.alias).as_sql()
        if list(params).count(_MARKER) != 1:  # pragma: no cover - guards a change of the query
            raise RuntimeError("the token lookup must take the token id exactly once")
        compiled = _compiled[connection.alias] = (sql, tuple(params))
    sql, params = compiled
    return sql, [token_id_hex if p == _MARKER else p for p in params]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def query_token_row(token_id_hex: str) -> dict[str, Any] | None:
    """``_query`` for one token id through the precompiled statement; same row shape."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute(*_token_sql(connection, token_id_hex))
        names = [col[0] for col in cursor.description]
        raw = cursor.fetchone()
    if raw is None:
        return None
    row = dict(zip(names, raw, strict=True))
    row["valid_from"] = _as_date(row["valid_from"])
    row["valid_until"] = _as_date(row["valid_until"])
    row["blacklisted"] = bool(row["blacklisted"])
    return row


class _LookupExecutor:
    """Threads that keep their database connection between lookups, fed in batches.

    Django closes a request thread's connection when the request ends (``CONN_MAX_AGE=0``), and
    opening one (SQLite registers its functions, PostgreSQL authenticates) costs more than the
    lookup itself. These threads are not request threads: their connections stay open, are
    replaced after ``LINLI_LOOKUP_DB_CONN_AGE`` seconds, and are reopened once on a connection
    error (a restarted database).

    Handing one query to a thread and its answer back (two thread switches, a wake-up of the
    event loop) costs more than the query. So lookups wait in one queue: a thread takes every
    lookup waiting when it gets to run, answers them all, and wakes the event loop once for the
    lot; at most ``LINLI_LOOKUP_DB_THREADS`` threads drain the queue at a time. Tests run the
    query in the test's own thread instead (``LINLI_LOOKUP_DB_THREADS=0``), so it sees the test
    transaction."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()
        self.local = threading.local()
        self.waiting: list[tuple[str, asyncio.Future, asyncio.AbstractEventLoop]] = []
        self.draining = 0

    def get(self) -> ThreadPoolExecutor | None:
        threads = conf.lookup_db_threads()
        if threads <= 0:
            return None
        if self.pool is None:
            with self.lock:
                if self.pool is None:
                    self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="linli-lookup-db")
        return self.pool

    def run(self, token_id_hex: str) -> dict[str, Any] | None:
        opened = getattr(self.local, "opened", None)
        now = time.monotonic()
        if opened is not None and now - opened > conf.lookup_db_conn_age():
            connections["default"].close()
            opened = None
        if opened is None:
            self.local.opened = now
        try:
            return query_token_row(token_id_hex)
        except (InterfaceError, OperationalError):
            connections["default"].close()
            self.local.opened = time.monotonic()
            return query_token_row(token_id_hex)

    async def aquery(self, pool: ThreadPoolExecutor, token_id_hex: str) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self.lock:
            self.waiting.append((token_id_hex, future, loop))
            start = self.draining < pool._max_workers
            if start:
                self.draining += 1
        if start:
            pool.submit(self._drain)
        return await future

    def _drain(self) -> None:
        while True:
            with self.lock:
                batch, self.waiting = self.waiting, []
                if not batch:
                    self.draining -= 1
                    return
            answers: dict[
                asyncio.AbstractEventLoop, list[tuple[asyncio.Future, Any, BaseException | None]]
            ] = {}
            for token_id_hex, future, loop in batch:
                answer: tuple[Any, Any, BaseException | None]
                try:
                    answer = (future, self.run(token_id_hex), None)
                except BaseException as exc:  # handed to the waiting request, which raises it
                    answer = (future, None, exc)
                answers.setdefault(loop, []).append(answer)
            for loop, settled in answers.items():
                with contextlib.suppress(RuntimeError):  # a closed event loop: nobody waits any more
                    loop.call_soon_threadsafe(_settle, settled)


def _settle(answers: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, row, error in answers:
        if future.done():  # the request was cancelled (client gone)
            continue
        if error is None:
            future.set_result(row)
        else:
            future.set_exception(error)


_executor = _LookupExecutor()


async def aquery_token_row(token_id_hex: str) -> dict[str, Any] | None:
    pool = _executor.get()
    if pool is None:
        return await sync_to_async(query_token_row, thread_sensitive=True)(token_id_hex)
    return await _executor.aquery(pool, token_id_hex)


def _photo_url(name: str) -> str | None:
    return default_storage.url(name) if name else None


def _status_of(row: dict[str, Any], today: date, token_expired: bool) -> str:
    if (
        row["status"] == Credential.Status.REVOKED
        or row["practitioner__status"] != Practitioner.Status.ACTIVE
    ):
        return "revoked"
    if row["blacklisted"]:
        return "blacklisted"
    if row["status"] == Credential.Status.SUSPENDED:
        return "suspended"
    if token_expired or row["valid_until"] < today:
        return "expired"
    if row["valid_from"] > today:
        return "not_yet_valid"
    return "valid"


def _result(row: dict[str, Any] | None, *, now: datetime, token_id: str, token_expired: bool) -> LookupResult:
    if row is None:  # genuine, but the badge was re-issued: this QR no longer counts
        return LookupResult(status="revoked", checked_at=now, token_id=token_id, detail="superseded")
    return LookupResult(
        status=_status_of(row, timezone.localdate(now), token_expired),
        checked_at=now,
        token_id=token_id,
        credential_id=row["id"],
        association_id=row["association_id"],
        credential={
            "masked_name": mask_name(row["practitioner__name"]),
            "employer": row["practitioner__employer"],
            "association": row["association__name"],
            "type": row["type"],
            "qualification": row["qualification"],
            "certificate_no": row["certificate_no"],
            "valid_from": row["valid_from"].isoformat(),
            "valid_until": row["valid_until"].isoformat(),
            "photo_url": _photo_url(row["practitioner__photo_thumb"]),
        },
    )


def _not_genuine(error: TokenError, now: datetime) -> LookupResult:
    return LookupResult(status="not_genuine", checked_at=now, detail=error.code)


def lookup_token(token: str) -> LookupResult:
    """The live status behind a scanned token (sync callers)."""
    now = timezone.now()
    try:
        payload = token_verify(purpose="credential", token=token, check_expiry=False)
    except TokenError as exc:
        return _not_genuine(exc, now)
    expired = payload.is_expired(on=timezone.localdate(now))
    row = query_token_row(payload.token_id.hex())
    return _result(row, now=now, token_id=payload.token_id.hex(), token_expired=expired)


async def alookup_token(token: str) -> LookupResult:
    """``lookup_token`` for async views: a forged token never leaves the event loop."""
    now = timezone.now()
    try:
        payload = await atoken_verify(purpose="credential", token=token, check_expiry=False)
    except TokenError as exc:
        return _not_genuine(exc, now)
    expired = payload.is_expired(on=timezone.localdate(now))
    row = await aquery_token_row(payload.token_id.hex())
    return _result(row, now=now, token_id=payload.token_id.hex(), token_expired=expired)


def _same_name(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split()).casefold()

    return bool(a) and norm(a) == norm(b)


def lookup_manual(*, certificate_no: str, name: str) -> LookupResult | None:
    """Certificate number **and** name; ``None`` both when nothing has the number and when the
    name does not match, so the answer cannot be used to learn which numbers exist."""
    now = timezone.now()
    number = unicodedata.normalize("NFKC", certificate_no or "").strip().upper()
    if not number or not (name or "").strip():
        return None
    for row in _query(certificate_no=number):
        if _same_name(row["practitioner__name"], name):
            return _result(row, now=now, token_id="", token_expired=False)
    return None


# --- the lookup log ----------------------------------------------------------------------------


def coarse_client(meta: dict[str, Any]) -> tuple[str, str]:
    """(network, kind): the client address cut to /24 (IPv4) or /48 (IPv6), and a client family."""
    net = _coarse_net(client_ip(meta, settings.NINJA_NUM_PROXIES) or "")
    agent = meta.get("HTTP_USER_AGENT", "")
    if "MicroMessenger" in agent or "miniProgram" in agent:
        kind = "wechat"
    elif "AlipayClient" in agent:
        kind = "alipay"
    elif "iPhone" in agent or "iPad" in agent:
        kind = "ios"
    elif "Android" in agent:
        kind = "android"
    elif "Mozilla" in agent:
        kind = "desktop"
    elif agent:
        kind = "other"
    else:
        kind = ""
    return net, kind


class LookupLogBuffer:
    """Lookup log rows wait in memory and are written in batches (one INSERT per batch).

    A daemon thread writes every ``LINLI_LOOKUP_LOG_INTERVAL`` seconds (default 1) or as soon as
    ``LINLI_LOOKUP_LOG_BATCH`` rows wait; the rest is written at process exit. A crash loses at
    most one interval of rows. Tests turn the thread off (``LINLI_LOOKUP_LOG_BACKGROUND=False``)
    and call ``flush()``."""

    def __init__(self) -> None:
        self.rows: collections.deque[tuple] = collections.deque()  # LookupLog field values
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if not conf.lookup_log_background():
            return
        if self.thread is None or not self.thread.is_alive():
            self._start()
        if len(self.rows) >= conf.lookup_log_batch():
            self.wake.set()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._run, name="linli-lookup-log", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait(conf.lookup_log_interval())
            self.wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("Writing the lookup log failed; will retry")
            finally:
                connections.close_all()  # this thread's connections only

    def flush(self) -> int:
        """Write every waiting row; returns how many were written."""
        written = 0
        with self.lock:
            while self.rows:
                batch: list[tuple] = []
                while self.rows and len(batch) < conf.lookup_log_batch():
                    batch.append(self.rows.popleft())
                try:
                    _log_insert(batch)
                except Exception:
                    self.rows.extendleft(reversed(batch))  # keep them for the next attempt
                    raise
                written += len(batch)
        return written

    def pending(self) -> int:
        return len(self.rows)


lookup_log = LookupLogBuffer()


def _flush_at_exit() -> None:
    if lookup_log.pending():
        try:
            close_old_connections()
            lookup_log.flush()
        except Exception:  # pragma: no cover - best effort at shutdown
            log.exception("Could not write %d lookup log rows at exit", lookup_log.pending())


atexit.register(_flush_at_exit)


_LOG_FIELDS = (
    "at",
    "result",
    "channel",
    "token_id",
    "detail",
    "credential_id",
    "association_id",
    "client_net",
    "client_kind",
)


def _log_insert(rows: list[tuple]) -> None:
    """One multi-row INSERT of log rows (``_LOG_FIELDS`` order) through a statement built once per
    database: model instances cost more than the database spends writing them."""
    connection = connections["default"]
    compiled = _log_sql.get(connection.alias)
    if compiled is None:
        meta = LookupLog._meta
        columns = ", ".join(
            connection.ops.quote_name(meta.get_field(name).column)  # type: ignore[union-attr,arg-type]
            for name in _LOG_FIELDS
        )
        sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES "
        compiled = _log_sql[connection.alias] = (sql, meta.get_field("at"))
    sql, at_field = compiled
    group = "(" + ", ".join(["%s"] * len(_LOG_FIELDS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _LOG_ROWS_PER_INSERT):  # SQLite: ≤ 32766 parameters
            chunk = rows[start : start + _LOG_ROWS_PER_INSERT]
            params: list[Any] = []
            for row in chunk:
                params.append(at_field.get_db_prep_save(row[0], connection))
                params.extend(row[1:])
            cursor.execute(sql + ", ".join([group] * len(chunk)), params)


_LOG_ROWS_PER_INSERT = 1000


_log_sql: dict[str, tuple[str, Any]] = {}


@functools.lru_cache(maxsize=4096)
def _coarse_net(ip: str) -> str:
    """The client address cut to /24 (IPv4) or /48 (IPv6); cached, the parsing is the dear part."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def lookup_record(
    *, result: LookupResult | None, channel: str, meta: dict[str, Any], status: str = ""
) -> None:
    """Queue one log row for a lookup (a tuple in memory: no database or model work here)."""
    net, kind = coarse_client(meta)
    row: tuple[Any, ...]
    if result is None:
        row = (timezone.now(), status or LookupLog.Result.NOT_FOUND, channel, "", "", None, None, net, kind)
    else:
        row = (
            result.checked_at,
            status or result.status,
            channel,
            result.token_id,
            result.detail[:20],
            result.credential_id,
            result.association_id,
            net,
            kind,
        )
    lookup_log.add(row)
