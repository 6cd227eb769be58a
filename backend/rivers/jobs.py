"""Periodic jobs of the rivers domain (see ``backend.notifications.scheduler``)."""

from __future__ import annotations

from datetime import timedelta

from backend.notifications.scheduler import Job
from backend.rivers import services


def flag_overdue_issues() -> int:
    """Flag open river issues past their SLA date (once each) and notify whoever holds them."""
    return services.river_issues_flag_overdue()


def finish_stale_patrols() -> int:
    """Finish patrols left recording (app killed, phone lost): computed and credited as usual."""
    return services.patrols_finish_stale()


JOBS = [
    Job(name="rivers.flag_overdue_issues", every=timedelta(minutes=15), func=flag_overdue_issues),
    Job(name="rivers.finish_stale_patrols", every=timedelta(minutes=30), func=finish_stale_patrols),
]
