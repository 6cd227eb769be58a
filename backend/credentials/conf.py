"""Settings of the credentials domain, with their defaults (settings.py need not name them)."""

from __future__ import annotations

import os

from django.conf import settings


def _setting(name: str, default: str) -> str:
    """A Django setting, else the environment variable of the same name, else the default."""
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name) or default
    return str(value)


def lookup_rate() -> str:
    """Public QR lookups (page and API) per client address."""
    return _setting("LINLI_LOOKUP_RATE", "60/m")


def manual_lookup_rate() -> str:
    """Manual lookups (certificate number + name) per client address: stricter, it can be guessed at."""
    return _setting("LINLI_MANUAL_LOOKUP_RATE", "10/m")


def lookup_log_batch() -> int:
    """Lookup log rows written per INSERT at most."""
    return int(getattr(settings, "LINLI_LOOKUP_LOG_BATCH", 500))


def lookup_log_interval() -> float:
    """Seconds a lookup log row waits in memory at most before it is written."""
    return float(getattr(settings, "LINLI_LOOKUP_LOG_INTERVAL", 1.0))


def lookup_log_background() -> bool:
    """Write the lookup log from a background thread (off for tests, which flush by hand)."""
    return bool(getattr(settings, "LINLI_LOOKUP_LOG_BACKGROUND", True))


def expiry_notice_days() -> int:
    """Association admins hear of a credential expiring this many days ahead."""
    return int(getattr(settings, "LINLI_CREDENTIAL_EXPIRY_NOTICE_DAYS", 30))


def photo_max_bytes() -> int:
    return int(getattr(settings, "LINLI_PRACTITIONER_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def import_max_rows() -> int:
    return int(getattr(settings, "LINLI_CREDENTIAL_IMPORT_MAX_ROWS", 5000))


def import_max_bytes() -> int:
    return int(getattr(settings, "LINLI_CREDENTIAL_IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def badge_font() -> str | None:
    return getattr(settings, "LINLI_BADGE_FONT", None) or None


def verify_url_prefix() -> str:
    """``https://<LINLI_PUBLIC_HOST>/v/``: the QR holds this plus the token."""
    scheme = getattr(settings, "LINLI_PUBLIC_SCHEME", "https")
    return f"{scheme}://{settings.LINLI_PUBLIC_HOST}/v/"


def lookup_db_threads() -> int:
    """Threads with persistent connections for the lookup query (0: the request's own thread)."""
    return int(_setting("LINLI_LOOKUP_DB_THREADS", "2"))


def lookup_db_conn_age() -> float:
    """Seconds a lookup thread keeps its database connection before opening a new one."""
    return float(_setting("LINLI_LOOKUP_DB_CONN_AGE", "300"))


def lookup_fast_path() -> bool:
    """Serve ``GET /api/v1/verify/<TOKEN>`` and ``GET /v/<TOKEN>`` from the ASGI fast path (read at
    start-up); off, Django's handler serves them with the same answers."""
    return _setting("LINLI_LOOKUP_FAST_PATH", "1").strip().lower() not in {"0", "false", "no", "off"}
