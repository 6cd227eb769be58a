"""Background tasks (django-tasks): the database backend in production (``manage.py db_worker``),
the immediate backend in the embedded default."""

from __future__ import annotations

from django_tasks import task

from backend.notifications import delivery


@task()
def send_notification(notification_id: int) -> dict:
    """Push one notification to its user's devices (idempotent: sent addresses are skipped)."""
    return delivery.deliver(notification_ids=[notification_id]).as_dict()
