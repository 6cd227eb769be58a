"""End-to-end notification hooks of volunteers: cause through the API or a job, outbox, stand-in FCM."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.helpers import ApiClient
from tests.notifications.hooks.support import (
    Boom,
    expect_nothing,
    expect_push,
    phone,
    raw_client,
    run_job,
    travel,
    vf,
)

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


# === volunteers (issue 4) ========================================================================


def sign_up(user, shift) -> dict:
    r = ApiClient(user).post(f"/shifts/{shift.pk}/signups")
    assert r.status_code == 201, r.json()
    return r.json()


def waitlisted_shift():
    """A one-place shift: ``holder`` has the place, ``first`` and ``second`` wait."""
    f = vf()
    shift = f.shift(capacity=1, waitlist_size=2, starts_in=timedelta(days=3))
    holder, first, second = f.volunteer(), f.volunteer(name="李小四"), f.volunteer(name="王小五")
    held = sign_up(holder, shift)
    assert sign_up(first, shift)["status"] == "waitlisted"
    assert sign_up(second, shift)["status"] == "waitlisted"
    return shift, holder, held, first, second


@pytest.mark.django_db(transaction=True)
def test_promotion_from_the_waitlist_is_pushed_with_its_confirm_by_time(fcm_standin):
    from backend.volunteers.models import Signup

    shift, holder, held, first, second = waitlisted_shift()
    promoted_phone, waiting_phone = phone(fcm_standin, first), phone(fcm_standin, second)
    r = ApiClient(holder).delete(f"/signups/{held['id']}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.json()
    promoted = Signup.objects.get(user=first, shift=shift)
    assert promoted.status == "promoted"
    note = expect_push(promoted_phone, "signup.promoted", promoted, urgent=True)
    assert timezone.localtime(promoted.confirm_by).strftime("%m-%d %H:%M") in note.body
    assert shift.activity.title in note.title
    assert promoted_phone.new_kinds() == ["signup.promoted"]
    assert waiting_phone.new_requests() == []


@pytest.mark.django_db(transaction=True)
def test_cancellation_that_fails_after_the_promotion_notice_sends_nothing(fcm_standin, monkeypatch):
    from backend.volunteers.models import Shift, Signup
    from backend.volunteers.services import waitlist as services

    shift, holder, held, first, _ = waitlisted_shift()
    promoted_phone = phone(fcm_standin, first)
    real_changed, real_notify, written = services._changed, services.notify, []

    def notify(**kwargs):
        written.append(real_notify(**kwargs))
        return written[-1]

    def changed(signup, *, actor, action, data=None):
        if action == "signup.promoted":
            raise Boom("after notify()")
        return real_changed(signup, actor=actor, action=action, data=data)

    monkeypatch.setattr(services, "_changed", changed)
    monkeypatch.setattr(services, "notify", notify)
    r = raw_client(ApiClient(holder)).delete(f"/signups/{held['id']}")
    assert r.status_code == 500
    assert [n.kind for n in written] == ["signup.promoted"]  # the row was written, then rolled back
    assert Signup.objects.get(pk=held["id"]).status == "confirmed"
    assert Signup.objects.get(user=first, shift=shift).status == "waitlisted"
    assert Shift.objects.values_list("taken", "waitlisted").get(pk=shift.pk) == (1, 2)
    expect_nothing("signup.promoted", promoted_phone)


def test_lapsed_promotion_is_pushed_and_passes_on(settings, fcm_standin, committed):
    from backend.volunteers.models import Signup

    settings.LINLI_VOLUNTEER_PROMOTION_CONFIRM_SECONDS = 3600
    shift, holder, held, first, second = waitlisted_shift()
    ApiClient(holder).delete(f"/signups/{held['id']}")
    lapsed = Signup.objects.get(user=first, shift=shift)
    first_phone, second_phone = phone(fcm_standin, first), phone(fcm_standin, second)
    with travel(lapsed.confirm_by + timedelta(minutes=5)), committed():
        run_job("volunteers.expire_promotions")
        run_job("volunteers.expire_promotions")
    expect_push(first_phone, "signup.promotion_expired", lapsed)
    next_in_line = Signup.objects.get(user=second, shift=shift, status="promoted")
    expect_push(second_phone, "signup.promoted", next_in_line, urgent=True)
    assert (first_phone.new_kinds(), second_phone.new_kinds()) == (
        ["signup.promotion_expired"],
        ["signup.promoted"],
    )


def test_shift_reminder_is_pushed_the_day_before(fcm_standin, committed):
    from backend.volunteers.models import Signup

    f = vf()
    vol = f.volunteer()
    shift = f.shift(starts_at=MORNING + timedelta(hours=23))
    sign_up(vol, shift)
    signup = Signup.objects.get(user=vol, shift=shift)
    ph = phone(fcm_standin, vol)
    with committed():
        run_job("volunteers.shift_reminders")
        run_job("volunteers.shift_reminders")  # once per window
    note = expect_push(ph, "shift.reminder", signup)
    assert "11-18 09:00" in note.body and shift.activity.place in note.body
    assert ph.new_kinds() == ["shift.reminder"]


def test_no_show_ban_reaches_the_volunteer(settings, fcm_standin, committed):
    from backend.volunteers.models import Shift, Signup, VolunteerProfile

    settings.LINLI_VOLUNTEER_NO_SHOW_LIMIT = 1
    f = vf()
    org = f.organisation()
    coordinator, vol = f.coordinator_of(org), f.volunteer()
    shift = f.shift(f.activity(org))
    signup = Signup.objects.create(shift=shift, user=vol, status="confirmed")
    Shift.objects.filter(pk=shift.pk).update(starts_at=timezone.now() - timedelta(hours=1), taken=1)
    ph = phone(fcm_standin, vol)
    with committed():
        r = ApiClient(coordinator).post(f"/signups/{signup.pk}/no-show")
    assert r.status_code == 200, r.json()
    note = expect_push(ph, "volunteer.banned", VolunteerProfile.objects.get(user=vol))
    assert "1 次" in note.body
    assert ph.new_kinds() == ["volunteer.banned"]


def _started_shift(org):
    from backend.volunteers.models import Shift

    f = vf()
    shift = f.shift(f.activity(org))
    start = timezone.now().replace(microsecond=0) - timedelta(hours=4)
    Shift.objects.filter(pk=shift.pk).update(starts_at=start, ends_at=start + timedelta(hours=3), taken=1)
    shift.refresh_from_db()
    return shift


def test_hours_over_the_daily_limit_tell_the_volunteer_they_wait_for_review(settings, fcm_standin, committed):
    from backend.volunteers.models import ServiceRecord, Signup

    settings.LINLI_VOLUNTEER_DAILY_VALID_HOURS = 2
    f = vf()
    org = f.organisation()
    coordinator, vol = f.coordinator_of(org), f.volunteer()
    shift = _started_shift(org)
    signup = Signup.objects.create(shift=shift, user=vol, status="confirmed")
    ph = phone(fcm_standin, vol)
    with committed():
        r = ApiClient(coordinator).post(
            f"/signups/{signup.pk}/attendance",
            {"checked_in_at": shift.starts_at.isoformat(), "checked_out_at": shift.ends_at.isoformat()},
        )
    assert r.status_code == 201 and r.json()["status"] == "pending", r.json()
    note = expect_push(ph, "service_record.pending", ServiceRecord.objects.get(pk=r.json()["id"]))
    assert "3 小时" in note.body or "3.0 小时" in note.body
    assert ph.new_kinds() == ["service_record.pending"]


def test_decision_on_pending_hours_reaches_the_volunteer(settings, fcm_standin, committed):
    from backend.volunteers.services import service_record_create

    settings.LINLI_VOLUNTEER_DAILY_VALID_HOURS = 2
    f = vf()
    org = f.organisation()
    coordinator, vol = f.coordinator_of(org), f.volunteer()
    start = timezone.now().replace(microsecond=0) - timedelta(hours=4)
    record = service_record_create(
        user=vol,
        organisation=org,
        source="checkin",
        started_at=start,
        ended_at=start + timedelta(hours=3),
        place="U站",
        content="引导服务",
        external_ref="hooks-pending-1",
    )
    assert record.status == "pending"
    ph = phone(fcm_standin, vol)
    with committed():
        r = ApiClient(coordinator).post(f"/service-records/{record.pk}/approve", {"evaluation": "认真负责"})
    assert r.status_code == 200 and r.json()["status"] == "valid", r.json()
    note = expect_push(ph, "service_record.decided", record)
    assert "已通过" in note.body
    assert ph.new_kinds() == ["service_record.decided"]
