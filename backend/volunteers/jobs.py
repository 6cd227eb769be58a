"""Periodic work of the volunteers domain. Every function is idempotent (safe to run twice).

``JOBS`` lists ``(name, every_seconds, func)`` for the scheduler (``manage.py run_job NAME``).
"""

from __future__ import annotations

from datetime import datetime

from backend.volunteers import services


def expire_promotions(*, now: datetime | None = None) -> int:
    """Promotions not confirmed by their confirm-by time pass on to the next waitlister."""
    return services.signup_promotions_expire(now=now)


def send_shift_reminders(*, now: datetime | None = None) -> int:
    """Reminders 24 h and 2 h before a shift (kind ``shift.reminder``, deduplicated per sign-up)."""
    return services.shift_reminders_send(now=now)


def extend_shift_series(*, now: datetime | None = None) -> int:
    """Generate the next occurrences of weekly shift series."""
    return services.shift_series_extend(now=now)


def close_self_checkins(*, now: datetime | None = None) -> int:
    """Credit the hours of self check-ins (``self_checkin`` activities) once their shift ended."""
    return services.self_checkins_close(now=now)


JOBS = [
    ("volunteers.expire_promotions", 60, expire_promotions),
    ("volunteers.shift_reminders", 300, send_shift_reminders),
    ("volunteers.extend_shift_series", 3600, extend_shift_series),
    ("volunteers.self_checkins_close", 300, close_self_checkins),
]
