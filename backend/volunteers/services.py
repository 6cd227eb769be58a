"""Writes of the volunteers domain: registration, activities and shifts, sign-ups, service hours.

Contracts used by other domains (keep names and keyword arguments):

``service_record_create(*, user, organisation, source, started_at, ended_at, place, content,
activity=None, shift=None, recipients="", lead=None, recorder=None, external_ref, signup=None)``
    Idempotent by ``external_ref`` (unique; a repeat returns the first record unchanged). Hours
    = whole minutes between start and end, rounded by ``conf.rounding_rule``. ``source`` is
    "checkin" | "patrol" | "coordinator" | "backfill". Backfilled hours (补录) are kept apart
    (``kind="backfilled"``) and always wait for approval (``status="pending"``). For recorded
    hours (信用时数) the per-day rules apply: the 4th check-in/out pair of a day is kept with
    ``status="refused"`` and 0 hours; the day's total up to 8 h is ``valid``, up to 12 h
    ``pending`` (organisation approves), above ``escalated``. Never raises for those rules, so
    a check-out never fails because of them.

``attendance_record(*, signup, checked_in_at, checked_out_at, recorder=None, external_ref,
source="coordinator")``
    Hours = the time inside the shift between check-in and check-out; marks the sign-up
    ``attended`` (listeners hear about it) and returns the ServiceRecord (idempotent as above).
    Event check-in passes ``source="checkin"``.

Every change of a sign-up's status calls ``hooks.signup_changed(signup)`` inside the
transaction (see ``backend/volunteers/hooks.py``).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from backend.accounts.models import Role, ScopeType, User
from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal
from backend.core.db import run_retrying
from backend.core.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import (
    InvalidIdNumber,
    InvalidPhone,
    normalize_mainland_mobile,
    parse_resident_id,
)
from backend.divisions.models import Division
from backend.notifications.services import notify
from backend.volunteers import conf, hooks
from backend.volunteers.errors import (
    ActivityNotInFuture,
    AlreadySignedUp,
    CancelNotAllowed,
    ConsentRequired,
    GuardianConsentRequired,
    IdNumberTaken,
    OverlappingShift,
    RequirementsNotMet,
    ShiftFull,
    SignupClosed,
    TooYoung,
    VolunteerBanned,
)
from backend.volunteers.hours import clip_to, counted_minutes, round_hours
from backend.volunteers.models import (
    Activity,
    Organisation,
    Programme,
    ServicePost,
    ServiceRecord,
    Shift,
    ShiftSeries,
    Signup,
    VolunteerConsent,
    VolunteerProfile,
)

log = logging.getLogger(__name__)

ID_PURPOSE = "volunteer.id_number"
ID_INDEX_PURPOSE = "volunteer.id_number"
R = TypeVar("R")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _retrying(func: Callable[[], R]) -> R:
    return run_retrying(func, attempts=conf.signup_retries())


# --- registration -----------------------------------------------------------------------------


def _division(code: str, field: str = "division_code") -> Division:
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ValidationFailed(
            errors=[field_error(field, "unknown_division", T("没有该行政区划。", "Unknown division."))]
        )
    return division


def _mobile(value: str, field: str) -> str:
    try:
        return normalize_mainland_mobile(value)
    except InvalidPhone:
        raise ValidationFailed(
            errors=[
                field_error(
                    field, "invalid_phone", T("请输入有效的手机号码。", "Enter a valid mobile number.")
                )
            ]
        ) from None


def volunteer_profile_save(
    *,
    user: User,
    real_name: str,
    id_number: str,
    mobile: str,
    division_code: str,
    skills: list[str] | None = None,
    service_categories: list[str] | None = None,
    available_times: list[str] | None = None,
    consents: list[dict[str, str]] | None = None,
    guardian: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> VolunteerProfile:
    """Register or update the caller as a volunteer (PUT semantics: the whole profile).

    The ID number is validated (GB 11643), sealed, unique through a blind index; birth date and
    gender come from it. Under ``conf.min_age()`` is refused, under ``conf.adult_age()`` needs a
    guardian (name, mobile, relation, consent). The current consent versions must be accepted.
    """
    now = _now(now)
    real_name = (real_name or "").strip()
    errors = []
    if not real_name:
        errors.append(field_error("real_name", "required", T("此项必填。", "This field is required.")))
    try:
        parsed = parse_resident_id(id_number, today=_local_date(now))
    except InvalidIdNumber as exc:
        errors.append(
            field_error(
                "id_number",
                "invalid_id_number",
                T("身份证号码无效。", "The ID number is not valid."),
                reason=exc.reason,
            )
        )
        parsed = None
    if errors:
        raise ValidationFailed(errors=errors)
    assert parsed is not None
    mobile = _mobile(mobile, "mobile")
    division = _division(division_code)
    age = parsed.age_on(_local_date(now))
    if age < conf.min_age():
        raise TooYoung(min_age=conf.min_age())
    guardian = guardian or {}
    minor = age < conf.adult_age()
    if minor:
        missing = [k for k in ("name", "mobile", "relation") if not str(guardian.get(k) or "").strip()]
        if missing or guardian.get("consent") is not True:
            raise GuardianConsentRequired(
                errors=[
                    field_error(f"guardian.{k}", "required", T("此项必填。", "Required.")) for k in missing
                ]
                + (
                    []
                    if guardian.get("consent") is True
                    else [
                        field_error(
                            "guardian.consent", "required", T("需监护人同意。", "Guardian consent required.")
                        )
                    ]
                )
            )
        guardian_mobile = _mobile(str(guardian["mobile"]), "guardian.mobile")
    index = blind_index(parsed.number, purpose=ID_INDEX_PURPOSE)
    given = {(c.get("kind"), c.get("version")) for c in consents or []}
    required = conf.consent_versions()

    def save() -> VolunteerProfile:
        with transaction.atomic():
            found = VolunteerProfile.objects.select_for_update().filter(user=user).first()
            accepted: set[tuple[str, str]] = set()
            if found is not None:
                accepted = set(
                    found.consents.filter(withdrawn_at__isnull=True).values_list("kind", "version")
                )
            missing_consents = [
                k for k, v in required.items() if (k, v) not in given and (k, v) not in accepted
            ]
            if missing_consents:
                raise ConsentRequired(
                    errors=[
                        field_error(
                            "consents",
                            "consent_required",
                            T("请同意最新版本。", "Accept the current version."),
                            kind=k,
                            version=required[k],
                        )
                        for k in missing_consents
                    ]
                )
            if VolunteerProfile.objects.filter(id_number_index=index).exclude(user=user).exists():
                raise IdNumberTaken()
            created = found is None
            profile = VolunteerProfile(user=user) if found is None else found
            profile.real_name = real_name
            profile.id_type = VolunteerProfile.IdType.RESIDENT_ID
            if profile.id_number_index != index:
                profile.id_number_sealed = seal(parsed.number, purpose=ID_PURPOSE)
                profile.id_number_index = index
            profile.birth_date = parsed.birth_date
            profile.gender = parsed.gender
            profile.mobile = mobile
            profile.division = division
            profile.skills = _clean_list(skills)
            profile.service_categories = _clean_list(service_categories)
            profile.available_times = _clean_list(available_times)
            if minor:
                profile.guardian_name = str(guardian["name"]).strip()[:50]
                profile.guardian_mobile = guardian_mobile
                profile.guardian_relation = str(guardian["relation"]).strip()[:20]
            else:
                profile.guardian_name = profile.guardian_mobile = profile.guardian_relation = ""
            try:
                with transaction.atomic():
                    profile.save()
            except IntegrityError:
                raise IdNumberTaken() from None
            if not profile.volunteer_no:
                profile.volunteer_no = f"{division.code[:4]}{now.year}{profile.pk:07d}"
                profile.save(update_fields=["volunteer_no"])
            wanted = {(k, v) for k, v in given if k in required and required[k] == v}
            if minor:
                wanted.add(
                    (
                        VolunteerConsent.Kind.GUARDIAN,
                        str(guardian.get("consent_version") or required.get("terms", "1")),
                    )
                )
            for kind, version in wanted:
                VolunteerConsent.objects.get_or_create(
                    profile=profile, kind=kind, version=version, defaults={"accepted_at": now}
                )
            audit_record(
                actor=user,
                action="volunteer.registered" if created else "volunteer.profile_updated",
                target=profile,
                data={"volunteer_no": profile.volunteer_no, "minor": minor},
            )
        return profile

    return save()


def _clean_list(values: list[str] | None) -> list[str]:
    seen: list[str] = []
    for value in values or []:
        text = str(value).strip()
        if text and text not in seen:
            seen.append(text[:40])
    return seen[:30]


# --- organisations, posts, activities, shifts --------------------------------------------------


def organisation_create(
    *,
    by: User,
    name: str,
    division_code: str,
    uscc: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Organisation:
    if uscc:
        from backend.core.validators import InvalidUscc, parse_uscc

        try:
            uscc = parse_uscc(uscc).code
        except InvalidUscc:
            raise ValidationFailed(
                errors=[field_error("uscc", "invalid_uscc", T("统一社会信用代码无效。", "Invalid USCC."))]
            ) from None
    division = _division(division_code)
    with transaction.atomic():
        org = Organisation.objects.create(
            name=name.strip(),
            division=division,
            uscc=uscc,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
        audit_record(actor=by, action="volunteer_org.created", target=org, data={"name": org.name})
    return org


def organisation_coordinator_add(*, organisation: Organisation, user: User, by: User) -> None:
    from backend.accounts.services import grant_role

    grant_role(
        user=user,
        role=Role.COORDINATOR,
        scope_type=ScopeType.ORGANISATION,
        scope_id=str(organisation.pk),
        by=by,
    )


def service_post_create(
    *,
    by: User,
    name: str,
    division_code: str,
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    host: str = "",
    organisation: Organisation | None = None,
) -> ServicePost:
    division = _division(division_code)
    errors = []
    if latitude is not None and not (-90 <= latitude <= 90):
        errors.append(field_error("latitude", "out_of_range", T("纬度超出范围。", "Latitude out of range.")))
    if longitude is not None and not (-180 <= longitude <= 180):
        errors.append(
            field_error("longitude", "out_of_range", T("经度超出范围。", "Longitude out of range."))
        )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        post = ServicePost.objects.create(
            name=name.strip(),
            division=division,
            address=address,
            latitude=latitude,
            longitude=longitude,
            host=host,
            organisation=organisation,
        )
        audit_record(actor=by, action="service_post.created", target=post)
    return post


def activity_create(
    *,
    by: User,
    organisation: Organisation,
    programme: str,
    title: str,
    division_code: str,
    description: str = "",
    post_id: int | None = None,
    river_segment_id: int | None = None,
    category: str = "",
    recipients: str = "",
    place: str = "",
    risk_level: str = Activity.Risk.LOW,
    insurance_required: bool | None = None,
    min_age: int = 0,
    required_skills: list[str] | None = None,
) -> Activity:
    errors = []
    post = river_segment = None
    if programme not in Programme.values:
        errors.append(
            field_error("programme", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
        )
    if post_id is not None:
        post = ServicePost.objects.filter(pk=post_id, is_active=True).first()
        if post is None:
            errors.append(field_error("post_id", "not_found", T("没有该服务站点。", "No such service post.")))
    if river_segment_id is not None:
        # The segment model belongs to the rivers app, which builds on this one: reach it through
        # the relation Activity declares rather than importing it.
        segment_model: Any = Activity._meta.get_field("river_segment").related_model
        river_segment = (
            segment_model._default_manager.filter(pk=river_segment_id).select_related("river").first()
        )
        if river_segment is None:
            errors.append(
                field_error("river_segment_id", "not_found", T("没有该河段。", "No such river segment."))
            )
    if programme == Programme.RIVER and river_segment_id is None:
        errors.append(
            field_error(
                "river_segment_id", "required", T("巡河活动须指定河段。", "A river activity needs a segment.")
            )
        )
    if programme == Programme.RED_VEST and river_segment_id is not None:
        errors.append(
            field_error(
                "river_segment_id",
                "not_allowed",
                T("红马甲活动不关联河段。", "Red-vest activities have no river segment."),
            )
        )
    if programme == Programme.RIVER and post_id is not None:
        errors.append(
            field_error(
                "post_id",
                "not_allowed",
                T("巡河活动不关联服务站点。", "River activities have no service post."),
            )
        )
    if risk_level not in Activity.Risk.values:
        errors.append(
            field_error("risk_level", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
        )
    if errors:
        raise ValidationFailed(errors=errors)
    division = _division(division_code)
    if not place:
        if post is not None:
            place = f"{post.name} {post.address}".strip()
        elif river_segment is not None:
            place = str(river_segment)
    with transaction.atomic():
        activity = Activity.objects.create(
            organisation=organisation,
            programme=programme,
            title=title.strip(),
            description=description,
            post=post,
            river_segment=river_segment,
            division=division,
            category=category,
            recipients=recipients,
            place=place[:200],
            risk_level=risk_level,
            # Risky activities need insurance (志愿服务条例 Art.17); the flag follows the risk unless set.
            insurance_required=(risk_level != Activity.Risk.LOW)
            if insurance_required is None
            else insurance_required,
            min_age=max(min_age, 0),
            required_skills=_clean_list(required_skills),
            created_by=by,
        )
        audit_record(actor=by, action="activity.created", target=activity, data={"title": activity.title})
    return activity


def activity_publish(*, activity: Activity, by: User, now: datetime | None = None) -> Activity:
    """Publish a draft: it needs shifts, all of them in the future (past service is backfilled)."""
    now = _now(now)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status != Activity.Status.DRAFT:
            raise InvalidTransition(status=activity.status)
        shifts = Shift.objects.filter(activity=activity, status=Shift.Status.OPEN)
        if not shifts.exists() or shifts.filter(starts_at__lte=now).exists():
            raise ActivityNotInFuture()
        activity.status = Activity.Status.PUBLISHED
        activity.published_at = now
        activity.save(update_fields=["status", "published_at"])
        audit_record(actor=by, action="activity.published", target=activity)
    return activity


def _ends_before_start(field: str) -> dict[str, Any]:
    return field_error(
        field, "before_start", T("结束时间须晚于开始时间。", "The end must be after the start.")
    )


def _size_errors(*, capacity: int, waitlist_size: int = 0) -> list[dict[str, Any]]:
    """Places of a shift or series: at least one, a waitlist of none or more."""
    errors = []
    if capacity < 1:
        errors.append(
            field_error("capacity", "too_small", T("名额至少为 1。", "Capacity must be at least 1."))
        )
    if waitlist_size < 0:
        errors.append(
            field_error(
                "waitlist_size", "too_small", T("候补名额不能为负。", "Waitlist size cannot be negative.")
            )
        )
    return errors


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


def shift_series_create(
    *,
    activity: Activity,
    by: User,
    weekdays: list[int],
    start_time: Any,
    end_time: Any,
    starts_on: date,
    ends_on: date,
    capacity: int,
    waitlist_size: int = 0,
    signup_opens_days: int = 14,
    signup_closes_hours: int = 0,
    cancel_hours: int = 24,
    now: datetime | None = None,
) -> tuple[ShiftSeries, list[Shift]]:
    """A weekly rule (e.g. every Saturday and Sunday 9:00-12:00) and its first occurrences."""
    now = _now(now)
    errors = []
    days = sorted({int(d) for d in weekdays})
    if not days or any(d < 0 or d > 6 for d in days):
        errors.append(
            field_error(
                "weekdays",
                "invalid",
                T("星期须为 0（周一）至 6（周日）。", "Weekdays are 0 (Monday) to 6 (Sunday)."),
            )
        )
    if end_time <= start_time:
        errors.append(_ends_before_start("end_time"))
    if ends_on < starts_on or (ends_on - starts_on).days > 366:
        errors.append(
            field_error(
                "ends_on",
                "invalid",
                T("日期范围无效（最长一年）。", "Invalid date range (one year at most)."),
            )
        )
    errors += _size_errors(capacity=capacity, waitlist_size=waitlist_size)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        series = ShiftSeries.objects.create(
            activity=activity,
            weekdays=days,
            start_time=start_time,
            end_time=end_time,
            starts_on=starts_on,
            ends_on=ends_on,
            capacity=capacity,
            waitlist_size=waitlist_size,
            signup_opens_days=signup_opens_days,
            signup_closes_hours=signup_closes_hours,
            cancel_hours=cancel_hours,
        )
        audit_record(actor=by, action="shift_series.created", target=series, data={"weekdays": days})
        shifts = shift_series_generate(series=series, now=now)
    return series, shifts


def shift_series_generate(*, series: ShiftSeries, now: datetime | None = None) -> list[Shift]:
    """Create the series' missing future occurrences up to ``conf.series_horizon()``; idempotent."""
    now = _now(now)
    zone = timezone.get_current_timezone()
    first = max(series.starts_on, _local_date(now))
    last = min(series.ends_on, _local_date(now + conf.series_horizon()))
    existing = set(Shift.objects.filter(series=series).values_list("starts_at", flat=True))
    created: list[Shift] = []
    day = first
    with transaction.atomic():
        while day <= last:
            if day.weekday() in series.weekdays:
                starts_at = datetime.combine(day, series.start_time, tzinfo=zone)
                ends_at = datetime.combine(day, series.end_time, tzinfo=zone)
                if starts_at > now and starts_at not in existing:
                    shift, made = Shift.objects.get_or_create(
                        series=series,
                        starts_at=starts_at,
                        defaults={
                            "activity_id": series.activity_id,
                            "ends_at": ends_at,
                            "capacity": series.capacity,
                            "waitlist_size": series.waitlist_size,
                            "signup_opens_at": starts_at - timedelta(days=series.signup_opens_days),
                            "signup_closes_at": starts_at - timedelta(hours=series.signup_closes_hours),
                            "cancel_deadline": starts_at - timedelta(hours=series.cancel_hours),
                        },
                    )
                    if made:
                        created.append(shift)
            day += timedelta(days=1)
    return created


# --- sign-ups ---------------------------------------------------------------------------------


def _changed(signup: Signup, *, actor: User | None, action: str, data: dict[str, Any] | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=signup,
        data={"shift": signup.shift_id, "status": signup.status, **(data or {})},
    )
    hooks.signup_changed(signup)


def _check_requirements(*, profile: VolunteerProfile, activity: Activity, shift: Shift) -> None:
    reasons = []
    age = (
        _local_date(shift.starts_at).year
        - profile.birth_date.year
        - (
            (_local_date(shift.starts_at).month, _local_date(shift.starts_at).day)
            < (profile.birth_date.month, profile.birth_date.day)
        )
    )
    needed_age = max(activity.min_age, conf.min_age())
    if age < needed_age:
        reasons.append({"requirement": "min_age", "required": needed_age, "actual": age})
    missing = [s for s in activity.required_skills if s not in (profile.skills or [])]
    if missing:
        reasons.append({"requirement": "skills", "missing": missing})
    if reasons:
        raise RequirementsNotMet(reasons=reasons)


def shift_signup_create(*, shift_id: int, user: User, now: datetime | None = None) -> Signup:
    """Sign up for a shift: a place if one is free (``confirmed``), else the waitlist.

    Places are taken by ``UPDATE shift SET taken = taken + 1 WHERE taken < capacity`` (0 rows →
    full) inside the transaction, backed by a CheckConstraint; a partial UniqueConstraint stops
    a double sign-up. The volunteer's profile row is locked first so the overlap check holds.
    """
    now = _now(now)
    _refuse_if_plainly_full(shift_id=shift_id, user=user)

    def attempt() -> Signup:
        try:
            with transaction.atomic():
                return _signup_create_locked(shift_id=shift_id, user=user, now=now)
        except IntegrityError as exc:
            if Signup.objects.filter(
                shift_id=shift_id, user=user, status__in=Signup.ACTIVE_STATUSES
            ).exists():
                raise AlreadySignedUp() from None
            raise exc

    return _retrying(attempt)


def _refuse_if_plainly_full(*, shift_id: int, user: User) -> None:
    """Answer a sign-up for a shift that is full, waitlist included, without a write transaction.

    In a burst most requests meet a full shift; reading the committed counters (no lock) and
    refusing at once keeps them from queueing for the write lock. "Full" read here is a true
    answer at the moment of the read; anything else goes through the locked path, which decides.
    """
    row = (
        Shift.objects.filter(pk=shift_id)
        .values("taken", "capacity", "waitlisted", "waitlist_size", "activity__status")
        .first()
    )
    if row is None or row["activity__status"] != Activity.Status.PUBLISHED:
        return
    if row["taken"] < row["capacity"] or row["waitlisted"] < row["waitlist_size"]:
        return
    if Signup.objects.filter(shift_id=shift_id, user=user, status__in=Signup.ACTIVE_STATUSES).exists():
        raise AlreadySignedUp()
    raise ShiftFull()


def _signup_create_locked(*, shift_id: int, user: User, now: datetime) -> Signup:
    profile = VolunteerProfile.objects.select_for_update().filter(user=user).first()
    shift = Shift.objects.select_related("activity").filter(pk=shift_id).first()
    if shift is None or shift.activity.status == Activity.Status.DRAFT:
        raise NotFound()
    activity = shift.activity
    if profile is None:
        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    if (
        shift.status != Shift.Status.OPEN
        or activity.status != Activity.Status.PUBLISHED
        or now >= shift.starts_at
        or (shift.signup_opens_at and now < shift.signup_opens_at)
        or (shift.signup_closes_at and now >= shift.signup_closes_at)
    ):
        raise SignupClosed(opens_at=shift.signup_opens_at, closes_at=shift.signup_closes_at)
    if profile.banned_until and profile.banned_until > now:
        raise VolunteerBanned(until=profile.banned_until.isoformat())
    _check_requirements(profile=profile, activity=activity, shift=shift)
    mine = Signup.objects.filter(user=user, status__in=Signup.HOLDING_STATUSES | {Signup.Status.WAITLISTED})
    if mine.filter(shift_id=shift.pk).exists():
        raise AlreadySignedUp()
    clash = (
        mine.filter(shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at)
        .values_list("shift_id", flat=True)
        .first()
    )
    if clash is not None:
        raise OverlappingShift(shift_id=clash)
    if Shift.objects.filter(pk=shift.pk, taken__lt=F("capacity")).update(taken=F("taken") + 1):
        status = Signup.Status.CONFIRMED
    elif Shift.objects.filter(pk=shift.pk, waitlisted__lt=F("waitlist_size")).update(
        waitlisted=F("waitlisted") + 1
    ):
        status = Signup.Status.WAITLISTED
    else:
        raise ShiftFull()
    signup = Signup.objects.create(
        shift=shift, user=user, status=status, confirmed_at=now if status == Signup.Status.CONFIRMED else None
    )
    signup.shift = shift
    _changed(signup, actor=user, action="signup.created")
    return signup


def _lock_shift_of(*, signup_id: int) -> None:
    """Lock the sign-up's shift row first (PostgreSQL), so every path that frees or moves places
    takes its locks in the same order (shift, then sign-ups) and two of them cannot deadlock.
    SQLite's BEGIN IMMEDIATE already serialises writers."""
    shift_id = Signup.objects.filter(pk=signup_id).values_list("shift_id", flat=True).first()
    if shift_id is not None:
        list(Shift.objects.select_for_update().filter(pk=shift_id).values_list("pk", flat=True))


def signup_cancel(*, signup: Signup, by: User, now: datetime | None = None) -> Signup:
    """Cancel before the shift starts (after the deadline it counts as ``cancelled_late``); a held
    place goes to the first waitlisted volunteer in the same transaction."""
    now = _now(now)

    def cancel() -> Signup:
        with transaction.atomic():
            _lock_shift_of(signup_id=signup.pk)
            current = Signup.objects.select_related("shift", "shift__activity").get(pk=signup.pk)
            shift = current.shift
            if (
                current.status not in Signup.HOLDING_STATUSES | {Signup.Status.WAITLISTED}
                or current.status == Signup.Status.ATTENDED
            ):
                raise CancelNotAllowed(status=current.status)
            if now >= shift.starts_at:
                raise CancelNotAllowed(status=current.status, reason="started")
            late = (
                bool(shift.cancel_deadline and now > shift.cancel_deadline)
                and current.status != Signup.Status.WAITLISTED
            )
            new_status = Signup.Status.CANCELLED_LATE if late else Signup.Status.CANCELLED
            if not Signup.objects.filter(pk=current.pk, status=current.status).update(
                status=new_status, cancelled_at=now
            ):
                raise CancelNotAllowed()
            was = current.status
            current.status, current.cancelled_at = new_status, now
            if was == Signup.Status.WAITLISTED:
                Shift.objects.filter(pk=shift.pk).update(waitlisted=F("waitlisted") - 1)
            else:
                Shift.objects.filter(pk=shift.pk).update(taken=F("taken") - 1)
            _changed(current, actor=by, action="signup.cancelled", data={"was": was, "late": late})
            if was != Signup.Status.WAITLISTED:
                _promote_waitlisted(shift=shift, now=now)
            return current

    return _retrying(cancel)


def _promote_waitlisted(*, shift: Shift, now: datetime) -> list[Signup]:
    """Give free places to waitlisted volunteers, first in first out; each gets a confirm-by time.

    Runs inside the caller's transaction. A place is taken with the same conditional UPDATE as
    a sign-up, and the waitlister is moved with ``UPDATE … WHERE status='waitlisted'``, so two
    concurrent cancellations never promote the same person or more people than places.
    """
    promoted: list[Signup] = []
    if now >= shift.starts_at or shift.status != Shift.Status.OPEN:
        return promoted
    confirm_by = min(now + conf.promotion_confirm_window(), shift.starts_at)
    while True:
        candidate = (
            Signup.objects.filter(shift_id=shift.pk, status=Signup.Status.WAITLISTED)
            .order_by("created_at", "id")
            .first()
        )
        if candidate is None:
            break
        if not Shift.objects.filter(pk=shift.pk, taken__lt=F("capacity")).update(taken=F("taken") + 1):
            break
        moved = Signup.objects.filter(pk=candidate.pk, status=Signup.Status.WAITLISTED).update(
            status=Signup.Status.PROMOTED, promoted_at=now, confirm_by=confirm_by
        )
        if not moved:  # someone else moved them first: give the place back and look again
            Shift.objects.filter(pk=shift.pk).update(taken=F("taken") - 1)
            continue
        Shift.objects.filter(pk=shift.pk).update(waitlisted=F("waitlisted") - 1)
        candidate.status, candidate.promoted_at, candidate.confirm_by = (
            Signup.Status.PROMOTED,
            now,
            confirm_by,
        )
        candidate.shift = shift
        notify(
            user=candidate.user_id,
            kind="signup.promoted",
            params={
                "activity": shift.activity.title,
                "starts_at": timezone.localtime(shift.starts_at).strftime("%m-%d %H:%M"),
                "confirm_by": timezone.localtime(confirm_by).strftime("%m-%d %H:%M"),
                "signup_id": candidate.pk,
            },
            target=candidate,
            urgent=True,
            dedupe_key=f"signup.promoted:{candidate.pk}",
        )
        _changed(candidate, actor=None, action="signup.promoted", data={"confirm_by": confirm_by.isoformat()})
        promoted.append(candidate)
    return promoted


def signup_confirm(*, signup: Signup, by: User, now: datetime | None = None) -> Signup:
    """A promoted volunteer takes the place before their confirm-by time."""
    now = _now(now)

    def confirm() -> Signup:
        with transaction.atomic():
            current = Signup.objects.select_related("shift").get(pk=signup.pk)
            if current.status == Signup.Status.CONFIRMED:
                return current
            if current.status != Signup.Status.PROMOTED or (current.confirm_by and now > current.confirm_by):
                raise InvalidTransition(
                    T("该候补转正已失效。", "This promotion is no longer open."), status=current.status
                )
            if not Signup.objects.filter(pk=current.pk, status=Signup.Status.PROMOTED).update(
                status=Signup.Status.CONFIRMED, confirmed_at=now
            ):
                raise InvalidTransition()
            current.status, current.confirmed_at = Signup.Status.CONFIRMED, now
            _changed(current, actor=by, action="signup.confirmed")
            return current

    return _retrying(confirm)


def signup_promotions_expire(*, now: datetime | None = None) -> int:
    """Promotions not confirmed in time lapse (``expired``) and pass to the next waitlister."""
    now = _now(now)
    count = 0
    for pk in list(
        Signup.objects.filter(status=Signup.Status.PROMOTED, confirm_by__lt=now).values_list("pk", flat=True)[
            :500
        ]
    ):

        def expire(pk: int = pk) -> bool:
            with transaction.atomic():
                _lock_shift_of(signup_id=pk)
                current = Signup.objects.select_related("shift", "shift__activity").get(pk=pk)
                if not Signup.objects.filter(pk=pk, status=Signup.Status.PROMOTED, confirm_by__lt=now).update(
                    status=Signup.Status.EXPIRED
                ):
                    return False
                current.status = Signup.Status.EXPIRED
                Shift.objects.filter(pk=current.shift_id).update(taken=F("taken") - 1)
                notify(
                    user=current.user_id,
                    kind="signup.promotion_expired",
                    params={"activity": current.shift.activity.title},
                    target=current,
                    dedupe_key=f"signup.promotion_expired:{pk}",
                )
                _changed(current, actor=None, action="signup.promotion_expired")
                _promote_waitlisted(shift=current.shift, now=now)
                return True

        count += bool(_retrying(expire))
    return count


def signup_mark_no_show(*, signup: Signup, by: User, now: datetime | None = None) -> Signup:
    """The coordinator marks a confirmed volunteer absent once the shift has started; N no-shows
    within the window ban the volunteer from signing up for a while."""
    now = _now(now)
    with transaction.atomic():
        _lock_shift_of(signup_id=signup.pk)
        current = Signup.objects.select_related("shift", "shift__activity").get(pk=signup.pk)
        if current.status != Signup.Status.CONFIRMED or now < current.shift.starts_at:
            raise InvalidTransition(status=current.status)
        if not Signup.objects.filter(pk=current.pk, status=Signup.Status.CONFIRMED).update(
            status=Signup.Status.NO_SHOW, no_show_at=now
        ):
            raise InvalidTransition()
        current.status, current.no_show_at = Signup.Status.NO_SHOW, now
        Shift.objects.filter(pk=current.shift_id).update(taken=F("taken") - 1)
        _changed(current, actor=by, action="signup.no_show")
        recent = Signup.objects.filter(
            user_id=current.user_id, status=Signup.Status.NO_SHOW, no_show_at__gte=now - conf.no_show_window()
        ).count()
        if recent >= conf.no_show_limit():
            until = now + conf.no_show_ban()
            profile = VolunteerProfile.objects.select_for_update().filter(user_id=current.user_id).first()
            if profile is not None and (profile.banned_until is None or profile.banned_until < until):
                profile.banned_until = until
                profile.save(update_fields=["banned_until", "updated_at"])
                audit_record(
                    actor=by,
                    action="volunteer.banned",
                    target=profile,
                    data={"until": until.isoformat(), "no_shows": recent},
                )
                notify(
                    user=current.user_id,
                    kind="volunteer.banned",
                    params={"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"), "count": recent},
                    target=profile,
                    dedupe_key=f"volunteer.banned:{profile.pk}:{until:%Y%m%d%H%M}",
                )
    return current


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


def shift_series_extend(*, now: datetime | None = None) -> int:
    """Job: keep each running series generated ``conf.series_horizon()`` ahead."""
    now = _now(now)
    total = 0
    for series in ShiftSeries.objects.filter(
        ends_on__gte=_local_date(now), activity__status__in=[Activity.Status.DRAFT, Activity.Status.PUBLISHED]
    ):
        total += len(shift_series_generate(series=series, now=now))
    return total


# --- service hours ----------------------------------------------------------------------------

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
    """Record service hours; see the module docstring for the rules. Idempotent by external_ref."""
    existing = ServiceRecord.objects.filter(external_ref=external_ref).first()
    if existing is not None:
        return existing
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
    counted = counted_minutes(started_at, ended_at) if minutes is None else max(minutes, 0)
    hours = round_hours(counted)
    service_date = _local_date(started_at)
    backfill = source == ServiceRecord.Source.BACKFILL

    def create() -> ServiceRecord:
        with transaction.atomic():
            # One writer per person at a time, so two check-outs can't both see "2 pairs today".
            User.objects.select_for_update().filter(pk=user.pk).first()
            again = ServiceRecord.objects.filter(external_ref=external_ref).first()
            if again is not None:
                return again
            reason = ""
            record_hours = hours
            if backfill:
                status, kind, reason = ServiceRecord.Status.PENDING, ServiceRecord.Kind.BACKFILLED, "backfill"
            else:
                kind = ServiceRecord.Kind.RECORDED
                day = ServiceRecord.objects.filter(
                    user=user, service_date=service_date, kind=ServiceRecord.Kind.RECORDED
                ).exclude(status=ServiceRecord.Status.REFUSED)
                pairs = day.count()
                before = day.exclude(status=ServiceRecord.Status.REJECTED).aggregate(total=Sum("hours"))[
                    "total"
                ] or Decimal("0")
                if pairs >= conf.daily_max_pairs():
                    status, reason, record_hours = (
                        ServiceRecord.Status.REFUSED,
                        "daily_pair_limit",
                        Decimal("0"),
                    )
                elif before + hours <= conf.daily_valid_hours():
                    status = ServiceRecord.Status.VALID
                elif before + hours <= conf.daily_approval_hours():
                    status, reason = ServiceRecord.Status.PENDING, "daily_over_valid"
                else:
                    status, reason = ServiceRecord.Status.ESCALATED, "daily_over_approval"
            try:
                with transaction.atomic():
                    record = ServiceRecord.objects.create(
                        user=user,
                        organisation=organisation,
                        source=source,
                        kind=kind,
                        status=status,
                        status_reason=reason,
                        activity=activity,
                        shift=shift,
                        signup=signup,
                        service_date=service_date,
                        started_at=started_at,
                        ended_at=ended_at,
                        place=(place or "")[:200],
                        content=content or "",
                        recipients=(recipients or "")[:200],
                        minutes=counted,
                        hours=record_hours,
                        lead=lead,
                        recorder=recorder,
                        external_ref=external_ref,
                    )
            except IntegrityError:
                again = ServiceRecord.objects.filter(external_ref=external_ref).first()
                if again is None:
                    raise
                return again
            audit_record(
                actor=recorder,
                action="service_record.created",
                target=record,
                data={
                    "user": user.pk,
                    "source": source,
                    "hours": str(record_hours),
                    "status": status,
                    "reason": reason,
                },
            )
            if status in (ServiceRecord.Status.PENDING, ServiceRecord.Status.ESCALATED) and not backfill:
                notify(
                    user=user,
                    kind="service_record.pending",
                    params={"date": service_date.isoformat(), "hours": str(record_hours)},
                    target=record,
                )
            return record

    return _retrying(create)


def attendance_record(
    *,
    signup: Signup,
    checked_in_at: datetime,
    checked_out_at: datetime,
    recorder: User | None = None,
    external_ref: str,
    source: str = ServiceRecord.Source.COORDINATOR,
) -> ServiceRecord:
    """Attendance of a signed-up volunteer: hours inside the shift; the sign-up becomes attended."""
    existing = ServiceRecord.objects.filter(external_ref=external_ref).first()
    if existing is not None:
        return existing
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
        raise ValidationFailed(
            errors=[field_error("activity_id", "not_found", T("没有该活动。", "No such activity."))]
        )
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


def certificate_issue(
    *, user: User, organisation: Organisation, now: datetime | None = None
):  # -> Certificate
    """Issue a certificate of the approved hours this organisation recorded (谁记录谁证明)."""
    from backend.core.masking import mask_name
    from backend.volunteers.errors import NothingToCertify
    from backend.volunteers.models import Certificate

    now = _now(now)
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    records = ServiceRecord.objects.filter(
        user=user, organisation=organisation, status=ServiceRecord.Status.VALID
    )
    sums = {row["kind"]: row["total"] for row in records.values("kind").annotate(total=Sum("hours"))}
    recorded = (sums.get(ServiceRecord.Kind.RECORDED) or Decimal("0")).quantize(Decimal("0.1"))
    backfilled = (sums.get(ServiceRecord.Kind.BACKFILLED) or Decimal("0")).quantize(Decimal("0.1"))
    if recorded + backfilled <= 0:
        raise NothingToCertify()
    # Downloading again the same day with the same hours gives the same certificate (number and
    # verification code) rather than a new one each time.
    same = (
        Certificate.objects.filter(
            user=user,
            organisation=organisation,
            recorded_hours=recorded,
            backfilled_hours=backfilled,
            handler=organisation.contact_name,
            holder_name_masked=mask_name(profile.real_name),
            volunteer_no=profile.volunteer_no or "",
        )
        .order_by("-issued_at", "-id")
        .first()
    )
    if same is not None and _local_date(same.issued_at) == _local_date(now):
        return same
    contents = list(records.values_list("content", flat=True).distinct()[:20])
    with transaction.atomic():
        cert = Certificate.objects.create(
            number=f"ZYZ{now:%Y%m%d}{secrets.randbelow(10**8):08d}",
            verify_code=secrets.token_hex(10).upper(),
            user=user,
            organisation=organisation,
            hours=recorded + backfilled,
            recorded_hours=recorded,
            backfilled_hours=backfilled,
            content="；".join(c for c in contents if c)[:1000],
            handler=organisation.contact_name,
            holder_name_masked=mask_name(profile.real_name),
            volunteer_no=profile.volunteer_no or "",
        )
        audit_record(
            actor=user,
            action="certificate.issued",
            target=cert,
            data={"org": organisation.pk, "hours": str(cert.hours)},
        )
    return cert
