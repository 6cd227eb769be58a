"""The service contracts other domains call: service_record_create, attendance_record, hooks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.volunteers import hooks
from backend.volunteers.models import ServiceRecord, Signup
from backend.volunteers.services import (
    attendance_record,
    shift_signup_create,
    signup_cancel,
)
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 7)


def record(user, org, start, end, ref, source="checkin"):
    return f.record(user, org, start, end, ref, source, content="值守")


def test_service_record_is_idempotent_by_external_ref():
    org, user = f.organisation(), f.volunteer()
    first = record(user, org, f.at(DAY, 9), f.at(DAY, 11, 20), "checkin:1")
    again = record(user, org, f.at(DAY, 9), f.at(DAY, 12), "checkin:1")
    assert again.pk == first.pk
    assert first.hours == Decimal("2.5") and first.status == "valid" and first.kind == "recorded"
    assert ServiceRecord.objects.count() == 1


def test_day_over_8_hours_is_pending_and_over_12_escalated():
    org, user = f.organisation(), f.volunteer()
    a = record(user, org, f.at(DAY, 6), f.at(DAY, 13), "r:1")  # 7 h
    b = record(user, org, f.at(DAY, 13), f.at(DAY, 16), "r:2")  # 10 h that day
    c = record(user, org, f.at(DAY, 16), f.at(DAY, 19), "r:3")  # 13 h that day
    assert (a.status, b.status, c.status) == ("valid", "pending", "escalated")


def test_fourth_pair_of_a_day_is_refused_with_no_hours():
    org, user = f.organisation(), f.volunteer()
    for i in range(3):
        assert record(user, org, f.at(DAY, 8 + i), f.at(DAY, 8 + i, 30), f"p:{i}").status == "valid"
    fourth = record(user, org, f.at(DAY, 14), f.at(DAY, 15), "p:4")
    assert fourth.status == "refused" and fourth.hours == 0 and fourth.status_reason == "daily_pair_limit"


def test_backfill_is_kept_apart_and_pending():
    org, user = f.organisation(), f.volunteer()
    r = record(user, org, f.at(DAY, 9), f.at(DAY, 10), "backfill:1", source="backfill")
    assert (r.kind, r.status) == ("backfilled", "pending")


def test_attendance_counts_only_time_inside_the_shift():
    user = f.volunteer()
    shift = f.shift(starts_in=timedelta(days=2), hours=3)
    signup = shift_signup_create(shift_id=shift.pk, user=user)
    rec = attendance_record(
        signup=signup,
        checked_in_at=shift.starts_at - timedelta(minutes=40),
        checked_out_at=shift.ends_at + timedelta(hours=1),
        external_ref=f"attendance:{signup.pk}:1",
        now=shift.ends_at + timedelta(hours=2),
    )
    assert rec.minutes == 180 and rec.hours == Decimal("3.0")
    signup.refresh_from_db()
    assert signup.status == Signup.Status.ATTENDED


def test_listeners_hear_confirm_and_cancel_inside_the_transaction():
    heard = []

    def listener(signup):
        heard.append((signup.pk, signup.status, signup.holds_pass))

    hooks.on_signup_changed(listener)
    try:
        user = f.volunteer()
        shift = f.shift()
        signup = shift_signup_create(shift_id=shift.pk, user=user)
        signup_cancel(signup=signup, by=user, now=timezone.now())
    finally:
        hooks.remove_signup_listener(listener)
    assert heard == [(signup.pk, "confirmed", True), (signup.pk, "cancelled", False)]
