"""The lookup log: every scan is a row (time, result, channel, coarse client), written off the request.

A lookup only queues a tuple in memory (``lookup_record``: no database or model work on the
request's path), and appends it to the write-ahead spool (``spool``: one ``write``, so a killed
process loses no answered lookup). ``LookupLogBuffer`` writes the waiting rows in batches from a background thread
of low priority (``log_insert``: one multi-row INSERT per 1,000 rows on the driver's connection),
and what still waits at process exit. Association admins read the log as scan statistics
(``backend.credentials.selectors.scan_stats``).
"""

from __future__ import annotations

import atexit
import collections
import functools
import ipaddress
import itertools
import logging
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from backend.core.context import client_ip
from backend.credentials import conf
from backend.credentials.lookup.answer import LookupResult
from backend.credentials.lookup.db import ALIAS
from backend.credentials.lookup.spool import Spool, encode, replay
from backend.credentials.models import LookupLog

log = logging.getLogger("linli.credentials.lookup")

LOG_FIELDS = (
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

_ROWS_PER_INSERT = 1000  # SQLite takes at most 32766 parameters in a statement


def lookup_record(
    *, result: LookupResult | None, channel: str, meta: dict[str, Any], status: str = ""
) -> None:
    """Queue one log row for a lookup (a tuple in memory: no database or model work here)."""
    net, kind = coarse_client(meta)
    row: tuple[Any, ...]
    if result is None:
        row = (
            db_datetime(timezone.now()),
            status or LookupLog.Result.NOT_FOUND,
            channel,
            "",
            "",
            None,
            None,
            net,
            kind,
        )
    else:
        row = (
            db_datetime(result.checked_at),
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


@functools.lru_cache(maxsize=4096)
def _coarse_net(ip: str) -> str:
    """The client address cut to /24 (IPv4) or /48 (IPv6); cached, the parsing is the dear part."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@functools.cache
def _on_sqlite() -> bool:
    return settings.DATABASES[ALIAS]["ENGINE"] == "django.db.backends.sqlite3"


def db_datetime(value: datetime) -> datetime | str:
    """An aware datetime as the log's INSERT takes it: on SQLite what Django stores (naive UTC in
    ``str()`` form), else the datetime itself. Done as a row is queued, so the writer thread has
    next to no Python work left (see ``log_insert``)."""
    return str(value.astimezone(UTC).replace(tzinfo=None)) if _on_sqlite() else value


class LookupLogBuffer:
    """Lookup log rows wait in memory and are written in batches.

    A daemon thread writes every ``LINLI_LOOKUP_LOG_INTERVAL`` seconds (default 1) or as soon as
    ``LINLI_LOOKUP_LOG_BATCH`` rows wait; the rest is written at process exit. A crash loses at
    most one interval of rows. Tests turn the thread off (``LINLI_LOOKUP_LOG_BACKGROUND=False``)
    and call ``flush()``.

    The writer yields the CPU to requests. Writing a log row costs the database about as much as
    answering the lookup did, and on a busy core the kernel would share the core fairly between
    the event loop and the writer, so every request in flight waited while a batch was written
    (``bench/lookup``, one core: p99 41-47 ms, with the writer at nice 19: 35 ms). On Linux the
    writer thread therefore lowers its own priority (``LINLI_LOOKUP_LOG_NICE``, default 19): it
    runs whenever the loop waits for the network, which even a saturated server does. Should
    rows still pile up past ``LINLI_LOOKUP_LOG_MAX_PENDING``, a catch-up thread at the normal
    priority writes them: memory stays bounded and no row is dropped."""

    def __init__(self) -> None:
        self.rows: collections.deque[tuple] = collections.deque()  # LookupLog field values
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.catch_up: threading.Thread | None = None
        self.spool: Spool | None = None
        self.spool_lock = threading.Lock()  # a row enters the spool and the queue together
        self.spool_opened = False

    def add(self, row: tuple) -> None:
        if not conf.lookup_log_background():
            self.rows.append(row)
            return
        spool = self.spool if self.spool_opened else self._open_spool()
        if spool is None:
            self.rows.append(row)
        else:
            line = encode(row)
            with self.spool_lock:
                spool.current.append(line)
                self.rows.append(row)
        if self.thread is None or not self.thread.is_alive():
            self._start()
        pending = len(self.rows)
        if pending >= conf.lookup_log_batch():
            self.wake.set()
            if pending >= conf.lookup_log_max_pending() and not (self.catch_up and self.catch_up.is_alive()):
                self.catch_up = threading.Thread(
                    target=self._catch_up, name="linli-lookup-log-catch-up", daemon=True
                )
                self.catch_up.start()

    def _open_spool(self) -> Spool | None:
        with self.spool_lock:
            if not self.spool_opened:
                directory = conf.lookup_log_spool()
                try:
                    self.spool = Spool(Path(directory)) if directory else None
                except OSError:
                    log.error("lookup log: no spool in %s; a killed process loses its queued rows", directory)
                self.spool_opened = True
        return self.spool

    def replay_orphans(self) -> int:
        """Write what dead processes spooled but did not log (once per process, by its writer)."""
        directory = conf.lookup_log_spool()
        if not directory or not Path(directory).is_dir():
            return 0
        return replay(Path(directory), existing=_logged_keys, insert=_insert_parsed)

    def start(self) -> None:
        """Start the writer now (at server start: it first replays what dead processes spooled)."""
        if conf.lookup_log_background():
            self._open_spool()
            self._start()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._run, name="linli-lookup-log", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        _lower_priority(conf.lookup_log_nice())
        try:
            self.replay_orphans()
        except Exception:
            log.exception("lookup log: replaying the spool failed; the next start tries again")
        while True:
            self.wake.wait(conf.lookup_log_interval())
            self.wake.clear()
            self._write()

    def _catch_up(self) -> None:
        try:
            self._write()
        finally:
            connections.close_all()  # a one-off thread: its connection goes with it

    def _write(self) -> None:
        # The thread keeps its database connection between batches: opening one (SQLite registers
        # Django's functions, PostgreSQL authenticates) costs more than writing a batch.
        try:
            self.flush()
        except Exception:
            log.exception("Writing the lookup log failed; will retry")
            connections.close_all()  # this thread's connections only: a fresh one next time

    def flush(self) -> int:
        """Write every waiting row; returns how many were written."""
        written = 0
        with self.lock:
            spool = self.spool
            remaining = -1  # without a spool: until the queue is empty
            if spool is not None:
                with self.spool_lock:
                    if self.rows:
                        spool.rotate()  # the rows waiting now are all in closed segments
                    remaining = len(self.rows)
            while self.rows and remaining != 0:
                batch: list[tuple] = []
                while self.rows and len(batch) < conf.lookup_log_batch() and remaining != 0:
                    batch.append(self.rows.popleft())
                    remaining -= 1
                try:
                    log_insert(batch)
                except Exception:
                    self.rows.extendleft(reversed(batch))  # keep them (and their segments)
                    raise
                written += len(batch)
            if spool is not None:
                spool.written()
        return written

    def pending(self) -> int:
        return len(self.rows)


def _lower_priority(nice: int) -> None:
    """Raise the calling thread's nice value to ``nice`` (Linux gives each thread its own)."""
    if nice <= 0 or sys.platform != "linux":
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), min(nice, 19)))
    except OSError:  # pragma: no cover - a sandbox that forbids it: the writer runs as it is
        log.warning("Could not lower the lookup log writer's priority", exc_info=True)


def log_insert(rows: list[tuple]) -> None:
    """Insert log rows (``LOG_FIELDS`` order, the time through ``db_datetime``) in one
    transaction, up to 1,000 rows per INSERT, on the driver's connection.

    This runs in a background thread beside the event loop, and every moment it holds the GIL
    the event loop may wait for it (the loop lets go of the GIL whenever it reads the database).
    So the thread does as little Python as it can: one multi-row statement per 1,000 rows, its
    parameters flattened in C. Per-row statements (``executemany``), model instances or Django's
    cursor wrapper measured as 10 % of the lookup's CPU and 10-30 ms stalls of every request
    in flight (``bench/lookup``)."""
    connection = connections[ALIAS]
    meta = LookupLog._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in LOG_FIELDS)  # type: ignore[union-attr,arg-type]
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
    group = "(" + ", ".join(["?" if connection.vendor == "sqlite" else "%s"] * len(LOG_FIELDS)) + ")"
    with transaction.atomic(using=ALIAS):
        driver = connection.connection
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            driver.execute(head + ", ".join([group] * len(chunk)), list(itertools.chain.from_iterable(chunk)))


lookup_log = LookupLogBuffer()


def _flush_at_exit() -> None:
    if lookup_log.pending():
        try:
            close_old_connections()
            lookup_log.flush()
        except Exception:  # pragma: no cover - best effort at shutdown
            log.exception(
                "Could not write %d lookup log rows at exit (kept in the spool)", lookup_log.pending()
            )
    if lookup_log.spool is not None:
        lookup_log.spool.close(empty=not lookup_log.pending())


def _logged_keys(first: datetime, last: datetime) -> set[tuple]:
    rows = LookupLog.objects.using(ALIAS).filter(at__range=(first, last))
    return {
        (at.astimezone(UTC).replace(tzinfo=None), result, channel, token_id, net)  # as spool.row_key
        for at, result, channel, token_id, net in rows.values_list(
            "at", "result", "channel", "token_id", "client_net"
        )
    }


def _insert_parsed(rows: list[tuple]) -> None:
    log_insert([(db_datetime(row[0]), *row[1:]) for row in rows])


atexit.register(_flush_at_exit)
