"""Check-in settings, read with defaults so the domain never needs settings.py to change."""

from __future__ import annotations

from django.conf import settings


def late_after_seconds() -> int:
    """A scan that reaches the server this long after it was made is marked ``late``."""
    return int(getattr(settings, "LINLI_CHECKIN_LATE_SECONDS", 60))


def clock_skew_seconds() -> int:
    """How far a scanner's clock may run ahead of ours before its scan time is not believed."""
    return int(getattr(settings, "LINLI_CHECKIN_CLOCK_SKEW_SECONDS", 300))


def replay_max() -> int:
    """A dashboard that missed more than this many scans gets a new snapshot instead of a replay."""
    return int(getattr(settings, "LINLI_CHECKIN_REPLAY_MAX", 500))


def recent_count() -> int:
    """Scans in the ``recent`` list of a snapshot."""
    return int(getattr(settings, "LINLI_CHECKIN_RECENT", 20))


def upload_max_items() -> int:
    """Redeems in one offline upload."""
    return int(getattr(settings, "LINLI_CHECKIN_UPLOAD_MAX", 500))


def pass_valid_days_after_event() -> int:
    """A pass token's signed expiry: the event's last day plus this many days."""
    return int(getattr(settings, "LINLI_PASS_VALID_DAYS_AFTER_EVENT", 1))


def event_reminder_lead_minutes() -> int:
    """Pass holders are reminded when their event starts within this many minutes."""
    return int(getattr(settings, "LINLI_EVENT_REMINDER_LEAD_MINUTES", 120))


def realtime_rejoin_seconds() -> float:
    """How often a process renews its channel-layer subscription to a live event's feed; after a
    channel-layer outage it also resyncs its dashboards from the database (``realtime.checkin``)."""
    return float(getattr(settings, "LINLI_REALTIME_REJOIN_SECONDS", 5))


def delta_max() -> int:
    """An offline-bundle cursor more than this many bundle changes behind is expired (410): the
    scanner fetches the full bundle, which is then cheaper than the delta."""
    return int(getattr(settings, "LINLI_CHECKIN_DELTA_MAX", 5000))


def delta_max_scans() -> int:
    """Likewise for scans since the cursor (each may change a pass's ``entered``)."""
    return int(getattr(settings, "LINLI_CHECKIN_DELTA_MAX_SCANS", 50000))


def search_max() -> int:
    """Passes one door search answers at most."""
    return int(getattr(settings, "LINLI_CHECKIN_SEARCH_MAX", 20))


def annul_window_seconds() -> int:
    """How long after a scan reached us the device that made it may annul it (coordinators: always)."""
    return int(getattr(settings, "LINLI_CHECKIN_ANNUL_WINDOW_SECONDS", 15 * 60))
