"""Volunteer domain settings, each overridable in Django settings (``LINLI_VOLUNTEER_*``)."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from backend.core.flags import switched_on
from backend.core.links import public_origin


def min_age() -> int:
    """Youngest age that may register (Shenzhen: 10)."""
    return int(getattr(settings, "LINLI_VOLUNTEER_MIN_AGE", 10))


def adult_age() -> int:
    """Below this age a guardian's consent is required."""
    return int(getattr(settings, "LINLI_VOLUNTEER_ADULT_AGE", 18))


def consent_versions() -> dict[str, str]:
    """The current version of each consent text a volunteer must accept."""
    return dict(
        getattr(settings, "LINLI_VOLUNTEER_CONSENT_VERSIONS", {"terms": "2026-01", "privacy": "2026-01"})
    )


def guardian_consent_version() -> str:
    """The current version of the guardian consent text (监护人同意书) a guardian agrees to."""
    return str(getattr(settings, "LINLI_VOLUNTEER_GUARDIAN_CONSENT_VERSION", "2026-01"))


def rounding_rule() -> list[tuple[int, Decimal]]:
    """Rounding of the minutes left over after whole hours: ``[(below_minutes, hours), ...]``.

    Default (the brief): < 15 min → 0, 15-45 min → 0.5 h, 45-60 min → 1 h.
    """
    rule = getattr(settings, "LINLI_VOLUNTEER_ROUNDING", [(15, "0"), (45, "0.5"), (60, "1")])
    return [(int(limit), Decimal(str(value))) for limit, value in rule]


def daily_valid_hours() -> Decimal:
    """Per person per day: up to this many hours are valid at once."""
    return Decimal(str(getattr(settings, "LINLI_VOLUNTEER_DAILY_VALID_HOURS", 8)))


def daily_approval_hours() -> Decimal:
    """… above valid and up to this many need the organisation's approval; above it, escalation."""
    return Decimal(str(getattr(settings, "LINLI_VOLUNTEER_DAILY_APPROVAL_HOURS", 12)))


def daily_max_pairs() -> int:
    """At most this many check-in/check-out pairs count per person and day."""
    return int(getattr(settings, "LINLI_VOLUNTEER_DAILY_MAX_PAIRS", 3))


def star_thresholds() -> list[Decimal]:
    """Approved cumulative hours for 1..5 stars."""
    return [
        Decimal(str(h)) for h in getattr(settings, "LINLI_VOLUNTEER_STAR_HOURS", [100, 300, 600, 1000, 1500])
    ]


def backfill_max_duration() -> timedelta:
    """Longest single backfill request (补录): one day's service; a longer stretch is several."""
    return timedelta(hours=int(getattr(settings, "LINLI_VOLUNTEER_BACKFILL_MAX_HOURS", 24)))


def promotion_confirm_window() -> timedelta:
    """How long a promoted waitlister has to confirm (capped by the shift's start)."""
    return timedelta(seconds=int(getattr(settings, "LINLI_VOLUNTEER_PROMOTION_CONFIRM_SECONDS", 12 * 3600)))


def no_show_limit() -> int:
    """This many no-shows within ``no_show_window`` → a ban of ``no_show_ban``."""
    return int(getattr(settings, "LINLI_VOLUNTEER_NO_SHOW_LIMIT", 3))


def no_show_window() -> timedelta:
    return timedelta(days=int(getattr(settings, "LINLI_VOLUNTEER_NO_SHOW_WINDOW_DAYS", 90)))


def no_show_ban() -> timedelta:
    return timedelta(days=int(getattr(settings, "LINLI_VOLUNTEER_NO_SHOW_BAN_DAYS", 7)))


def reminder_offsets() -> list[timedelta]:
    """Shift reminders go out this long before the start (24 h and 2 h)."""
    return [timedelta(hours=h) for h in getattr(settings, "LINLI_VOLUNTEER_REMINDER_HOURS", [24, 2])]


def series_horizon() -> timedelta:
    """Recurring shifts are generated this far ahead."""
    return timedelta(days=int(getattr(settings, "LINLI_VOLUNTEER_SERIES_HORIZON_DAYS", 28)))


def signup_retries() -> int:
    """Retries of a sign-up transaction that hit a transient lock or serialization error."""
    return int(getattr(settings, "LINLI_VOLUNTEER_SIGNUP_RETRIES", 5))


def transfer_offer_window() -> timedelta:
    """How long a place transfer offer stays open (it also ends when the shift starts)."""
    return timedelta(hours=float(getattr(settings, "LINLI_VOLUNTEER_TRANSFER_HOURS", 24)))


def public_base_url() -> str:
    return public_origin()


def self_checkin_qr_seconds() -> int:
    """How often the post's self check-in QR changes (30-60 s); the previous one is still taken."""
    return min(max(int(getattr(settings, "LINLI_VOLUNTEER_SELF_CHECKIN_QR_SECONDS", 45)), 30), 60)


def self_checkin_early() -> timedelta:
    """How long before the shift starts a volunteer may check in themselves."""
    return timedelta(minutes=int(getattr(settings, "LINLI_VOLUNTEER_SELF_CHECKIN_EARLY_MINUTES", 30)))


def self_checkin_late() -> timedelta:
    """How long after the shift ends a volunteer may still check out."""
    return timedelta(minutes=int(getattr(settings, "LINLI_VOLUNTEER_SELF_CHECKIN_LATE_MINUTES", 30)))


def attendance_clock_skew() -> timedelta:
    """Attendance may lie this far after the server's clock (a phone's clock running ahead), no
    further: service that has not happened is refused. Same default as the scanner's skew."""
    return timedelta(seconds=int(getattr(settings, "LINLI_VOLUNTEER_ATTENDANCE_SKEW_SECONDS", 300)))


def attendance_tolerance() -> timedelta:
    """How far before a shift's start a check-in and after its end a check-out may lie (the event
    check-in window opens an hour before by default); hours still count inside the shift only."""
    return timedelta(minutes=int(getattr(settings, "LINLI_VOLUNTEER_ATTENDANCE_TOLERANCE_MINUTES", 60)))


def signup_fast_path() -> bool:
    """Refuse sign-ups for a full shift on the event loop (``api.volunteers.fastpath``, read at
    start-up); off, Django's handler gives every answer, the same ones. The Django setting, else
    the environment variable of the same name."""
    return switched_on(
        getattr(settings, "LINLI_SIGNUP_FAST_PATH", os.environ.get("LINLI_SIGNUP_FAST_PATH", "1"))
    )
