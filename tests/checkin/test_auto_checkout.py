"""Daily automatic check-out per list: set through the API, run by the scheduler's job at the
list's local time; exits marked ``auto`` on rows, the feed and the stats; volunteers' stays end
then; idempotent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.accounts.models import Role
from backend.checkin import jobs, services
from backend.checkin.models import Checkin, CheckinList, EventSequence
from backend.checkin.services.checkout import auto_checkout_due
from backend.notifications.scheduler import run_job
from backend.volunteers.models import ServiceRecord, Signup
from tests.checkin import factories as f
from tests.helpers import assert_error
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db


def local(day, hh, mm=0):
    return timezone.make_aware(datetime.combine(day, time(hh, mm)))


def test_coordinator_sets_and_clears_the_auto_checkout_time(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    lst = ev.lists.get()
    path = f"/events/{ev.pk}/lists/{lst.pk}"
    r = api.as_user(coordinator).patch(path, {"auto_checkout_at": "23:30"})
    assert r.status_code == 200 and r.json()["auto_checkout_at"] == "23:30"
    lst.refresh_from_db()
    assert lst.auto_checkout_at == time(23, 30)
    assert api.as_user(coordinator).patch(path, {"auto_checkout_at": None}).json()["auto_checkout_at"] is None
    body = assert_error(
        api.as_user(coordinator).patch(path, {"auto_checkout_at": "23:30+00:00"}), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["field"] == "auto_checkout_at"
    assert (
        api.as_user(coordinator).patch(path, {"auto_checkout_at": "23:30+08:00"}).json()["auto_checkout_at"]
        == "23:30"
    )
    assert_error(
        api.as_user(f.staff(ev, Role.SCANNER)).patch(path, {"auto_checkout_at": "22:00"}), 404, "not_found"
    )
    assert_error(
        api.as_user(coordinator).patch(f"/events/{ev.pk}/lists/999999", {"auto_checkout_at": None}),
        404,
        "not_found",
    )


def test_a_list_is_created_with_its_auto_checkout_time(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    r = api.as_user(coordinator).post(f"/events/{ev.pk}/lists", {"name": "夜场", "auto_checkout_at": "02:00"})
    assert (
        r.status_code == 201 and r.json()["auto_checkout_at"] == "02:00" and r.json()["auto_checked_out"] == 0
    )


def test_the_check_out_due_is_todays_after_its_time_else_yesterdays_once():
    ev = f.event()
    lst = ev.lists.get()
    lst.auto_checkout_at = time(22, 0)
    today = timezone.localdate()
    assert auto_checkout_due(lst=lst, now=local(today, 22, 5)) == (today, local(today, 22))
    yesterday = today - timedelta(days=1)
    assert auto_checkout_due(lst=lst, now=local(today, 9)) == (yesterday, local(yesterday, 22))
    lst.auto_checkout_last_day = yesterday
    assert auto_checkout_due(lst=lst, now=local(today, 9)) is None


def _inside_at(ev, when):
    """An attendee who entered ``when``."""
    p = f.attendee(ev, "王小明")
    assert f.redeem(ev, p.secret, scanned_at=when).row.status == "ok"
    return p


def test_job_checks_out_everybody_inside_at_the_lists_time_marked_auto(api):
    now = timezone.now().replace(microsecond=0)
    ev = f.event(starts_at=now - timedelta(hours=3), opens_in=timedelta(hours=-4), hours=10)
    lst = ev.lists.get()
    cutoff = now - timedelta(minutes=10)
    CheckinList.objects.filter(pk=lst.pk).update(auto_checkout_at=timezone.localtime(cutoff).time())
    early, also = _inside_at(ev, now - timedelta(hours=2)), _inside_at(ev, now - timedelta(hours=1))
    late = _inside_at(ev, now - timedelta(minutes=5))  # entered after the check-out time
    outcome = run_job(name="checkin.list_auto_checkout")
    assert outcome.ok and outcome.result == {"lists": 1, "checked_out": 2}
    rows = list(Checkin.objects.filter(event=ev, source="auto").order_by("seq"))
    assert [(r.pass_obj_id, r.kind, r.status, r.device) for r in rows] == [
        (early.pk, "exit", "ok", "auto-checkout"),
        (also.pk, "exit", "ok", "auto-checkout"),
    ]
    assert all(r.scanned_at == cutoff for r in rows)
    assert EventSequence.objects.get(pk=ev.pk).inside == 1  # the late one is still inside
    late.refresh_from_db()
    assert late.inside_lists == 1
    coordinator = f.staff(ev, Role.COORDINATOR)
    stats = api.as_user(coordinator).get(f"/events/{ev.pk}/stats").json()
    assert stats["auto_checked_out"] == 2 and stats["by_list"][0]["auto_checked_out"] == 2
    feed = api.as_user(coordinator).get(f"/events/{ev.pk}/checkins").json()["items"]
    assert [m["source"] for m in feed if m["kind"] == "exit"] == ["auto", "auto"]


def test_running_again_the_same_day_checks_out_nobody(api):
    now = timezone.now().replace(microsecond=0)
    ev = f.event(starts_at=now - timedelta(hours=3), opens_in=timedelta(hours=-4), hours=10)
    CheckinList.objects.filter(event=ev).update(
        auto_checkout_at=timezone.localtime(now - timedelta(minutes=1)).time()
    )
    _inside_at(ev, now - timedelta(hours=1))
    assert jobs.auto_checkout_lists() == {"lists": 1, "checked_out": 1}
    assert jobs.auto_checkout_lists() == {"lists": 0, "checked_out": 0}
    # Even if the day mark were lost, the exits' nonces make a rerun record nothing new.
    lst = CheckinList.objects.get(event=ev)
    assert (
        services.list_auto_checkout(
            lst=lst, day=lst.auto_checkout_last_day, moment=now - timedelta(minutes=1)
        )
        == 0
    )
    assert Checkin.objects.filter(event=ev, source="auto").count() == 1
    assert CheckinList.objects.get(event=ev).auto_checked_out == 1


def test_a_volunteers_attendance_closes_at_the_check_out_time():
    now = timezone.now().replace(microsecond=0)
    org = vf.organisation()
    shift = vf.shift(vf.activity(org), starts_at=now - timedelta(hours=3), hours=6)
    signup = Signup.objects.create(shift=shift, user=vf.volunteer(), status=Signup.Status.CONFIRMED)
    ev = f.event(
        org=org,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        checkin_opens_at=shift.starts_at - timedelta(hours=1),
    )
    (p,) = services.event_shifts_link(event=ev, shifts=[shift])
    f.redeem(ev, p.secret, scanned_at=now - timedelta(hours=2))
    cutoff = now - timedelta(minutes=30)
    CheckinList.objects.filter(event=ev).update(auto_checkout_at=timezone.localtime(cutoff).time())
    assert jobs.auto_checkout_lists()["checked_out"] == 1
    record = ServiceRecord.objects.get(signup=signup)
    assert (record.started_at, record.ended_at) == (now - timedelta(hours=2), cutoff)
    assert record.hours == Decimal("1.5")


def test_lists_without_a_time_or_of_closed_events_are_left_alone():
    now = timezone.now().replace(microsecond=0)
    ev = f.event(starts_at=now - timedelta(hours=3), opens_in=timedelta(hours=-4), hours=10)
    _inside_at(ev, now - timedelta(hours=1))
    assert jobs.auto_checkout_lists() == {"lists": 0, "checked_out": 0}
    CheckinList.objects.filter(event=ev).update(auto_checkout_at=timezone.localtime(now).time())
    ev.closed_at = now
    ev.save(update_fields=["closed_at"])
    assert jobs.auto_checkout_lists() == {"lists": 0, "checked_out": 0}
