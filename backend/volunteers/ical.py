"""A volunteer's shifts as an iCalendar feed (RFC 5545): pure functions, no database.

What calendar apps rely on, and how this module meets it:

- lines end in CRLF and are folded so that no line exceeds 75 octets (UTF-8 bytes, never
  splitting a character); a continuation line starts with one space (3.1);
- TEXT values escape backslash, semicolon, comma and newlines (3.3.11);
- times carry ``TZID=Asia/Shanghai`` with a VTIMEZONE for it (China has had no daylight saving
  since 1991: one STANDARD rule, +08:00); DTSTAMP is UTC (3.8.7.2);
- each sign-up is one VEVENT with a UID that never changes (``signup-<id>@<host>``); when the
  sign-up or its shift is cancelled the event stays in the feed with ``STATUS:CANCELLED`` and a
  higher ``SEQUENCE``, so subscribed calendars remove or strike it instead of keeping a stale
  entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TZID = "Asia/Shanghai"
_ZONE = ZoneInfo(TZID)
PRODID = "-//Linli//Volunteer shifts//ZH"

VTIMEZONE = [
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0800",
    "TZOFFSETTO:+0800",
    "TZNAME:CST",
    "END:STANDARD",
    "END:VTIMEZONE",
]


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    cancelled: bool
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    geo: tuple[float, float] | None = None


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str, limit: int = 75) -> list[str]:
    """``line`` as physical lines of at most ``limit`` octets, continuations starting with a space."""
    out: list[str] = []
    current, size, first = "", 0, True
    for char in line:
        width = len(char.encode("utf-8"))
        room = limit if first else limit - 1  # the continuation's leading space is an octet
        if size + width > room:
            out.append(current if first else " " + current)
            current, size, first = "", 0, False
        current += char
        size += width
    out.append(current if first else " " + current)
    return out


def _local(moment: datetime) -> str:
    return moment.astimezone(_ZONE).strftime("%Y%m%dT%H%M%S")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: CalendarEvent, *, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{_utc(stamp)}",
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        f"DTSTART;TZID={TZID}:{_local(event.starts_at)}",
        f"DTEND;TZID={TZID}:{_local(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.geo is not None:
        lines.append(f"GEO:{event.geo[0]:.6f};{event.geo[1]:.6f}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines.append("END:VEVENT")
    return lines


def calendar_text(*, name: str, events: Iterable[CalendarEvent], stamp: datetime) -> str:
    """The whole VCALENDAR, CRLF line ends, folded."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{TZID}",
        *VTIMEZONE,
    ]
    for event in events:
        lines += _event_lines(event, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(physical + "\r\n" for line in lines for physical in fold(line))
