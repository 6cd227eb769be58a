"""Per-kind push preferences: reminders may be muted, decisions and assignments may not."""

from __future__ import annotations

import pytest

from backend.notifications.models import Preference
from backend.notifications.services import notify
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_defaults_list_every_kind_and_lock_decisions(api, user):
    body = api.as_user(user).get("/me/notification-preferences").json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert body["quiet_hours"] is True and body["quiet_start"] == "22:00" and body["quiet_end"] == "07:00"
    assert kinds["test.decision"] == {
        "kind": "test.decision",
        "category": "decision",
        "push": True,
        "locked": True,
    }
    assert kinds["test.reminder"]["locked"] is False


def test_muting_a_reminder_kind(api, user):
    response = api.as_user(user).put(
        "/me/notification-preferences", {"kinds": {"test.reminder": False}, "quiet_hours": False}
    )
    assert response.status_code == 200
    kinds = {k["kind"]: k for k in response.json()["kinds"]}
    assert kinds["test.reminder"]["push"] is False
    assert response.json()["quiet_hours"] is False
    # turning it back on
    response = api.as_user(user).put("/me/notification-preferences", {"kinds": {"test.reminder": True}})
    assert {k["kind"]: k for k in response.json()["kinds"]}["test.reminder"]["push"] is True


@pytest.mark.parametrize(
    ("kind", "code"),
    [("test.decision", "always_on"), ("test.assignment", "always_on"), ("nope.unknown", "unknown_kind")],
)
def test_refused_changes_change_nothing(api, user, kind, code):
    response = api.as_user(user).put(
        "/me/notification-preferences", {"kinds": {"test.reminder": False, kind: False}}
    )
    body = assert_error(response, 422, "invalid_preferences")
    assert [e["code"] for e in body["details"]["errors"]] == [code]
    assert not Preference.objects.filter(user=user).exists()


def test_muted_kind_stays_in_the_inbox_but_is_not_pushed(api, user, fcm_standin, run_on_commit):
    token = fcm_standin.register_device(user)
    api.as_user(user).put("/me/notification-preferences", {"kinds": {"test.info": False}})
    with run_on_commit():
        muted = notify(user=user, kind="test.info", params={"text": "社区新闻"})
        decision = notify(user=user, kind="test.decision", params={"name": "读书会"})
    assert muted.push_state == "skipped" and muted.push_note == "muted"
    assert [m["data"]["kind"] for m in fcm_standin.delivered_to(token)] == ["test.decision"]
    assert decision.pk and api.as_user(user).get("/me/notifications").json()["unread_count"] == 2
