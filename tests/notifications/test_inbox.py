"""The in-app inbox: cursor pages, unread count, read marks."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from backend.notifications.models import InboxCount, Notification
from backend.notifications.services import notify
from tests.factories import UserFactory
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.django_db


def _notes(user, n):
    return [notify(user=user, kind="test.info", params={"text": f"第{i}条"}) for i in range(n)]


def test_inbox_pages_newest_first_with_unread_count(api, user):
    notes = _notes(user, 5)
    _notes(UserFactory(), 2)  # someone else's
    client = api.as_user(user)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = client.get("/me/notifications", params).json()
        assert body["unread_count"] == 5
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [n.pk for n in reversed(notes)]


def test_items_carry_title_body_and_deep_link(api, user):
    notify(user=user, kind="test.decision", params={"name": "老年协会"}, target=user)
    [item] = api.as_user(user).get("/me/notifications").json()["items"]
    assert item["title"] == "备案已通过：老年协会"
    assert item["link"] == f"/pages/filing/detail?id={user.pk}"
    assert item["category"] == "decision" and item["read"] is False


def test_unread_filter_and_read_one(api, user):
    first, second = _notes(user, 2)
    client = api.as_user(user)
    response = client.post(f"/me/notifications/{first.pk}/read")
    assert response.status_code == 200 and response.json()["read"] is True
    body = client.get("/me/notifications", {"unread": "true"}).json()
    assert [i["id"] for i in body["items"]] == [second.pk]
    assert body["unread_count"] == 1


def test_reading_someone_elses_notification_is_not_found(api, user):
    [theirs] = _notes(UserFactory(), 1)
    assert_error(api.as_user(user).post(f"/me/notifications/{theirs.pk}/read"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_marks_only_own(api, user):
    _notes(user, 3)
    [theirs] = _notes(UserFactory(), 1)
    body = api.as_user(user).post("/me/notifications/read-all").json()
    assert body == {"updated": 3, "unread_count": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_bad_cursor_is_a_validation_error(api, user):
    assert_error(api.as_user(user).get("/me/notifications", {"cursor": "!!!"}), 422, "validation_error")


@pytest.mark.parametrize("count", [1, 50])
def test_inbox_query_count_does_not_grow(api, user, count, django_assert_max_num_queries):
    _notes(user, count)
    client = api.as_user(user)
    with django_assert_max_num_queries(4):
        response = client.get("/me/notifications", {"limit": 50})
    assert len(response.json()["items"]) == count


# --- the kept unread count ------------------------------------------------------------------------


def _kept(user) -> int:
    return InboxCount.objects.filter(user=user).values_list("unread", flat=True).first() or 0


def _counted(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def test_the_unread_count_is_kept_through_notify_read_and_read_all(api, user):
    notes = _notes(user, 4)
    notify(user=user, kind="test.info", params={"text": "x"}, dedupe_key="once")
    assert notify(user=user, kind="test.info", params={"text": "x"}, dedupe_key="once") is None
    assert _kept(user) == _counted(user) == 5
    client = api.as_user(user)
    client.post(f"/me/notifications/{notes[0].pk}/read")
    client.post(f"/me/notifications/{notes[0].pk}/read")  # twice: taken off once
    assert _kept(user) == _counted(user) == 4
    assert client.get("/me/notifications").json()["unread_count"] == 4
    assert client.post("/me/notifications/read-all").json() == {"updated": 4, "unread_count": 0}
    assert _kept(user) == _counted(user) == 0


def test_the_inbox_reads_the_kept_count_not_the_rows(api, user, django_assert_num_queries):
    _notes(user, 3)
    client = api.as_user(user)
    client.get("/me/notifications")  # warm: the token check and the page
    InboxCount.objects.filter(user=user).update(unread=42)  # only the kept row can answer this
    with django_assert_num_queries(3):  # token check, page, kept count
        assert client.get("/me/notifications").json()["unread_count"] == 42


def test_a_rolled_back_notification_is_not_counted(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(user=user, kind="test.info", params={"text": "x"})
        raise RuntimeError("the cause failed")
    assert _kept(user) == _counted(user) == 0


def test_the_counters_start_from_the_rows_that_exist():
    """The migration's backfill: the counts of unread rows, users without any get no row."""
    from importlib import import_module

    from django.apps import apps

    users = [UserFactory() for _ in range(3)]
    _notes(users[0], 3)
    _notes(users[1], 1)
    Notification.objects.filter(user=users[1]).update(read_at=timezone.now())
    InboxCount.objects.all().delete()
    import_module("backend.notifications.migrations.0004_inbox_count_and_unread_index").count_unread(
        apps, None
    )
    assert dict(InboxCount.objects.values_list("user_id", "unread")) == {users[0].pk: 3}


@pytest.mark.django_db(transaction=True)
def test_concurrent_notifications_and_reads_keep_the_count_true():
    from tests.volunteers.test_concurrency import burst

    user = UserFactory()
    notes = _notes(user, 6)
    calls = [lambda: notify(user=user.pk, kind="test.info", params={"text": "n"}) for _ in range(6)]
    calls += [lambda n=n: ApiClient(user).post(f"/me/notifications/{n.pk}/read") for n in notes[:4]]
    calls += [lambda: ApiClient(user).post(f"/me/notifications/{notes[0].pk}/read")]
    results = burst(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert _kept(user) == _counted(user) == 8


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_pages_use_the_users_index_on_postgresql(user):
    from django.db import connection as conn

    """The user's rows are the oldest and a small share of the table (as any one user's are):
    walking the primary key backwards would pass every newer row of everyone else."""
    others = [UserFactory() for _ in range(30)]
    rows = [
        Notification(user=u, kind="test.info", category="info", title="t", body="b", read_at=read_at)
        for u, count in [(user, 100)] + [(o, 200) for o in others]
        for read_at in [timezone.now()] * (count - 20) + [None] * 20
    ]
    Notification.objects.bulk_create(rows, batch_size=1000)
    with conn.cursor() as cursor:
        cursor.execute("ANALYZE notifications_notification")
    for unread, index in ((False, "notificatio_user_id_"), (True, "notification_unread")):
        qs = Notification.objects.filter(user_id=user.pk)
        if unread:
            qs = qs.filter(read_at__isnull=True)
        plan = qs.order_by("-pk")[:21].explain()
        assert index in plan and "Sort" not in plan, plan
