"""Service-hour arithmetic: pure functions, no database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from backend.volunteers import conf


def counted_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes between ``start`` and ``end`` (0 when ``end`` is not after ``start``)."""
    seconds = (end - start).total_seconds()
    return max(int(seconds // 60), 0)


def clip_to(
    start: datetime, end: datetime, window_start: datetime, window_end: datetime
) -> tuple[datetime, datetime]:
    """The part of ``[start, end]`` inside ``[window_start, window_end]`` (empty → start == end)."""
    lo = max(start, window_start)
    hi = min(end, window_end)
    if hi < lo:
        hi = lo
    return lo, hi


def round_hours(minutes: int, rule: list[tuple[int, Decimal]] | None = None) -> Decimal:
    """Whole hours plus the rounded remainder by the configured rule.

    With the default rule 14 min → 0, 15 min → 0.5, 44 min → 0.5, 45 min → 1, 2 h 20 min → 2.5.
    """
    rule = conf.rounding_rule() if rule is None else rule
    whole, rest = divmod(max(minutes, 0), 60)
    extra = Decimal("0")
    for below, value in rule:
        if rest < below:
            extra = value
            break
    else:  # a rule that does not reach 60 minutes: the rest counts as its last value
        extra = rule[-1][1] if rule else Decimal("0")
    return (Decimal(whole) + extra).quantize(Decimal("0.1"))


def stars_for(hours: Decimal, thresholds: list[Decimal] | None = None) -> int:
    """Stars (0-5) for approved cumulative hours: 100/300/600/1000/1500 by default."""
    thresholds = conf.star_thresholds() if thresholds is None else thresholds
    return sum(1 for limit in thresholds if hours >= limit)


def next_star_at(hours: Decimal, thresholds: list[Decimal] | None = None) -> Decimal | None:
    thresholds = conf.star_thresholds() if thresholds is None else thresholds
    for limit in thresholds:
        if hours < limit:
            return limit
    return None
