"""Attendance cannot be recorded for service that has not happened, nor outside its shift."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.volunteers.models import ServiceRecord, Shift, Signup
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db


def _signup(org, vol, *, starts_in: timedelta, hours: int = 3) -> Signup:
    shift = f.shift(f.activity(org), starts_in=starts_in, hours=hours)
    Shift.objects.filter(pk=shift.pk).update(taken=1)
    return Signup.objects.create(shift=shift, user=vol, status="confirmed")


def _attend(api, coordinator, signup, start, end):
    return api.as_user(coordinator).post(
        f"/signups/{signup.pk}/attendance",
        {"checked_in_at": start.isoformat(), "checked_out_at": end.isoformat()},
    )


def test_attendance_for_tomorrows_shift_is_refused(api, org, coordinator, vol):
    signup = _signup(org, vol, starts_in=timedelta(days=1))
    shift = signup.shift
    response = _attend(api, coordinator, signup, shift.starts_at, shift.ends_at)
    assert_error(response, 422, "attendance_in_future")
    assert response.json()["details"]["skew_seconds"] == 300
    assert not ServiceRecord.objects.exists()
    assert Signup.objects.get(pk=signup.pk).status == "confirmed"


def test_check_out_later_than_now_plus_skew_is_refused(api, org, coordinator, vol):
    signup = _signup(org, vol, starts_in=timedelta(hours=-2))
    now = timezone.now()
    assert_error(
        _attend(api, coordinator, signup, signup.shift.starts_at, now + timedelta(minutes=10)),
        422,
        "attendance_in_future",
    )
    ok = _attend(api, coordinator, signup, signup.shift.starts_at, now + timedelta(minutes=3))
    assert ok.status_code == 201, ok.json()


def test_check_in_after_the_shift_ended_is_refused(api, org, coordinator, vol):
    signup = _signup(org, vol, starts_in=timedelta(hours=-6))
    shift = signup.shift
    response = _attend(
        api, coordinator, signup, shift.ends_at + timedelta(minutes=5), shift.ends_at + timedelta(minutes=50)
    )
    assert_error(response, 422, "attendance_outside_shift")
    assert response.json()["details"]["tolerance_minutes"] == 60
    assert response.json()["details"]["shift_starts_at"].endswith("+08:00")
    assert not ServiceRecord.objects.exists()


def test_times_beyond_the_tolerance_are_refused_and_within_it_clipped(api, org, coordinator, vol):
    signup = _signup(org, vol, starts_in=timedelta(hours=-6))
    shift = signup.shift
    early = _attend(api, coordinator, signup, shift.starts_at - timedelta(minutes=61), shift.ends_at)
    assert_error(early, 422, "attendance_outside_shift")
    late = _attend(api, coordinator, signup, shift.starts_at, shift.ends_at + timedelta(minutes=61))
    assert_error(late, 422, "attendance_outside_shift")
    ok = _attend(
        api,
        coordinator,
        signup,
        shift.starts_at - timedelta(minutes=60),
        shift.ends_at + timedelta(minutes=60),
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["minutes"] == 180


def test_tolerance_is_configurable(api, org, coordinator, vol, settings):
    settings.LINLI_VOLUNTEER_ATTENDANCE_TOLERANCE_MINUTES = 10
    signup = _signup(org, vol, starts_in=timedelta(hours=-6))
    shift = signup.shift
    response = _attend(api, coordinator, signup, shift.starts_at - timedelta(minutes=30), shift.ends_at)
    assert_error(response, 422, "attendance_outside_shift")
    assert response.json()["details"]["tolerance_minutes"] == 10
