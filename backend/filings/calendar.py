"""The working-day calendar: Monday to Friday, minus public holidays, plus make-up workdays (调休).

Deadlines count from the day after the start: ``add_days(Friday, 1, working=True)`` is the next
Monday (or later, across a holiday). One query loads the exceptions of the window needed.
Calendar years and months (validity periods, list durations) are plain date arithmetic.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from backend.filings.models import WorkCalendarDay


def _exceptions(start: date, end: date) -> dict[date, bool]:
    return dict(WorkCalendarDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "is_workday"))


def is_working_day(day: date, *, exceptions: dict[date, bool] | None = None) -> bool:
    if exceptions is None:
        exceptions = _exceptions(day, day)
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_days(start: date, n: int, *, working: bool = True) -> date:
    """The day ``n`` (working) days after ``start``; ``n = 0`` gives ``start``."""
    if not working or n <= 0:
        return start + timedelta(days=max(n, 0))
    # Long holidays are at most 9 days: n working days fit in 2n + 20 calendar days, checked below.
    span = 2 * n + 20
    while True:
        exceptions = _exceptions(start, start + timedelta(days=span))
        day, left = start, n
        for _ in range(span):
            day += timedelta(days=1)
            if is_working_day(day, exceptions=exceptions):
                left -= 1
                if left == 0:
                    return day
        span *= 2


def days_between(start: date, end: date, *, working: bool = True) -> int:
    """How many (working) days lie after ``start`` up to and including ``end`` (0 if end ≤ start)."""
    if end <= start:
        return 0
    if not working:
        return (end - start).days
    exceptions = _exceptions(start, end)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, exceptions=exceptions)
    return count


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (or earlier); 29 February becomes the 28th in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), or the month's last day when it is shorter."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))
