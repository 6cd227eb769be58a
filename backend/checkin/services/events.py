"""Events: created by a coordinator of the organisation with a default list, edited, staffed,
linked to volunteer shifts (their confirmed volunteers get passes), closed after the end."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import Role, ScopeType
from backend.accounts.services import grant_role
from backend.checkin.errors import InvalidEventTimes, ShiftNotOfOrganisation
from backend.checkin.models import (
    BundleSequence,
    Checkin,
    CheckinList,
    Event,
    EventSequence,
    Kind,
    Pass,
    Presence,
)
from backend.checkin.redeem.messages import Redeem
from backend.checkin.services.passes import signup_passes_sync
from backend.checkin.services.scans import checkin_redeem
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.volunteers.models import Signup


def _check_times(*, starts_at: datetime, ends_at: datetime, opens: datetime, closes: datetime) -> None:
    errors = []
    for name, value in (
        ("starts_at", starts_at),
        ("ends_at", ends_at),
        ("checkin_opens_at", opens),
        ("checkin_closes_at", closes),
    ):
        if timezone.is_naive(value):
            errors.append(
                field_error(name, "naive_datetime", T("时间须带时区。", "The time needs a UTC offset."))
            )
    if errors:
        raise InvalidEventTimes(errors=errors)
    if ends_at <= starts_at:
        errors.append(
            field_error(
                "ends_at", "before_start", T("结束时间须晚于开始时间。", "The end must be after the start.")
            )
        )
    if closes <= opens:
        errors.append(
            field_error(
                "checkin_closes_at",
                "before_open",
                T("签到结束须晚于签到开始。", "The window must close after it opens."),
            )
        )
    if errors:
        raise InvalidEventTimes(errors=errors)


def event_create(
    *,
    organisation: Any,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    checkin_opens_at: datetime | None = None,
    checkin_closes_at: datetime | None = None,
    venue: str = "",
    venue_post: Any = None,
    division_code: str = "",
    by: Any = None,
) -> Event:
    """A new event with its sequence row and a default list that counts every pass.

    The check-in window defaults to one hour before the start until the end.
    """
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(
            errors=[field_error("title", "required", T("此项必填。", "This field is required."))]
        )
    opens = checkin_opens_at or starts_at - timedelta(hours=1)
    closes = checkin_closes_at or ends_at
    _check_times(starts_at=starts_at, ends_at=ends_at, opens=opens, closes=closes)
    if venue_post is not None and getattr(venue_post, "organisation_id", organisation.pk) != organisation.pk:
        raise ValidationFailed(
            errors=[
                field_error(
                    "venue_post_id",
                    "not_of_organisation",
                    T("服务岗不属于该组织。", "The post is not of this organisation."),
                )
            ]
        )
    if not division_code:
        division_code = (
            getattr(venue_post, "division_code", "") or getattr(organisation, "division_code", "") or ""
        )
    with transaction.atomic():
        event = Event.objects.create(
            organisation=organisation,
            title=title[:200],
            venue=(venue or getattr(venue_post, "name", "") or "")[:200],
            venue_post=venue_post,
            division_code=division_code,
            starts_at=starts_at,
            ends_at=ends_at,
            checkin_opens_at=opens,
            checkin_closes_at=closes,
            created_by=by,
        )
        EventSequence.objects.create(event=event)
        BundleSequence.objects.create(event=event)
        CheckinList.objects.create(event=event, name="全部 All")
        audit_record(actor=by, action="checkin.event_created", target=event, data={"title": event.title})
    return event


def event_update(*, event: Event, by: Any = None, **changes: Any) -> Event:
    allowed = {
        "title",
        "venue",
        "starts_at",
        "ends_at",
        "checkin_opens_at",
        "checkin_closes_at",
        "division_code",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        for name, value in changes.items():
            if value is not None:
                setattr(event, name, value)
        _check_times(
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            opens=event.checkin_opens_at,
            closes=event.checkin_closes_at,
        )
        event.save()
        audit_record(
            actor=by,
            action="checkin.event_updated",
            target=event,
            data={
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in changes.items()
                if v is not None
            },
        )
    return event


def event_staff_grant(*, event: Event, user: Any, role: str, by: Any = None) -> Any:
    """Make ``user`` a scanner or coordinator of this event."""
    if role not in (Role.SCANNER, Role.COORDINATOR):
        raise ValidationFailed(
            errors=[field_error("role", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))]
        )
    return grant_role(user=user, role=role, scope_type=ScopeType.EVENT, scope_id=str(event.pk), by=by)


def event_shifts_link(*, event: Event, shifts: Iterable[Any], by: Any = None) -> list[Pass]:
    """Link shifts of the event's organisation; every confirmed sign-up gets its pass."""
    shifts = list(shifts)
    for shift in shifts:
        if shift.activity.organisation_id != event.organisation_id:
            raise ShiftNotOfOrganisation(shift_id=shift.pk)
    issued: list[Pass] = []
    with transaction.atomic():
        event.shifts.add(*shifts)
        signups = Signup.objects.filter(
            shift__in=shifts, status__in=Signup.CONFIRMED_STATUSES
        ).select_related("shift", "user", "user__volunteer_profile")
        for signup in signups:
            issued.extend(signup_passes_sync(signup=signup, by=by))
        audit_record(
            actor=by, action="checkin.shifts_linked", target=event, data={"shifts": [s.pk for s in shifts]}
        )
    return issued


def event_auto_checkout(*, event: Event, now: datetime | None = None) -> int:
    """Check out everybody still inside once the event has ended (exit rows at the event's end,
    source ``auto``), so volunteers' stays become service records. Idempotent: an event is closed once."""
    now = now or timezone.now()
    if event.ends_at > now or event.closed_at is not None:
        return 0
    done = 0
    presences = list(
        Presence.objects.filter(list__event=event, inside=True)
        .select_related("pass_obj")
        .order_by("pass_obj_id", "list_id")
    )
    for presence in presences:
        result = checkin_redeem(
            event_id=event.pk,
            redeem=Redeem(
                secret=presence.pass_obj.secret,
                nonce=f"auto-{event.pk}-{presence.pk}-{presence.entries}",
                kind=Kind.EXIT,
                scanned_at=event.ends_at,
                list_id=presence.list_id,
            ),
            device="auto-checkout",
            source=Checkin.Source.AUTO,
            received_at=now,
        )
        done += int(not result.replayed and result.row.status == Checkin.Status.OK)
    with transaction.atomic():
        if Event.objects.filter(pk=event.pk, closed_at__isnull=True).update(closed_at=now):
            audit_record(
                actor=None, action="checkin.event_closed", target=event, data={"auto_checked_out": done}
            )
    return done
