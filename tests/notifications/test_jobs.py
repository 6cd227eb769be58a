"""The notifications domain's own periodic jobs, under frozen time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from backend.notifications import jobs
from backend.notifications.models import DeliveryAttempt, Notification
from backend.notifications.services import notify

pytestmark = pytest.mark.django_db


def test_deliver_due_sends_what_a_lost_task_left_behind(fcm_standin, user, settings):
    settings.LINLI_PUSH_SWEEP_GRACE = 60
    token = fcm_standin.register_device(user)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        notification = notify(user=user, kind="test.decision", params={"name": "X"})  # commit never seen
        assert jobs.deliver_due()["claimed"] == 0  # within the grace its own task may still come
    with time_machine.travel(now + timedelta(seconds=61), tick=False):
        call_command("run_job", "notifications.deliver_due")
        assert jobs.deliver_due()["claimed"] == 0  # idempotent: done now
    notification.refresh_from_db()
    assert notification.push_state == "done"
    assert len(fcm_standin.delivered_to(token)) == 1


def test_deliver_due_skips_notifications_leased_by_a_worker(fcm_standin, user):
    fcm_standin.register_device(user)
    notification = notify(user=user, kind="test.decision", params={"name": "X"})
    later = timezone.now() + timedelta(minutes=5)
    Notification.objects.filter(pk=notification.pk).update(
        push_run="busy", push_lease_until=later + timedelta(1)
    )
    with time_machine.travel(later, tick=False):
        assert jobs.deliver_due()["claimed"] == 0
    assert fcm_standin.requests == []


def test_prune_forgets_old_attempts_and_task_results(fcm_standin, user, run_on_commit, settings):
    from django_tasks_db.models import DBTaskResult

    settings.LINLI_PUSH_ATTEMPT_RETENTION_DAYS = 90
    fcm_standin.register_device(user)
    with run_on_commit():
        old = notify(user=user, kind="test.decision", params={"name": "old"})
        new = notify(user=user, kind="test.decision", params={"name": "new"})
    DeliveryAttempt.objects.filter(notification=old).update(created_at=timezone.now() - timedelta(days=91))
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from backend.notifications.tasks import send_notification

    stale = DBTaskResult.objects.get(pk=send_notification.enqueue(old.pk).id)
    fresh = DBTaskResult.objects.get(pk=send_notification.enqueue(new.pk).id)
    DBTaskResult.objects.filter(pk__in=[stale.pk, fresh.pk]).update(
        status="SUCCESSFUL", finished_at=timezone.now()
    )
    DBTaskResult.objects.filter(pk=stale.pk).update(finished_at=timezone.now() - timedelta(days=30))

    assert jobs.prune() == {"attempts": 1, "task_results": 1}
    assert list(DeliveryAttempt.objects.values_list("notification_id", flat=True)) == [new.pk]
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert Notification.objects.count() == 2  # the inbox keeps everything
