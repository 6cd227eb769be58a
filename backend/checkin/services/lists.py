"""Check-in lists: which passes count at a door, and its entry rules (pretix's check-in lists)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta
from typing import Any

from django.db import transaction

from backend.checkin.models import BundleChange, CheckinList, Event
from backend.checkin.services.changes import bundle_change_record
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T


def _local_time(value: time | None) -> time | None:
    """A time of day on Shanghai's clock: naive, or with the +08:00 offset (then dropped)."""
    if value is None or value.tzinfo is None:
        return value
    if value.utcoffset() != timedelta(hours=8):
        raise ValidationFailed(
            errors=[
                field_error(
                    "auto_checkout_at",
                    "not_local_time",
                    T("须为北京时间（+08:00）。", "Must be a local time (+08:00)."),
                )
            ]
        )
    return value.replace(tzinfo=None)


def checkin_list_create(
    *,
    event: Event,
    name: str,
    include_volunteers: bool = True,
    include_attendees: bool = True,
    shift_ids: Sequence[int] = (),
    allow_multiple_entries: bool = False,
    allow_entry_after_exit: bool = True,
    auto_checkout_at: time | None = None,
    by: Any = None,
) -> CheckinList:
    name = (name or "").strip()[:100]
    auto_checkout_at = _local_time(auto_checkout_at)
    if not name:
        raise ValidationFailed(
            errors=[field_error("name", "required", T("此项必填。", "This field is required."))]
        )
    linked = set(event.shifts.values_list("pk", flat=True))
    stray = [sid for sid in shift_ids if sid not in linked]
    if stray:
        raise ValidationFailed(
            errors=[
                field_error(
                    "shift_ids",
                    "not_linked",
                    T("班次未关联到该活动。", "The shift is not linked to the event."),
                    ids=stray,
                )
            ]
        )
    with transaction.atomic():
        if CheckinList.objects.filter(event=event, name=name).exists():
            raise ValidationFailed(
                errors=[field_error("name", "duplicate", T("名称已存在。", "This name is taken."))]
            )
        lst = CheckinList.objects.create(
            event=event,
            name=name,
            include_volunteers=include_volunteers,
            include_attendees=include_attendees,
            allow_multiple_entries=allow_multiple_entries,
            allow_entry_after_exit=allow_entry_after_exit,
            auto_checkout_at=auto_checkout_at,
        )
        if shift_ids:
            lst.shifts.set(shift_ids)
        bundle_change_record(event_id=event.pk, kind=BundleChange.Kind.LIST_CHANGED)
        # Passes already inside somewhere count as checked in on the new list only once they enter it.
        audit_record(
            actor=by, action="checkin.list_created", target=lst, data={"event": event.pk, "name": name}
        )
    return lst


def checkin_list_update(*, lst: CheckinList, auto_checkout_at: time | None, by: Any = None) -> CheckinList:
    """Set or clear the list's daily automatic check-out time (local, Asia/Shanghai). A time
    already past today takes effect today: the next scheduler run checks out who entered before it."""
    auto_checkout_at = _local_time(auto_checkout_at)
    with transaction.atomic():
        lst = CheckinList.objects.select_for_update().get(pk=lst.pk)
        before = lst.auto_checkout_at
        lst.auto_checkout_at = auto_checkout_at
        lst.save(update_fields=["auto_checkout_at"])
        audit_record(
            actor=by,
            action="checkin.list_updated",
            target=lst,
            data={
                "auto_checkout_at": [
                    before.isoformat("minutes") if before else None,
                    auto_checkout_at.isoformat("minutes") if auto_checkout_at else None,
                ]
            },
        )
    return lst


def checkin_list_rules_changed(*, event: Event, by: Any = None) -> None:
    """Lists of ``event`` were added, edited or removed outside these services (the admin's
    inline): offline bundles must be fetched whole again (see ``backend.checkin.offline``)."""
    with transaction.atomic():
        bundle_change_record(event_id=event.pk, kind=BundleChange.Kind.LIST_CHANGED)
        audit_record(actor=by, action="checkin.lists_edited", target=event)
