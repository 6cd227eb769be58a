"""One format for every time Linli sends: ISO 8601 in the server's zone with its offset.

``2026-12-05T09:30:00.123+08:00`` (milliseconds when there are any), the same over REST, the
websockets and the lookup API, so a client parses one format everywhere.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def iso_local(value: datetime) -> str:
    """An aware datetime as Linli sends it (a naive one is taken as already local)."""
    if value.tzinfo is not None:
        value = timezone.localtime(value)
    text = value.isoformat()
    if value.microsecond:
        # As Django's JSON encoder writes them: milliseconds, not microseconds.
        text = text[:23] + text[26:]
    return text
