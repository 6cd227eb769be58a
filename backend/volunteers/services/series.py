"""Weekly shift series: the rule and its generated occurrences, kept ahead by a job."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.volunteers import conf
from backend.volunteers.models import Activity, Shift, ShiftSeries
from backend.volunteers.services._common import _ends_before_start, _local_date, _now, _size_errors


def shift_series_create(
    *,
    activity: Activity,
    by: User,
    weekdays: list[int],
    start_time: Any,
    end_time: Any,
    starts_on: date,
    ends_on: date,
    capacity: int,
    waitlist_size: int = 0,
    signup_opens_days: int = 14,
    signup_closes_hours: int = 0,
    cancel_hours: int = 24,
    now: datetime | None = None,
) -> tuple[ShiftSeries, list[Shift]]:
    """A weekly rule (e.g. every Saturday and Sunday 9:00-12:00) and its first occurrences."""
    now = _now(now)
    errors = []
    days = sorted({int(d) for d in weekdays})
    if not days or any(d < 0 or d > 6 for d in days):
        errors.append(
            field_error(
                "weekdays",
                "invalid",
                T("星期须为 0（周一）至 6（周日）。", "Weekdays are 0 (Monday) to 6 (Sunday)."),
            )
        )
    if end_time <= start_time:
        errors.append(_ends_before_start("end_time"))
    if ends_on < starts_on or (ends_on - starts_on).days > 366:
        errors.append(
            field_error(
                "ends_on",
                "invalid",
                T("日期范围无效（最长一年）。", "Invalid date range (one year at most)."),
            )
        )
    errors += _size_errors(capacity=capacity, waitlist_size=waitlist_size)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        series = ShiftSeries.objects.create(
            activity=activity,
            weekdays=days,
            start_time=start_time,
            end_time=end_time,
            starts_on=starts_on,
            ends_on=ends_on,
            capacity=capacity,
            waitlist_size=waitlist_size,
            signup_opens_days=signup_opens_days,
            signup_closes_hours=signup_closes_hours,
            cancel_hours=cancel_hours,
        )
        audit_record(actor=by, action="shift_series.created", target=series, data={"weekdays": days})
        shifts = shift_series_generate(series=series, now=now)
    return series, shifts


def shift_series_generate(*, series: ShiftSeries, now: datetime | None = None) -> list[Shift]:
    """Create the series' missing future occurrences up to ``conf.series_horizon()``; idempotent."""
    now = _now(now)
    zone = timezone.get_current_timezone()
    first = max(series.starts_on, _local_date(now))
    last = min(series.ends_on, _local_date(now + conf.series_horizon()))
    existing = set(Shift.objects.filter(series=series).values_list("starts_at", flat=True))
    created: list[Shift] = []
    day = first
    with transaction.atomic():
        while day <= last:
            if day.weekday() in series.weekdays:
                starts_at = datetime.combine(day, series.start_time, tzinfo=zone)
                ends_at = datetime.combine(day, series.end_time, tzinfo=zone)
                if starts_at > now and starts_at not in existing:
                    shift, made = Shift.objects.get_or_create(
                        series=series,
                        starts_at=starts_at,
                        defaults={
                            "activity_id": series.activity_id,
                            "ends_at": ends_at,
                            "capacity": series.capacity,
                            "waitlist_size": series.waitlist_size,
                            "signup_opens_at": starts_at - timedelta(days=series.signup_opens_days),
                            "signup_closes_at": starts_at - timedelta(hours=series.signup_closes_hours),
                            "cancel_deadline": starts_at - timedelta(hours=series.cancel_hours),
                        },
                    )
                    if made:
                        created.append(shift)
            day += timedelta(days=1)
    return created


def shift_series_extend(*, now: datetime | None = None) -> int:
    """Job: keep each running series generated ``conf.series_horizon()`` ahead."""
    now = _now(now)
    total = 0
    for series in ShiftSeries.objects.filter(
        ends_on__gte=_local_date(now), activity__status__in=[Activity.Status.DRAFT, Activity.Status.PUBLISHED]
    ):
        total += len(shift_series_generate(series=series, now=now))
    return total
