"""The outbox: written with its cause, gone with its rollback, pushed after commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from backend.notifications.models import DeliveryAttempt, Notification
from backend.notifications.services import notify
from tests.factories import UserFactory


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_rolled_back_cause_leaves_no_notification_and_no_push(fcm_standin):
    user = UserFactory()
    token = fcm_standin.register_device(user)
    with pytest.raises(Boom), transaction.atomic():
        UserFactory(phone="13900000999")  # the "cause"
        notify(user=user, kind="test.decision", params={"name": "读书会"})
        raise Boom
    assert not Notification.objects.exists()
    assert fcm_standin.requests_to(token) == []


@pytest.mark.django_db(transaction=True)
def test_committed_notification_is_pushed_after_commit(fcm_standin):
    user = UserFactory()
    token = fcm_standin.register_device(user)
    with transaction.atomic():
        notification = notify(user=user, kind="test.decision", params={"name": "老年协会"}, target=user)
        assert fcm_standin.requests_to(token) == []  # nothing leaves before the commit
    [message] = fcm_standin.delivered_to(token)
    assert message["notification"] == {
        "title": "备案已通过：老年协会",
        "body": "你提交的“老年协会”已通过审核。",
    }
    assert message["data"] == {
        "kind": "test.decision",
        "object_type": "accounts.user",
        "object_id": str(user.pk),
        "link": f"/pages/filing/detail?id={user.pk}",
        "notification_id": str(notification.pk),
    }
    assert message["android"]["priority"] == "high"
    notification.refresh_from_db()
    assert notification.push_state == "done" and notification.push_attempts == 1
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert attempt.outcome == "sent" and attempt.message_id.startswith("projects/linli-standin/messages/")


@pytest.mark.django_db
def test_reminders_go_out_at_normal_priority(fcm_standin, run_on_commit, user, settings):
    settings.LINLI_QUIET_HOURS = ("00:00", "00:00")  # no quiet hours, whatever the clock says
    token = fcm_standin.register_device(user)
    with run_on_commit():
        notify(user=user, kind="test.reminder", params={"when": "明天 09:00"})
    [message] = fcm_standin.delivered_to(token)
    assert message["android"]["priority"] == "normal"
    assert message["apns"]["headers"]["apns-priority"] == "5"


@pytest.mark.django_db
def test_every_device_of_the_user_gets_it_once(fcm_standin, run_on_commit, user):
    phone = fcm_standin.register_device(user)
    tablet = fcm_standin.register_device(user, platform="ios")
    fid = fcm_standin.register_device(user, token="ZmlkLWZvci10ZXN0cw", token_type="fid")
    stranger = fcm_standin.register_device(UserFactory())
    with run_on_commit():
        notify(user=user, kind="test.assignment", params={"what": "河道垃圾"})
    assert [len(fcm_standin.delivered_to(t)) for t in (phone, tablet, fid, stranger)] == [1, 1, 1, 0]
    targets = {r["address"]: r["target"] for r in fcm_standin.requests}
    assert targets[fid] == "fid" and targets[phone] == "token"


@pytest.mark.django_db
def test_dedupe_key_notifies_once(fcm_standin, run_on_commit, user):
    token = fcm_standin.register_device(user)
    with run_on_commit():
        first = notify(user=user, kind="test.assignment", params={"what": "A"}, dedupe_key="assign:1")
        second = notify(user=user, kind="test.assignment", params={"what": "A"}, dedupe_key="assign:1")
    assert first is not None and second is None
    assert len(fcm_standin.delivered_to(token)) == 1


@pytest.mark.django_db
def test_without_firebase_credentials_push_is_skipped_and_nothing_is_sent(run_on_commit, user, settings):
    settings.FIREBASE_CREDENTIALS = ""
    with run_on_commit():
        notification = notify(user=user, kind="test.decision", params={"name": "X"})
    notification.refresh_from_db()
    assert notification.push_state == "skipped" and notification.push_note == "push_disabled"
    assert not DeliveryAttempt.objects.exists()


@pytest.mark.django_db
def test_user_without_devices_is_skipped(fcm_standin, run_on_commit, user):
    with run_on_commit():
        notification = notify(user=user, kind="test.decision", params={"name": "X"})
    notification.refresh_from_db()
    assert (notification.push_state, notification.push_note) == ("skipped", "no_devices")
    assert fcm_standin.requests == []


@pytest.mark.django_db
def test_flush_pushes_what_a_db_test_left_pending(fcm_standin, user):
    """For other domains' ``db`` tests, where after-commit callbacks never run."""
    token = fcm_standin.register_device(user)
    notify(user=user, kind="test.decision", params={"name": "X"})
    assert fcm_standin.requests == []
    assert fcm_standin.flush()["sent"] == 1
    assert len(fcm_standin.delivered_to(token)) == 1
