"""Sending: per-token outcomes, dead tokens, retries with backoff and a cap, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from firebase_admin import messaging

from backend.accounts.services import session_logout
from backend.notifications import delivery
from backend.notifications.models import DeliveryAttempt, Device, Notification
from backend.notifications.services import device_register, notify
from tests.factories import UserFactory

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _notify(user, **kw):
    return notify(user=user, kind="test.assignment", params={"what": "巡河"}, **kw)


@pytest.fixture
def noted(fcm_standin, run_on_commit, user):
    """``make(*tokens)``: register tokens for ``user``, notify, run after-commit delivery."""

    def make(*tokens):
        for token in tokens:
            fcm_standin.register_device(user, token=token)
        with run_on_commit():
            notification = _notify(user)
        notification.refresh_from_db()
        return notification

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("error", ["unregistered", "invalid", "sender_mismatch"])
def test_dead_tokens_are_deleted(fcm_standin, noted, error):
    fcm_standin.fail("dead-token-0001", error)
    notification = noted("dead-token-0001", "live-token-0001")
    assert not Device.objects.filter(token="dead-token-0001").exists()
    assert Device.objects.filter(token="live-token-0001").exists()
    outcomes = dict(DeliveryAttempt.objects.values_list("device__token", "outcome"))
    assert outcomes == {
        None: "unregistered" if error == "unregistered" else "invalid",
        "live-token-0001": "sent",
    }
    assert notification.push_state == "done"


@pytest.mark.django_db
def test_only_dead_tokens_means_skipped(fcm_standin, noted):
    fcm_standin.fail("dead-token-0002", "unregistered")
    notification = noted("dead-token-0002")
    assert (notification.push_state, notification.push_note) == ("skipped", "no_devices")
    assert not Device.objects.exists()


def test_backoff_doubles_and_is_capped(settings):
    settings.LINLI_PUSH_BACKOFF_BASE = 30
    settings.LINLI_PUSH_BACKOFF_MAX = 600
    assert [delivery.backoff_delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    assert delivery.backoff_delay(1, retry_after=90).total_seconds() == 90


@pytest.mark.django_db
def test_quota_error_retries_only_the_failed_token_after_backoff(fcm_standin, noted, settings):
    settings.LINLI_PUSH_BACKOFF_BASE = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fcm_standin.fail("busy-token-0001", "quota", times=1)
        notification = noted("busy-token-0001", "fine-token-0001")
        assert notification.push_state == "pending" and notification.push_attempts == 1
        assert notification.push_after == start + timedelta(seconds=30)
        # Not due yet: nothing is sent again.
        assert delivery.deliver(notification_ids=[notification.pk]).claimed == 0
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        report = delivery.deliver(notification_ids=[notification.pk])
    assert report.sent == 1 and report.done == [notification.pk]
    assert len(fcm_standin.delivered_to("fine-token-0001")) == 1
    assert len(fcm_standin.delivered_to("busy-token-0001")) == 1
    assert len(fcm_standin.requests_to("busy-token-0001")) == 2
    rows = list(
        DeliveryAttempt.objects.filter(token_hash=delivery.token_hash("busy-token-0001"))
        .order_by("attempt")
        .values_list("attempt", "outcome", "error_code")
    )
    assert rows == [(1, "transient", "QUOTA_EXCEEDED"), (2, "sent", "")]


@pytest.mark.django_db
def test_server_error_is_retried_by_the_sdk_then_by_us(fcm_standin, noted):
    fcm_standin.fail("flaky-token-001", "internal")
    notification = noted("flaky-token-001")
    # firebase-admin itself retries HTTP 500 four times before giving up.
    assert len(fcm_standin.requests_to("flaky-token-001")) == 5
    assert notification.push_state == "pending" and notification.push_note == "retrying"
    fcm_standin.heal("flaky-token-001")
    with time_machine.travel(notification.push_after + timedelta(seconds=1), tick=False):
        delivery.deliver(notification_ids=[notification.pk])
    assert len(fcm_standin.delivered_to("flaky-token-001")) == 1


@pytest.mark.django_db
def test_transient_failures_give_up_at_the_cap(fcm_standin, noted, settings):
    settings.LINLI_PUSH_MAX_ATTEMPTS = 3
    fcm_standin.fail("down-token-0001", "unavailable")
    notification = noted("down-token-0001")
    for _ in range(2):
        with time_machine.travel(notification.push_after + timedelta(seconds=1), tick=False):
            delivery.deliver(notification_ids=[notification.pk])
        notification.refresh_from_db()
    assert (notification.push_state, notification.push_note, notification.push_attempts) == (
        "failed",
        "gave_up",
        3,
    )
    assert DeliveryAttempt.objects.filter(outcome="transient").count() == 3
    assert Device.objects.filter(
        token="down-token-0001"
    ).exists()  # a transient error is no reason to drop it


@pytest.mark.django_db
def test_delivering_again_sends_nothing_new(fcm_standin, noted):
    notification = noted("once-token-0001")
    Notification.objects.filter(pk=notification.pk).update(push_state="pending")  # e.g. a sweep racing
    delivery.deliver(notification_ids=[notification.pk])
    assert len(fcm_standin.requests_to("once-token-0001")) == 1


@pytest.mark.django_db
def test_an_attempt_cut_short_is_never_repeated(fcm_standin, user):
    """A worker that died after reserving the address (maybe after FCM accepted) must not resend."""
    fcm_standin.register_device(user, token="crash-token-001")
    notification = _notify(user)
    DeliveryAttempt.objects.create(
        notification=notification,
        device=Device.objects.get(token="crash-token-001"),
        token_hash=delivery.token_hash("crash-token-001"),
        attempt=1,
        run="dead-worker",
        outcome="sending",
    )
    report = delivery.deliver(notification_ids=[notification.pk])
    assert fcm_standin.requests == []
    assert report.done == [notification.pk]


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_token_once(fcm_standin, monkeypatch):
    user = UserFactory()
    for i in range(3):
        fcm_standin.register_device(user, token=f"parallel-token-{i}")
    # No after-commit task: the four workers below are the only senders.
    monkeypatch.setattr(delivery, "enqueue", lambda **kw: False)
    notification = _notify(user)
    barrier = threading.Barrier(4)

    def work():
        try:
            barrier.wait(timeout=5)
            delivery.deliver(notification_ids=[notification.pk])
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r["address"] for r in fcm_standin.requests) == [f"parallel-token-{i}" for i in range(3)]
    assert DeliveryAttempt.objects.filter(outcome="sent").count() == 3


@pytest.mark.django_db
def test_batches_hold_at_most_the_batch_size(fcm_standin, run_on_commit, user, settings, monkeypatch):
    settings.LINLI_PUSH_BATCH_SIZE = 2
    sizes = []
    real = messaging.send_each

    def spy(messages, *args, **kwargs):
        sizes.append(len(messages))
        return real(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each", spy)
    tokens = [fcm_standin.register_device(user, token=f"batch-token-{i}") for i in range(5)]
    with run_on_commit():
        _notify(user)
    assert sizes == [2, 2, 1]
    assert all(len(fcm_standin.delivered_to(t)) == 1 for t in tokens)


def test_batch_size_never_exceeds_fcm_limit(settings):
    from backend.notifications import conf

    settings.LINLI_PUSH_BATCH_SIZE = 10_000
    assert conf.batch_size() == 500


@pytest.mark.django_db
def test_phones_of_ended_sessions_get_nothing_and_are_forgotten(fcm_standin, run_on_commit, user):
    from backend.accounts.models import AuthSession

    session = AuthSession.objects.create(user=user, method="test")
    device_register(user=user, token="gone-token-0001", platform="android", session=session)
    session_logout(session=session)
    with run_on_commit():
        _notify(user)
    assert fcm_standin.requests == []
    assert not Device.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_database_task_backend_sends_through_the_worker(fcm_standin, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS
    user = UserFactory()
    fcm_standin.register_device(user, token="worker-token-01")
    fcm_standin.fail("worker-token-01", "quota", times=1)
    notification = _notify(user, urgent=True)
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "backend.notifications.tasks.send_notification"
    assert queued.priority == 10  # urgent
    assert fcm_standin.requests == []  # the request cycle sends nothing itself

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    notification.refresh_from_db()
    assert notification.push_state == "pending"
    retry = DBTaskResult.objects.exclude(pk=queued.pk).get()
    assert retry.run_after == notification.push_after  # deferred by the backoff

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert len(fcm_standin.requests) == 1  # the retry waits for its time
    with time_machine.travel(retry.run_after + timedelta(seconds=1), tick=False):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    notification.refresh_from_db()
    assert notification.push_state == "done"
    assert len(fcm_standin.delivered_to("worker-token-01")) == 1
