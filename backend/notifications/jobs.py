"""Periodic jobs of the notifications domain (see ``backend.notifications.scheduler``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from backend.notifications import conf, delivery
from backend.notifications.models import DeliveryAttempt
from backend.notifications.scheduler import Job


def deliver_due() -> dict:
    """Push notifications whose time has come: quiet hours over, retry due, or task lost."""
    report = delivery.deliver_due()
    return {k: v if isinstance(v, int) else len(v) for k, v in report.as_dict().items()}


def prune() -> dict:
    """Forget old delivery attempts and finished background-task results."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    attempts = DeliveryAttempt.objects.filter(
        created_at__lt=now - timedelta(days=conf.attempt_retention_days()),
        notification__push_state__in=["done", "skipped", "failed"],
    ).delete()[0]
    results = (
        DBTaskResult.objects.finished()
        .filter(finished_at__lt=now - timedelta(days=conf.task_result_retention_days()))
        .delete()[0]
    )
    return {"attempts": attempts, "task_results": results}


JOBS = [
    Job(
        name="notifications.deliver_due",
        every=timedelta(minutes=1),
        func=deliver_due,
        timeout=timedelta(minutes=10),
    ),
    Job(name="notifications.prune", every=timedelta(days=1), func=prune),
]
