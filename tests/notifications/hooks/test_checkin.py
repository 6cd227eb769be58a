"""End-to-end notification hooks of checkin: cause through the API or a job, outbox, stand-in FCM."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.notifications.kinds import get_kind
from backend.notifications.models import Notification
from tests.factories import UserFactory
from tests.helpers import ApiClient
from tests.notifications.hooks.support import expect_nothing, expect_push, phone, run_job, travel, vf

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


# === event check-in (issue 6) ====================================================================


def event_with_coordinator(**kwargs):
    from tests.checkin import factories as cf

    f = vf()
    org = f.organisation()
    return cf.event(org=org, **kwargs), f.coordinator_of(org)


def test_pass_added_by_the_coordinator_reaches_its_holder(fcm_standin, committed):
    from backend.checkin.models import Pass

    event, coordinator = event_with_coordinator()
    holder = UserFactory(phone="13700001111")
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(
            f"/events/{event.pk}/passes", {"holder_name": "王小明", "holder_phone": "13700001111"}
        )
    assert r.status_code == 201, r.json()
    pass_obj = Pass.objects.get(pk=r.json()["id"])
    assert pass_obj.holder_id == holder.pk
    note = expect_push(ph, "checkin.pass_issued", pass_obj)
    assert event.title in note.title
    assert ph.new_kinds() == ["checkin.pass_issued"]


def test_reissued_pass_reaches_its_holder(fcm_standin, committed):
    from tests.checkin import factories as cf

    event, coordinator = event_with_coordinator()
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(f"/events/{event.pk}/passes/{pass_obj.pk}/reissue")
    assert r.status_code == 200, r.json()
    expect_push(ph, "checkin.pass_reissued", pass_obj)
    assert ph.new_kinds() == ["checkin.pass_reissued"]


def test_voided_pass_reaches_its_holder(fcm_standin, committed):
    from tests.checkin import factories as cf

    event, coordinator = event_with_coordinator()
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(f"/events/{event.pk}/passes/{pass_obj.pk}/void", {"reason": "重复"})
        again = ApiClient(coordinator).post(
            f"/events/{event.pk}/passes/{pass_obj.pk}/void", {"reason": "重复"}
        )  # idempotent: no second notice
    assert r.status_code == 200 and again.status_code == 200, r.json()
    expect_push(ph, "checkin.pass_voided", pass_obj)
    assert ph.new_kinds() == ["checkin.pass_voided"]


def test_reissuing_a_voided_pass_is_refused_and_sends_nothing(fcm_standin, committed):
    from backend.checkin import services
    from tests.checkin import factories as cf

    event, coordinator = event_with_coordinator()
    holder = UserFactory()
    pass_obj = services.pass_void(pass_obj=cf.attendee(event, holder=holder))
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(f"/events/{event.pk}/passes/{pass_obj.pk}/reissue")
    assert r.status_code == 409, r.json()
    expect_nothing("checkin.pass_reissued", ph)


def test_event_starting_soon_is_pushed_to_its_pass_holders(fcm_standin, committed):
    """Expected: before an event starts, the check-in jobs remind each pass holder (a reminder
    kind of the check-in domain about the pass or the event, pushed once)."""
    from backend.notifications.scheduler import discover_jobs
    from tests.checkin import factories as cf

    event, _ = event_with_coordinator(starts_at=MORNING + timedelta(hours=2), opens_in=timedelta(hours=1))
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    ph = phone(fcm_standin, holder)
    names = sorted(n for n in discover_jobs() if n.startswith("checkin."))
    with travel(MORNING + timedelta(hours=1, minutes=10)), committed():
        for name in names:
            run_job(name)
    reminders = [
        n
        for n in Notification.objects.filter(user=holder, kind__startswith="checkin.")
        if get_kind(n.kind).category == "reminder"
    ]
    assert len(reminders) == 1, [n.kind for n in Notification.objects.filter(user=holder)]
    target = pass_obj if reminders[0].data["object_type"] == "checkin.pass" else event
    expect_push(ph, reminders[0].kind, target)
