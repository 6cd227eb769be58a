"""Settings of the credentials domain, with their defaults (settings.py need not name them)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from backend.core.flags import switched_on
from backend.core.links import public_url

_values: dict[tuple[str, str], str] = {}


def _setting(name: str, default: str) -> str:
    """A Django setting, else the environment variable of the same name, else the default.

    Read once per process (the lookup asks for several on every request), again after a setting
    changes (``override_settings`` and pytest-django's ``settings`` send ``setting_changed``)."""
    try:
        return _values[(name, default)]
    except KeyError:
        pass
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name) or default
    _values[(name, default)] = str(value)
    return str(value)


@receiver(setting_changed)
def _forget_values(**kwargs: object) -> None:
    _values.clear()


def lookup_rate() -> str:
    """Public QR lookups (page and API) per client address."""
    return _setting("LINLI_LOOKUP_RATE", "60/m")


def manual_lookup_rate() -> str:
    """Manual lookups (certificate number + name) per client address: stricter, it can be guessed at."""
    return _setting("LINLI_MANUAL_LOOKUP_RATE", "10/m")


def lookup_log_batch() -> int:
    """Lookup log rows written per INSERT at most."""
    return int(_setting("LINLI_LOOKUP_LOG_BATCH", "500"))


def lookup_log_interval() -> float:
    """Seconds a lookup log row waits in memory at most before it is written."""
    return float(_setting("LINLI_LOOKUP_LOG_INTERVAL", "1.0"))


def lookup_log_nice() -> int:
    """The lookup log writer thread's nice value (Linux; 0 leaves it as the process is)."""
    return int(_setting("LINLI_LOOKUP_LOG_NICE", "19"))


def lookup_log_max_pending() -> int:
    """Rows waiting past this many are written by a catch-up thread at the normal priority."""
    return int(_setting("LINLI_LOOKUP_LOG_MAX_PENDING", "100000"))


def lookup_log_background() -> bool:
    """Write the lookup log from a background thread (off for tests, which flush by hand)."""
    return switched_on(_setting("LINLI_LOOKUP_LOG_BACKGROUND", "1"))


def lookup_log_spool() -> str:
    """The lookup log's write-ahead spool directory (``lookup.spool``); ``off`` turns it off."""
    value = _setting("LINLI_LOOKUP_LOG_SPOOL", "")
    if value.lower() in {"off", "0", "false", "no"}:
        return ""
    return value or str(Path(getattr(settings, "VAR_DIR", "var")) / "lookup-spool")


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
    return public_url("/v/")


def lookup_db() -> str:
    """Where the lookup's status query runs: ``direct`` (on the event loop, a connection of its
    own) or ``django`` (the caller's thread and Django connection; tests).
    See ``backend.credentials.lookup.db``."""
    value = _setting("LINLI_LOOKUP_DB", "direct").strip().lower()
    if value not in {"direct", "django"}:
        raise ValueError(f"LINLI_LOOKUP_DB must be 'direct' or 'django', not {value!r}")
    return value


def lookup_db_connections() -> int:
    """PostgreSQL: asyncio connections per event loop for the lookup's status query."""
    return int(_setting("LINLI_LOOKUP_DB_CONNECTIONS", "2"))


def lookup_db_busy_timeout() -> float:
    """SQLite: seconds the event loop waits for a busy database before the query goes to a thread."""
    return float(_setting("LINLI_LOOKUP_DB_BUSY_TIMEOUT", "0.05"))


def lookup_db_conn_age() -> float:
    """Seconds a lookup connection is kept before a new one is opened."""
    return float(_setting("LINLI_LOOKUP_DB_CONN_AGE", "300"))


def lookup_fast_path() -> bool:
    """Serve ``GET /api/v1/verify/<TOKEN>`` and ``GET /v/<TOKEN>`` from the ASGI fast path (read at
    start-up); off, Django's handler serves them with the same answers."""
    return switched_on(_setting("LINLI_LOOKUP_FAST_PATH", "1"))
