"""Service hours: records (the contract other domains call), attendance, backfill, approvals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.notifications.services import notify
from backend.volunteers import conf
from backend.volunteers.errors import AttendanceInFuture, AttendanceOutsideShift, RequirementsNotMet
from backend.volunteers.hours import DayRuling, clip_to, counted_minutes, daily_ruling, round_hours
from backend.volunteers.models import Activity, Organisation, ServiceRecord, Shift, Signup, VolunteerProfile
from backend.volunteers.services._common import _changed, _ends_before_start, _local_date, _now, _retrying

SOURCES = {s.value for s in ServiceRecord.Source}


def service_record_create(
    *,
    user: User,
    organisation: Organisation,
    source: str,
    started_at: datetime,
    ended_at: datetime,
    place: str,
    content: str,
    activity: Activity | None = None,
    shift: Shift | None = None,
    recipients: str = "",
    lead: User | None = None,
    recorder: User | None = None,
    external_ref: str,
    signup: Signup | None = None,
    minutes: int | None = None,
) -> ServiceRecord:
    """Record service hours; see the package docstring for the rules. Idempotent by external_ref."""
    existing = ServiceRecord.objects.filter(external_ref=external_ref).first()
    if existing is not None:
        return existing
    _record_input_check(source=source, external_ref=external_ref, started_at=started_at, ended_at=ended_at)
    counted = counted_minutes(started_at, ended_at) if minutes is None else max(minutes, 0)
    fields: dict[str, Any] = {
        "user": user,
        "organisation": organisation,
        "source": source,
        "activity": activity,
        "shift": shift,
        "signup": signup,
        "service_date": _local_date(started_at),
        "started_at": started_at,
        "ended_at": ended_at,
        "place": (place or "")[:200],
        "content": content or "",
        "recipients": (recipients or "")[:200],
        "minutes": counted,
        "lead": lead,
        "recorder": recorder,
        "external_ref": external_ref,
    }
    hours = round_hours(counted)
    return _retrying(lambda: _record_create_locked(fields=fields, hours=hours))


def _record_input_check(*, source: str, external_ref: str, started_at: datetime, ended_at: datetime) -> None:
    errors = []
    if source not in SOURCES:
        errors.append(
            field_error("source", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
        )
    if not external_ref or len(external_ref) > 120:
        errors.append(field_error("external_ref", "invalid", T("格式不正确。", "Invalid value.")))
    if ended_at < started_at:
        errors.append(_ends_before_start("ended_at"))
    if errors:
        raise ValidationFailed(errors=errors)


def _record_create_locked(*, fields: dict[str, Any], hours: Decimal) -> ServiceRecord:
    """One attempt: under the person's lock, rule on the day and store the record (or return
    the record another request stored under the same ``external_ref`` meanwhile)."""
    user, external_ref = fields["user"], fields["external_ref"]
    backfill = fields["source"] == ServiceRecord.Source.BACKFILL
    with transaction.atomic():
        # One writer per person at a time, so two check-outs can't both see "2 pairs today".
        User.objects.select_for_update().filter(pk=user.pk).first()
        again = ServiceRecord.objects.filter(external_ref=external_ref).first()
        if again is not None:
            return again
        kind, ruling = _record_ruling(
            user=user, service_date=fields["service_date"], hours=hours, backfill=backfill
        )
        try:
            with transaction.atomic():
                record = ServiceRecord.objects.create(
                    **fields, kind=kind, status=ruling.status, status_reason=ruling.reason, hours=ruling.hours
                )
        except IntegrityError:
            again = ServiceRecord.objects.filter(external_ref=external_ref).first()
            if again is None:
                raise
            return again
        audit_record(
            actor=fields["recorder"],
            action="service_record.created",
            target=record,
            data={
                "user": user.pk,
                "source": fields["source"],
                "hours": str(ruling.hours),
                "status": ruling.status,
                "reason": ruling.reason,
            },
        )
        if ruling.status in (ServiceRecord.Status.PENDING, ServiceRecord.Status.ESCALATED) and not backfill:
            notify(
                user=user,
                kind="service_record.pending",
                params={"date": fields["service_date"].isoformat(), "hours": str(ruling.hours)},
                target=record,
            )
        return record


def _record_ruling(
    *, user: User, service_date: date, hours: Decimal, backfill: bool
) -> tuple[str, DayRuling]:
    """The record's kind and how it counts: backfills always wait for approval; recorded hours
    follow the day's rules (``hours.daily_ruling``) over the person's earlier records that day."""
    if backfill:
        return ServiceRecord.Kind.BACKFILLED, DayRuling(ServiceRecord.Status.PENDING, "backfill", hours)
    day = ServiceRecord.objects.filter(
        user=user, service_date=service_date, kind=ServiceRecord.Kind.RECORDED
    ).exclude(status=ServiceRecord.Status.REFUSED)
    pairs = day.count()
    before = day.exclude(status=ServiceRecord.Status.REJECTED).aggregate(total=Sum("hours"))["total"]
    ruling = daily_ruling(pairs_before=pairs, hours_before=before or Decimal("0"), hours=hours)
    return ServiceRecord.Kind.RECORDED, ruling


def attendance_record(
    *,
    signup: Signup,
    checked_in_at: datetime,
    checked_out_at: datetime,
    recorder: User | None = None,
    external_ref: str,
    source: str = ServiceRecord.Source.COORDINATOR,
    now: datetime | None = None,
) -> ServiceRecord:
    """Attendance of a signed-up volunteer: hours inside the shift; the sign-up becomes attended.

    Refused (nothing written): times later than now plus ``conf.attendance_clock_skew``
    (``AttendanceInFuture``); times outside the shift (``AttendanceOutsideShift``, see
    ``_attendance_in_shift``)."""
    existing = ServiceRecord.objects.filter(external_ref=external_ref).first()
    if existing is not None:
        return existing
    if max(checked_in_at, checked_out_at) > _now(now) + conf.attendance_clock_skew():
        raise AttendanceInFuture(
            now=timezone.localtime(_now(now)).isoformat(),
            skew_seconds=int(conf.attendance_clock_skew().total_seconds()),
        )
    if checked_out_at < checked_in_at:
        raise ValidationFailed(
            errors=[
                field_error(
                    "checked_out_at", "before_start", T("签退须晚于签到。", "Check-out must follow check-in.")
                )
            ]
        )
    with transaction.atomic():
        current = Signup.objects.select_related(
            "shift", "shift__activity", "shift__activity__organisation"
        ).get(pk=signup.pk)
        if current.status not in (Signup.Status.CONFIRMED, Signup.Status.ATTENDED):
            raise InvalidTransition(
                T(
                    "只有已确认的报名才能记录考勤。",
                    "Attendance can only be recorded for a confirmed sign-up.",
                ),
                status=current.status,
            )
        shift = current.shift
        activity = shift.activity
        _attendance_in_shift(
            shift=shift, checked_in_at=checked_in_at, checked_out_at=checked_out_at, source=source
        )
        start, end = clip_to(checked_in_at, checked_out_at, shift.starts_at, shift.ends_at)
        record = service_record_create(
            user=current.user,
            organisation=activity.organisation,
            source=source,
            started_at=start,
            ended_at=end,
            place=activity.place,
            content=activity.title,
            activity=activity,
            shift=shift,
            signup=current,
            recipients=activity.recipients,
            recorder=recorder,
            external_ref=external_ref,
        )
        if current.status == Signup.Status.CONFIRMED:
            Signup.objects.filter(pk=current.pk, status=Signup.Status.CONFIRMED).update(
                status=Signup.Status.ATTENDED, attended_at=checked_in_at
            )
            current.status, current.attended_at = Signup.Status.ATTENDED, checked_in_at
            _changed(current, actor=recorder, action="signup.attended", data={"record": record.pk})
    return record


def _attendance_in_shift(
    *, shift: Shift, checked_in_at: datetime, checked_out_at: datetime, source: str
) -> None:
    """Times a coordinator types must lie in the shift widened by ``conf.attendance_tolerance``:
    check-in from start - tolerance to the end, check-out from the start to end + tolerance.
    A scanner's stay (observed, not typed) only has to meet that window: a forgotten exit scan
    long after the end still credits the hours inside the shift."""
    tolerance = conf.attendance_tolerance()
    opens, closes = shift.starts_at - tolerance, shift.ends_at + tolerance
    if source == ServiceRecord.Source.COORDINATOR:
        ok = opens <= checked_in_at <= shift.ends_at and shift.starts_at <= checked_out_at <= closes
    else:
        ok = checked_in_at <= closes and checked_out_at >= opens
    if not ok:
        raise AttendanceOutsideShift(
            shift_starts_at=timezone.localtime(shift.starts_at).isoformat(),
            shift_ends_at=timezone.localtime(shift.ends_at).isoformat(),
            tolerance_minutes=int(tolerance.total_seconds() // 60),
        )


def attendance_withdraw(*, external_ref: str, by: User | None = None, reason: str) -> ServiceRecord | None:
    """Withdraw the attendance recorded under ``external_ref`` (its check-in was annulled): the
    record stays, rejected with ``reason``, and gives up its reference (renamed, so the attendance
    that replaces it can take it); a sign-up left without other attendance is confirmed again.
    None when nothing was recorded under that reference."""
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().filter(external_ref=external_ref).first()
        if record is None:
            return None
        was = record.status
        record.status, record.status_reason = ServiceRecord.Status.REJECTED, reason[:60]
        record.external_ref = f"{external_ref}~withdrawn~{record.pk}"[:120]
        record.decided_by, record.decided_at = by, _now(None)
        record.save(update_fields=["status", "status_reason", "external_ref", "decided_by", "decided_at"])
        audit_record(
            actor=by,
            action="service_record.withdrawn",
            target=record,
            data={"was": was, "hours": str(record.hours), "external_ref": external_ref},
            reason=reason,
        )
        if record.signup_id is not None:
            _unattend_if_nothing_left(signup_id=record.signup_id, by=by)
    return record


def _unattend_if_nothing_left(*, signup_id: int, by: User | None) -> None:
    others = ServiceRecord.objects.filter(signup_id=signup_id).exclude(status=ServiceRecord.Status.REJECTED)
    if others.exists():
        return
    if Signup.objects.filter(pk=signup_id, status=Signup.Status.ATTENDED).update(
        status=Signup.Status.CONFIRMED, attended_at=None
    ):
        signup = Signup.objects.get(pk=signup_id)
        _changed(signup, actor=by, action="signup.attendance_withdrawn")


def backfill_request_create(
    *,
    user: User,
    organisation: Organisation,
    started_at: datetime,
    ended_at: datetime,
    place: str,
    content: str,
    activity: Activity | None = None,
    recipients: str = "",
    now: datetime | None = None,
) -> ServiceRecord:
    """Past service entered afterwards (补录): kept apart and pending the organisation's approval."""
    now = _now(now)
    if ended_at > now:
        raise ValidationFailed(
            errors=[
                field_error(
                    "ended_at",
                    "in_future",
                    T("补录只适用于已完成的服务。", "Only past service can be backfilled."),
                )
            ]
        )
    if ended_at - started_at > conf.backfill_max_duration():
        raise ValidationFailed(
            errors=[
                field_error(
                    "ended_at",
                    "too_long",
                    T("一次补录最长一天的服务。", "One backfill request covers one day's service at most."),
                    max_hours=int(conf.backfill_max_duration().total_seconds() // 3600),
                )
            ]
        )
    if activity is not None and activity.organisation_id != organisation.pk:
        raise ValidationFailed(errors=[_no_such_activity()])
    return service_record_create(
        user=user,
        organisation=organisation,
        source=ServiceRecord.Source.BACKFILL,
        started_at=started_at,
        ended_at=ended_at,
        place=place,
        content=content,
        activity=activity,
        recipients=recipients,
        recorder=user,
        external_ref=f"backfill:{uuid.uuid4().hex}",
    )


def backfill_request_submit(
    *,
    user: User,
    organisation_id: int,
    started_at: datetime,
    ended_at: datetime,
    place: str,
    content: str,
    activity_id: int | None = None,
    recipients: str = "",
) -> ServiceRecord:
    """A volunteer's backfill request by ids: the organisation must exist, the activity (if any)
    be one of its own, and the caller be a registered volunteer; then ``backfill_request_create``."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound()
    activity = None
    if activity_id is not None:
        activity = Activity.objects.filter(pk=activity_id, organisation=organisation).first()
        if activity is None:
            raise ValidationFailed(errors=[_no_such_activity()])
    if not VolunteerProfile.objects.filter(user=user).exists():
        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    return backfill_request_create(
        user=user,
        organisation=organisation,
        activity=activity,
        started_at=started_at,
        ended_at=ended_at,
        place=place,
        content=content,
        recipients=recipients,
    )


def _no_such_activity() -> dict[str, Any]:
    return field_error("activity_id", "not_found", T("没有该活动。", "No such activity."))


def service_record_decide(
    *,
    record: ServiceRecord,
    by: User,
    approve: bool,
    evaluation: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> ServiceRecord:
    """Approve or reject a pending (or escalated) record; the rule decides who may."""
    now = _now(now)
    with transaction.atomic():
        current = ServiceRecord.objects.select_for_update().get(pk=record.pk)
        if current.status not in (ServiceRecord.Status.PENDING, ServiceRecord.Status.ESCALATED):
            raise InvalidTransition(status=current.status)
        if not approve and not reason.strip():
            raise ValidationFailed(
                errors=[
                    field_error("reason", "required", T("驳回须说明理由。", "A rejection needs a reason."))
                ]
            )
        was = current.status
        current.status = ServiceRecord.Status.VALID if approve else ServiceRecord.Status.REJECTED
        current.decided_by, current.decided_at = by, now
        if evaluation:
            current.evaluation = evaluation
        current.save(update_fields=["status", "decided_by", "decided_at", "evaluation"])
        audit_record(
            actor=by,
            action="service_record.approved" if approve else "service_record.rejected",
            target=current,
            data={"was": was, "hours": str(current.hours)},
            reason=reason,
        )
        notify(
            user=current.user_id,
            kind="service_record.decided",
            params={
                "date": current.service_date.isoformat(),
                "hours": str(current.hours),
                "result": "已通过" if approve else "未通过",
            },
            target=current,
        )
    return current
