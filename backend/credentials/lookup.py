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

import atexit
import collections
import functools
import ipaddress
import logging
import os
import sys
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import close_old_connections, connections
from django.utils import timezone

from backend.core.context import client_ip
from backend.core.keys import atoken_verify, token_verify
from backend.core.masking import mask_name
from backend.core.signed_tokens import TokenError
from backend.credentials import conf
from backend.credentials.lookup_db import (
    FIELDS,
    aquery_token_row,
    db_datetime,
    log_insert,
    query_token_row,
    queryset,
)
from backend.credentials.models import Credential, LookupLog, Practitioner

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


def _query(token_id_hex: str | None = None, certificate_no: str | None = None) -> list[dict[str, Any]]:
    """The credential rows for a token id or a certificate number (ORM; one query)."""
    qs = queryset()
    qs = (
        qs.filter(token_id=token_id_hex)
        if token_id_hex is not None
        else qs.filter(certificate_no=certificate_no)
    )
    return list(qs.values(*FIELDS)[:5])


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


def _local_date(now: datetime) -> date:
    """The city's date at ``now`` (``TIME_ZONE``; a lookup never activates another zone)."""
    return now.astimezone(timezone.get_default_timezone()).date()


def _result(row: dict[str, Any] | None, *, now: datetime, token_id: str, token_expired: bool) -> LookupResult:
    if row is None:  # genuine, but the badge was re-issued: this QR no longer counts
        return LookupResult(status="revoked", checked_at=now, token_id=token_id, detail="superseded")
    return LookupResult(
        status=_status_of(row, _local_date(now), token_expired),
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
    expired = payload.is_expired(on=_local_date(now))
    token_id = payload.token_id.hex()
    return _result(query_token_row(token_id), now=now, token_id=token_id, token_expired=expired)


async def alookup_token(token: str) -> LookupResult:
    """``lookup_token`` for async views: a forged token never leaves the event loop."""
    now = timezone.now()
    try:
        payload = await atoken_verify(purpose="credential", token=token, check_expiry=False)
    except TokenError as exc:
        return _not_genuine(exc, now)
    expired = payload.is_expired(on=_local_date(now))
    token_id = payload.token_id.hex()
    return _result(await aquery_token_row(token_id), now=now, token_id=token_id, token_expired=expired)


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

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if not conf.lookup_log_background():
            return
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

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._run, name="linli-lookup-log", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        _lower_priority(conf.lookup_log_nice())
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
            while self.rows:
                batch: list[tuple] = []
                while self.rows and len(batch) < conf.lookup_log_batch():
                    batch.append(self.rows.popleft())
                try:
                    log_insert(batch)
                except Exception:
                    self.rows.extendleft(reversed(batch))  # keep them for the next attempt
                    raise
                written += len(batch)
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


lookup_log = LookupLogBuffer()


def _flush_at_exit() -> None:
    if lookup_log.pending():
        try:
            close_old_connections()
            lookup_log.flush()
        except Exception:  # pragma: no cover - best effort at shutdown
            log.exception("Could not write %d lookup log rows at exit", lookup_log.pending())


atexit.register(_flush_at_exit)


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
