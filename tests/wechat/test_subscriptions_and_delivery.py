"""Subscription consent as message credits, and notifications reaching WeChat users.

The cause of the notification goes through the real API (a coordinator adds a pass for a
person); the delivery runs as a commit runs it (immediate task backend), through the real
client, against the stand-in, which checks each message's template, typed fields and the
user's remaining consent as WeChat does.
"""

from __future__ import annotations

import re

import pytest

from backend.notifications.models import DeliveryAttempt, Notification
from backend.wechat.models import Subscription, WeChatAccount
from tests.helpers import ApiClient, assert_error
from tests.wechat.conftest import DECISION_TEMPLATE, PASS_TEMPLATE, sign_in

pytestmark = pytest.mark.django_db

OPENID = "oWeChatOnly00000000000000000001"
PHONE = "13600136000"


def wechat_user(api, standin, *, accepts: int = 1) -> ApiClient:
    """A person who only ever used the mini-program, and accepted the pass template."""
    body = sign_in(api, standin, openid=OPENID, phone=PHONE)
    client = ApiClient()
    client.token = body["access_token"]
    if accepts:
        for _ in range(accepts):
            standin.user_accepts(OPENID, PASS_TEMPLATE)
            r = client.post("/me/wechat/subscriptions", {"results": {PASS_TEMPLATE: "accept"}})
            assert r.status_code == 200, r.json()
    return client


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    """Quiet hours (22:00-07:00 Asia/Shanghai) hold pushes for the morning: these tests deliver
    whatever the clock says (tests/notifications/test_quiet_hours.py covers the hold)."""
    settings.LINLI_QUIET_HOURS = ("00:00", "00:00")


def add_pass(django_capture_on_commit_callbacks, title: str = "社区义诊") -> Notification:
    from tests.checkin import factories as cf
    from tests.volunteers import factories as vf

    org = vf.organisation()
    event = cf.event(org=org, title=title)
    coordinator = vf.coordinator_of(org)
    with django_capture_on_commit_callbacks(execute=True):
        r = ApiClient(coordinator).post(
            f"/events/{event.pk}/passes", {"holder_name": "王小明", "holder_phone": PHONE}
        )
    assert r.status_code == 201, r.json()
    return Notification.objects.get(kind="checkin.pass_issued", user__phone=PHONE)


def test_each_accept_of_a_one_time_template_is_one_credit(api, wechat):
    client = wechat_user(api, wechat, accepts=2)
    items = {i["template_id"]: i for i in client.get("/me/wechat/subscriptions").json()["items"]}
    assert items[PASS_TEMPLATE]["credits"] == 2 and items[PASS_TEMPLATE]["long_term"] is False
    assert items[PASS_TEMPLATE]["kinds"] == ["checkin.pass_issued"]
    assert items[DECISION_TEMPLATE]["long_term"] is True and items[DECISION_TEMPLATE]["answer"] is None
    client.post(
        "/me/wechat/subscriptions", {"results": {PASS_TEMPLATE: "reject", DECISION_TEMPLATE: "accept"}}
    )
    items = {i["template_id"]: i for i in client.get("/me/wechat/subscriptions").json()["items"]}
    assert items[PASS_TEMPLATE]["credits"] == 2  # earlier acceptances stay valid
    assert items[DECISION_TEMPLATE]["answer"] == "accept"
    client.post("/me/wechat/subscriptions", {"results": {PASS_TEMPLATE: "ban"}})
    assert Subscription.objects.get(template_id=PASS_TEMPLATE).credits == 0


def test_an_unknown_template_is_422_and_nothing_is_recorded(api, wechat):
    client = wechat_user(api, wechat, accepts=0)
    r = client.post(
        "/me/wechat/subscriptions", {"results": {"TPL-unknown": "accept", PASS_TEMPLATE: "accept"}}
    )
    body = assert_error(r, 422, "validation_error")
    assert body["details"]["errors"][0]["field"] == "results.TPL-unknown"
    assert not Subscription.objects.exists()


def test_an_answer_outside_wechats_four_is_422(api, wechat):
    client = wechat_user(api, wechat, accepts=0)
    assert client.post("/me/wechat/subscriptions", {"results": {PASS_TEMPLATE: "maybe"}}).status_code == 422


def test_reporting_consent_needs_a_bound_wechat(api, wechat):
    from tests.factories import UserFactory

    client = api.as_user(UserFactory())
    assert_error(
        client.post("/me/wechat/subscriptions", {"results": {PASS_TEMPLATE: "accept"}}),
        404,
        "wechat_not_bound",
    )


def test_a_notification_reaches_a_wechat_only_user_once_and_uses_one_credit(
    api, wechat, django_capture_on_commit_callbacks
):
    wechat_user(api, wechat, accepts=1)
    note = add_pass(django_capture_on_commit_callbacks)
    assert len(wechat.state.sent) == 1
    sent = wechat.state.sent[0]
    assert sent.openid == OPENID and sent.template_id == PASS_TEMPLATE
    assert sent.page == f"pages/checkin/pass?id={note.data['object_id']}"
    assert sent.data["thing1"] == "社区义诊" and sent.data["phrase4"] == "已生成"
    assert re.fullmatch(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}", sent.data["time2"]), sent.data
    assert Subscription.objects.get(template_id=PASS_TEMPLATE).credits == 0
    assert wechat.consent_left(OPENID, PASS_TEMPLATE) == 0
    note.refresh_from_db()
    assert note.push_state == Notification.PushState.DONE
    (attempt,) = DeliveryAttempt.objects.filter(notification=note)
    assert attempt.channel == "wechat" and attempt.outcome == "sent"
    # Delivering again (a sweep, a second worker) sends nothing more.
    from backend.notifications.delivery import deliver

    Notification.objects.filter(pk=note.pk).update(push_state="pending")
    deliver(notification_ids=[note.pk])
    assert len(wechat.state.sent) == 1


def test_without_a_credit_nothing_goes_to_wechat_and_the_inbox_still_has_it(
    api, wechat, django_capture_on_commit_callbacks
):
    client = wechat_user(api, wechat, accepts=0)
    note = add_pass(django_capture_on_commit_callbacks)
    assert wechat.state.sent == [] and wechat.calls("cgi-bin/message/subscribe/send") == []
    note.refresh_from_db()
    assert note.push_state == Notification.PushState.SKIPPED
    inbox = client.get("/me/notifications").json()["items"]
    assert [n["kind"] for n in inbox] == ["checkin.pass_issued"]


def test_a_user_who_withdrew_consent_on_wechat_uses_the_credit_up(
    api, wechat, django_capture_on_commit_callbacks
):
    wechat_user(api, wechat, accepts=1)
    wechat.state.consent.clear()  # WeChat knows of no consent (43101)
    note = add_pass(django_capture_on_commit_callbacks)
    assert wechat.state.sent == []
    (attempt,) = DeliveryAttempt.objects.filter(notification=note)
    assert attempt.outcome == "refused" and attempt.error_code == "43101"
    assert Subscription.objects.get(template_id=PASS_TEMPLATE).credits == 0
    note.refresh_from_db()
    assert note.push_state == Notification.PushState.SKIPPED  # the inbox has it


def test_an_openid_wechat_no_longer_knows_is_unbound(api, wechat, django_capture_on_commit_callbacks):
    wechat_user(api, wechat, accepts=1)
    wechat.state.openids.discard(OPENID)
    add_pass(django_capture_on_commit_callbacks)
    assert not WeChatAccount.objects.exists()
    assert not Subscription.objects.exists()


def test_busy_wechat_is_retried_later_and_the_message_arrives_once(
    api, wechat, settings, django_capture_on_commit_callbacks
):
    from backend.notifications.delivery import deliver

    wechat_user(api, wechat, accepts=1)
    wechat.fail("cgi-bin/message/subscribe/send", -1)
    note = add_pass(django_capture_on_commit_callbacks)
    note.refresh_from_db()
    assert note.push_note == "retrying" and wechat.state.sent == []
    Notification.objects.filter(pk=note.pk).update(push_after=None)
    deliver(notification_ids=[note.pk])
    assert len(wechat.state.sent) == 1
    outcomes = list(
        DeliveryAttempt.objects.filter(notification=note).order_by("pk").values_list("outcome", flat=True)
    )
    assert outcomes == ["transient", "sent"]
    assert Subscription.objects.get(template_id=PASS_TEMPLATE).credits == 0


def test_long_texts_are_cut_to_wechats_field_limits(api, wechat, django_capture_on_commit_callbacks):
    wechat_user(api, wechat, accepts=1)
    add_pass(
        django_capture_on_commit_callbacks, title="深圳市龙华区民治街道二〇二六年冬季社区义诊与健康咨询活动"
    )
    (sent,) = wechat.state.sent
    assert len(sent.data["thing1"]) == 20 and sent.data["thing1"].endswith("…")
    assert len(sent.data["thing3"]) <= 20
