"""Settings of the notifications domain, read on every use (``getattr(settings, "LINLI_…")``)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from django.conf import settings

SERVER_ZONE = ZoneInfo("Asia/Shanghai")


def push_enabled() -> bool:
    """``LINLI_PUSH_ENABLED=False`` keeps every notification in the inbox only."""
    return bool(getattr(settings, "LINLI_PUSH_ENABLED", True))


def batch_size() -> int:
    """Messages per ``send_each`` call; FCM allows at most 500."""
    return max(1, min(500, int(getattr(settings, "LINLI_PUSH_BATCH_SIZE", 500))))


def max_attempts() -> int:
    """Tries per notification before transient failures give up (the inbox still has it)."""
    return max(1, int(getattr(settings, "LINLI_PUSH_MAX_ATTEMPTS", 6)))


def backoff_base() -> float:
    return float(getattr(settings, "LINLI_PUSH_BACKOFF_BASE", 30))


def backoff_max() -> float:
    return float(getattr(settings, "LINLI_PUSH_BACKOFF_MAX", 3600))


def lease_seconds() -> int:
    """How long one worker owns a notification while sending it."""
    return int(getattr(settings, "LINLI_PUSH_LEASE", 300))


def sweep_grace_seconds() -> int:
    """The ``deliver_due`` job picks up notifications due at least this long ago (their own task
    normally got there first)."""
    return int(getattr(settings, "LINLI_PUSH_SWEEP_GRACE", 60))


def http_timeout() -> int:
    return int(getattr(settings, "LINLI_FCM_HTTP_TIMEOUT", 10))


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_hours() -> tuple[time, time]:
    """Start and end of quiet hours, Asia/Shanghai (default 22:00–07:00)."""
    start, end = getattr(settings, "LINLI_QUIET_HOURS", ("22:00", "07:00"))
    return _parse(start), _parse(end)


def max_devices_per_user() -> int:
    return int(getattr(settings, "LINLI_PUSH_MAX_DEVICES", 10))


def attempt_retention_days() -> int:
    return int(getattr(settings, "LINLI_PUSH_ATTEMPT_RETENTION_DAYS", 90))


def task_result_retention_days() -> int:
    return int(getattr(settings, "LINLI_TASK_RESULT_RETENTION_DAYS", 14))
