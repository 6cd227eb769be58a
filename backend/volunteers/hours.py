"""Service-hour arithmetic: pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from backend.volunteers import conf
from backend.volunteers.models import ServiceRecord


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


@dataclass(frozen=True)
class DayRuling:
    """How a new record of recorded hours (信用时数) counts, given the person's day so far."""

    status: str  # a ServiceRecord.Status
    reason: str  # the record's status_reason ("" when valid)
    hours: Decimal  # the hours the record keeps: 0 when refused


def daily_ruling(
    *,
    pairs_before: int,
    hours_before: Decimal,
    hours: Decimal,
    max_pairs: int | None = None,
    valid_hours: Decimal | None = None,
    approval_hours: Decimal | None = None,
) -> DayRuling:
    """The per-day rules for one more check-in/check-out pair of ``hours``.

    ``pairs_before`` counts the day's earlier records that were not refused, ``hours_before``
    their hours except rejected ones. Past ``max_pairs`` pairs (3) the record is refused with no
    hours; a day totalling up to ``valid_hours`` (8) is valid, up to ``approval_hours`` (12)
    waits for the organisation, above that it is escalated. Limits default to ``conf``.
    """
    max_pairs = conf.daily_max_pairs() if max_pairs is None else max_pairs
    if pairs_before >= max_pairs:
        return DayRuling(ServiceRecord.Status.REFUSED, "daily_pair_limit", Decimal("0"))
    total = hours_before + hours
    if total <= (conf.daily_valid_hours() if valid_hours is None else valid_hours):
        return DayRuling(ServiceRecord.Status.VALID, "", hours)
    if total <= (conf.daily_approval_hours() if approval_hours is None else approval_hours):
        return DayRuling(ServiceRecord.Status.PENDING, "daily_over_valid", hours)
    return DayRuling(ServiceRecord.Status.ESCALATED, "daily_over_approval", hours)
