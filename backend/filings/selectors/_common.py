"""What the selectors (and the services) of the filings domain share: the clock and status sets."""

from __future__ import annotations

from datetime import date

from django.db.models import Case, Q, Value, When
from django.utils import timezone

from backend.filings.models import Filing

ID_PURPOSE = "filings.person.id_number"
OPEN_STATUSES = (
    Filing.Status.DRAFT,
    Filing.Status.SUBMITTED,
    Filing.Status.ACCEPTED,
    Filing.Status.CORRECTION_REQUESTED,
    Filing.Status.RESUBMITTED,
)
CLOCK_RUNNING = (Filing.Status.ACCEPTED, Filing.Status.RESUBMITTED)


def today_local() -> date:
    return timezone.localdate()


def overdue_q(today: date) -> Q:
    """Filings whose review clock runs past their due date."""
    return Q(status__in=CLOCK_RUNNING, due_date__lt=today)


def clock_flags(today: date) -> dict[str, Case]:
    """What every view of a filing shows of its review clock, as columns for ``annotate``:
    ``overdue`` (:func:`overdue_q`; false without a due date) and ``clock_paused`` (a correction
    request keeps the days left)."""
    return {
        "overdue": Case(When(overdue_q(today), then=Value(True)), default=Value(False)),
        "clock_paused": Case(When(paused_days_left__isnull=False, then=Value(True)), default=Value(False)),
    }


def prepared(obj: object, **values: object) -> None:
    """Attach values computed in Python to a fetched row, as ``QuerySet.annotate`` does with SQL
    ones: what the API shows of the row (masked names, current documents) is decided here."""
    for name, value in values.items():
        setattr(obj, name, value)
