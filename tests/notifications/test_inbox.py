"""The in-app inbox: cursor pages, unread count, read marks."""

from __future__ import annotations

import pytest

from backend.notifications.models import Notification
from backend.notifications.services import notify
from tests.factories import UserFactory
from tests.helpers import assert_error

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
