"""Shifts: creating one, changing its capacity, reminding its volunteers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.notifications.services import notify
from backend.volunteers import conf
from backend.volunteers.errors import ActivityNotInFuture
from backend.volunteers.models import Activity, Shift, Signup
from backend.volunteers.services._common import _ends_before_start, _now, _retrying, _size_errors
from backend.volunteers.services.waitlist import _promote_waitlisted


def _shift_times_check(
    *,
    activity: Activity,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    waitlist_size: int,
    signup_opens_at: datetime | None,
    signup_closes_at: datetime | None,
    cancel_deadline: datetime | None,
    now: datetime,
) -> None:
    errors = [_ends_before_start("ends_at")] if ends_at <= starts_at else []
    errors += _size_errors(capacity=capacity, waitlist_size=waitlist_size)
    if signup_opens_at and signup_closes_at and signup_closes_at <= signup_opens_at:
        errors.append(
            field_error(
                "signup_closes_at",
                "before_open",
                T("报名截止须晚于报名开始。", "Sign-up must close after it opens."),
            )
        )
    if signup_closes_at and signup_closes_at > starts_at:
        errors.append(
            field_error(
                "signup_closes_at",
                "after_start",
                T("报名须在班次开始前截止。", "Sign-up must close before the start."),
            )
        )
    if cancel_deadline and cancel_deadline > starts_at:
        errors.append(
            field_error(
                "cancel_deadline",
                "after_start",
                T("取消截止须在班次开始前。", "The cancellation deadline must be before the start."),
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)
    if activity.status == Activity.Status.PUBLISHED and starts_at <= now:
        raise ActivityNotInFuture()
    if activity.status == Activity.Status.CANCELLED:
        raise InvalidTransition(status=activity.status)


def shift_create(
    *,
    activity: Activity,
    by: User,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    waitlist_size: int = 0,
    signup_opens_at: datetime | None = None,
    signup_closes_at: datetime | None = None,
    cancel_deadline: datetime | None = None,
    now: datetime | None = None,
) -> Shift:
    now = _now(now)
    _shift_times_check(
        activity=activity,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        waitlist_size=waitlist_size,
        signup_opens_at=signup_opens_at,
        signup_closes_at=signup_closes_at,
        cancel_deadline=cancel_deadline,
        now=now,
    )
    with transaction.atomic():
        shift = Shift.objects.create(
            activity=activity,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            waitlist_size=waitlist_size,
            signup_opens_at=signup_opens_at,
            signup_closes_at=signup_closes_at or starts_at,
            cancel_deadline=cancel_deadline or starts_at - timedelta(hours=24),
        )
        audit_record(
            actor=by,
            action="shift.created",
            target=shift,
            data={"activity": activity.pk, "capacity": capacity},
        )
    return shift


def shift_capacity_set(*, shift: Shift, capacity: int, by: User, now: datetime | None = None) -> Shift:
    """Change a shift's capacity: never below the places taken; more places promote waitlisters."""
    now = _now(now)
    if errors := _size_errors(capacity=capacity):
        raise ValidationFailed(errors=errors)

    def change() -> Shift:
        with transaction.atomic():
            changed = Shift.objects.filter(pk=shift.pk, taken__lte=capacity).update(capacity=capacity)
            if not changed:
                current = Shift.objects.get(pk=shift.pk)
                raise ValidationFailed(
                    errors=[
                        field_error(
                            "capacity",
                            "below_taken",
                            T("名额不能少于已报名人数。", "Capacity cannot go below the places taken."),
                            taken=current.taken,
                        )
                    ]
                )
            fresh = Shift.objects.select_related("activity").get(pk=shift.pk)
            _promote_waitlisted(shift=fresh, now=now)
            audit_record(actor=by, action="shift.capacity_changed", target=fresh, data={"capacity": capacity})
            return Shift.objects.get(pk=shift.pk)

    return _retrying(change)


def shift_reminders_send(*, now: datetime | None = None) -> int:
    """Remind confirmed volunteers 24 h and 2 h before their shift (once each: dedupe keys).

    A reminder goes out in its own window only (the 24 h one between 24 h and 2 h before), so a
    sign-up made an hour before the start gets just the 2 h reminder.
    """
    now = _now(now)
    offsets = sorted(conf.reminder_offsets(), reverse=True)
    sent = 0
    for i, offset in enumerate(offsets):
        floor = offsets[i + 1] if i + 1 < len(offsets) else timedelta(0)
        label = f"{int(offset.total_seconds() // 3600)}h"
        signups = (
            Signup.objects.filter(
                status=Signup.Status.CONFIRMED,
                shift__status=Shift.Status.OPEN,
                shift__starts_at__gt=now + floor,
                shift__starts_at__lte=now + offset,
            )
            .select_related("shift", "shift__activity")
            .order_by("id")
        )
        for signup in signups.iterator(chunk_size=500):
            with transaction.atomic():
                made = notify(
                    user=signup.user_id,
                    kind="shift.reminder",
                    params={
                        "activity": signup.shift.activity.title,
                        "starts_at": timezone.localtime(signup.shift.starts_at).strftime("%m-%d %H:%M"),
                        "place": signup.shift.activity.place,
                        "lead": label,
                    },
                    target=signup,
                    dedupe_key=f"shift.reminder:{label}:{signup.pk}",
                )
            sent += made is not None
    return sent
