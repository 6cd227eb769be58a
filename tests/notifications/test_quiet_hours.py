"""Quiet hours: reminders wait until 07:00 Asia/Shanghai unless urgent; decisions never wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from backend.notifications.delivery import quiet_until
from backend.notifications.services import notify, preferences_update

SH = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 11, 20, 23, 30, tzinfo=SH)
MORNING = datetime(2026, 11, 21, 7, 0, tzinfo=SH)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ((22, 0), MORNING),
        ((23, 59), MORNING),
        ((3, 0), MORNING),
        ((6, 59), MORNING),
        ((7, 0), None),
        ((12, 0), None),
        ((21, 59), None),
    ],
)
def test_quiet_until(local, expected):
    day = 20 if local[0] >= 12 else 21
    moment = datetime(2026, 11, day, *local, tzinfo=SH)
    assert quiet_until(moment) == expected


def test_quiet_hours_are_shanghai_time_whatever_the_input_zone():
    utc_moment = datetime(2026, 11, 20, 15, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 in Shanghai
    assert quiet_until(utc_moment) == MORNING


@pytest.fixture
def phone(fcm_standin, user):
    return fcm_standin.register_device(user)


@pytest.mark.django_db
def test_reminder_at_night_waits_for_the_morning(fcm_standin, phone, user, run_on_commit):
    with time_machine.travel(NIGHT, tick=False), run_on_commit():
        notification = notify(user=user, kind="test.reminder", params={"when": "明早 08:00"})
    notification.refresh_from_db()
    assert (notification.push_state, notification.push_after) == ("pending", MORNING)
    assert notification.push_note == "quiet_hours"
    assert fcm_standin.requests_to(phone) == []

    with time_machine.travel(MORNING - timedelta(minutes=1), tick=False):
        call_command("run_job", "notifications.deliver_due")
    assert fcm_standin.requests_to(phone) == []
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        call_command("run_job", "notifications.deliver_due")
    [message] = fcm_standin.delivered_to(phone)
    assert message["notification"]["body"] == "明早 08:00 开始值班。"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "urgent"), [("test.reminder", True), ("test.decision", False), ("test.assignment", False)]
)
def test_urgent_reminders_decisions_and_assignments_go_out_at_night(
    fcm_standin, phone, user, run_on_commit, kind, urgent
):
    with time_machine.travel(NIGHT, tick=False), run_on_commit():
        notify(user=user, kind=kind, params={"when": "1 小时后", "name": "X", "what": "Y"}, urgent=urgent)
    assert len(fcm_standin.delivered_to(phone)) == 1


@pytest.mark.django_db
def test_user_may_turn_quiet_hours_off(fcm_standin, phone, user, run_on_commit):
    preferences_update(user=user, quiet_hours=False)
    with time_machine.travel(NIGHT, tick=False), run_on_commit():
        notify(user=user, kind="test.reminder", params={"when": "明早"})
    assert len(fcm_standin.delivered_to(phone)) == 1


@pytest.mark.django_db
def test_database_backend_defers_the_task_to_the_morning(fcm_standin, phone, user, run_on_commit, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with time_machine.travel(NIGHT, tick=False), run_on_commit():
        notify(user=user, kind="test.reminder", params={"when": "明早"})
    [task] = DBTaskResult.objects.all()
    assert task.run_after == MORNING
