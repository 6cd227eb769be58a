"""API routes of the volunteers domain: registration, activities and shifts, sign-ups, hours.

Mounted at the API root; every path is spelt out in full here.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, TypedDict

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.throttling import SimpleRateThrottle
from pydantic import AwareDatetime, Field

from api.schemas import ERRORS
from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.context import client_ip
from backend.core.crypto import unseal
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_id_number, mask_name, mask_phone
from backend.core.permissions import authorize
from backend.volunteers import documents, selectors, services
from backend.volunteers.errors import NothingToCertify
from backend.volunteers.models import Activity, Organisation, ServiceRecord, Shift, Signup, VolunteerProfile
from backend.volunteers.permissions import (
    Action,
    activity_access,
    activity_detail_access,
    organisation_access,
    post_organisation_access,
    profile_access,
    record_access,
    shift_access,
    signup_access,
)

if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations

router = Router(tags=["volunteers"])


class CertificateVerifyThrottle(SimpleRateThrottle):
    """Per client address on the public certificate check (``LINLI_VOLUNTEER_VERIFY_RATE``)."""

    def __init__(self) -> None:
        super().__init__(getattr(settings, "LINLI_VOLUNTEER_VERIFY_RATE", "60/m"))

    def get_cache_key(self, request) -> str | None:
        return f"throttle:volunteer_cert_verify:{client_ip(request.META, settings.NINJA_NUM_PROXIES)}"


# --- schemas ----------------------------------------------------------------------------------


class ConsentIn(Schema):
    kind: str = Field(max_length=20)
    version: str = Field(max_length=20)


class GuardianIn(Schema):
    name: str = Field("", max_length=50)
    mobile: str = Field("", max_length=32)
    relation: str = Field("", max_length=20)
    consent: bool = False


class ProfileIn(Schema):
    real_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=32)
    mobile: str = Field(min_length=1, max_length=32)
    division_code: str = Field(min_length=2, max_length=12)
    skills: list[str] = Field(default_factory=list, max_length=30)
    service_categories: list[str] = Field(default_factory=list, max_length=30)
    available_times: list[str] = Field(default_factory=list, max_length=30)
    consents: list[ConsentIn] = Field(default_factory=list, max_length=10)
    guardian: GuardianIn | None = None


class ConsentOut(Schema):
    kind: str
    version: str
    accepted_at: datetime


class ProfileOut(Schema):
    volunteer_no: str
    real_name_masked: str
    id_type: str
    id_number_masked: str
    birth_date: date
    gender: str
    mobile_masked: str
    division_code: str
    division_name: str
    skills: list[str]
    service_categories: list[str]
    available_times: list[str]
    is_minor: bool
    guardian_name_masked: str
    consents: list[ConsentOut]
    banned_until: datetime | None


class OrganisationIn(Schema):
    name: str = Field(min_length=2, max_length=100)
    division_code: str = Field(min_length=2, max_length=12)
    uscc: str = Field("", max_length=18)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)


class OrganisationOut(Schema):
    id: int
    name: str
    division_code: str
    contact_name: str


class CoordinatorIn(Schema):
    phone: str = Field(min_length=11, max_length=20)


class PostIn(Schema):
    name: str = Field(min_length=2, max_length=100)
    division_code: str = Field(min_length=2, max_length=12)
    address: str = Field("", max_length=200)
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    host: str = Field("", max_length=100)
    organisation_id: int | None = None


class PostOut(Schema):
    id: int
    name: str
    division_code: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    host: str


class ActivityIn(Schema):
    organisation_id: int
    programme: Literal["red_vest", "river"]
    title: str = Field(min_length=2, max_length=120)
    description: str = Field("", max_length=5000)
    division_code: str = Field(min_length=2, max_length=12)
    post_id: int | None = None
    river_segment_id: int | None = None
    category: str = Field("", max_length=40)
    recipients: str = Field("", max_length=200)
    place: str = Field("", max_length=200)
    risk_level: Literal["low", "medium", "high"] = "low"
    insurance_required: bool | None = None
    min_age: int = Field(0, ge=0, le=100)
    required_skills: list[str] = Field(default_factory=list, max_length=20)


class ShiftIn(Schema):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=1, le=10000)
    waitlist_size: int = Field(0, ge=0, le=10000)
    signup_opens_at: AwareDatetime | None = None
    signup_closes_at: AwareDatetime | None = None
    cancel_deadline: AwareDatetime | None = None


class ShiftPatch(Schema):
    capacity: int = Field(ge=1, le=10000)


class SeriesIn(Schema):
    weekdays: list[int] = Field(min_length=1, max_length=7)
    start_time: time
    end_time: time
    starts_on: date
    ends_on: date
    capacity: int = Field(ge=1, le=10000)
    waitlist_size: int = Field(0, ge=0, le=10000)
    signup_opens_days: int = Field(14, ge=0, le=365)
    signup_closes_hours: int = Field(0, ge=0, le=720)
    cancel_hours: int = Field(24, ge=0, le=720)


class ShiftOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    remaining: int
    waitlist_size: int
    waitlisted: int
    signup_opens_at: datetime | None
    signup_closes_at: datetime | None
    cancel_deadline: datetime | None
    status: str
    series_id: int | None


class ActivitySummaryOut(Schema):
    id: int
    programme: str
    title: str
    organisation: OrganisationOut
    division_code: str
    category: str
    place: str
    post_id: int | None
    river_segment_id: int | None
    risk_level: str
    insurance_required: bool
    min_age: int
    required_skills: list[str]
    remaining: int
    upcoming_shifts: int
    next_starts_at: datetime | None


class ActivityOut(Schema):
    id: int
    programme: str
    title: str
    description: str
    status: str
    organisation: OrganisationOut
    division_code: str
    category: str
    recipients: str
    place: str
    post: PostOut | None
    river_segment_id: int | None
    river_segment_name: str
    risk_level: str
    insurance_required: bool
    min_age: int
    required_skills: list[str]
    remaining: int
    shifts: list[ShiftOut]


class ActivityPage(Schema):
    items: list[ActivitySummaryOut]
    next_cursor: str | None


class SeriesOut(Schema):
    id: int
    weekdays: list[int]
    created_shifts: list[ShiftOut]


class SignupOut(Schema):
    id: int
    status: str
    shift_id: int
    activity_id: int
    activity_title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    created_at: datetime
    confirm_by: datetime | None
    cancel_deadline: datetime | None


class SignupPage(Schema):
    items: list[SignupOut]
    next_cursor: str | None


class RosterEntryOut(Schema):
    id: int
    status: str
    volunteer_no: str
    name_masked: str
    mobile_masked: str
    created_at: datetime
    confirm_by: datetime | None


class RosterPage(Schema):
    shift: ShiftOut
    items: list[RosterEntryOut]
    next_cursor: str | None


class AttendanceIn(Schema):
    checked_in_at: AwareDatetime
    checked_out_at: AwareDatetime


class RecordOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    activity_id: int | None
    activity_title: str
    service_date: date
    started_at: datetime
    ended_at: datetime
    place: str
    content: str
    recipients: str
    minutes: int
    hours: Decimal
    kind: str
    status: str
    status_reason: str
    source: str
    evaluation: str
    lead: str
    recorder: str


class TotalsOut(Schema):
    recorded_hours: Decimal
    backfilled_hours: Decimal
    approved_hours: Decimal
    pending_hours: Decimal
    stars: int
    next_star_at: Decimal | None
    records: int


class RecordPage(Schema):
    totals: TotalsOut | None = None
    items: list[RecordOut]
    next_cursor: str | None


class OrgRecordOut(RecordOut):
    volunteer_no: str
    name_masked: str


class OrgRecordPage(Schema):
    items: list[OrgRecordOut]
    next_cursor: str | None


class BackfillIn(Schema):
    organisation_id: int
    activity_id: int | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime
    place: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=2000)
    recipients: str = Field("", max_length=200)


class DecisionIn(Schema):
    evaluation: str = Field("", max_length=2000)
    reason: str = Field("", max_length=2000)


class CertificateVerifyOut(Schema):
    valid: bool
    number: str
    holder_name_masked: str
    volunteer_no: str
    organisation: str
    hours: Decimal
    issued_at: datetime


# --- shaping ----------------------------------------------------------------------------------


def _profile_out(profile: VolunteerProfile) -> dict:
    number = unseal(profile.id_number_sealed, purpose=services.ID_PURPOSE)
    today = timezone.localdate()
    from backend.volunteers import conf

    age = (
        today.year
        - profile.birth_date.year
        - ((today.month, today.day) < (profile.birth_date.month, profile.birth_date.day))
    )
    return {
        "volunteer_no": profile.volunteer_no or "",
        "real_name_masked": mask_name(profile.real_name),
        "id_type": profile.id_type,
        "id_number_masked": mask_id_number(number),
        "birth_date": profile.birth_date,
        "gender": profile.gender,
        "mobile_masked": mask_phone(profile.mobile),
        "division_code": profile.division_id,
        "division_name": profile.division.name,
        "skills": profile.skills,
        "service_categories": profile.service_categories,
        "available_times": profile.available_times,
        "is_minor": age < conf.adult_age(),
        "guardian_name_masked": mask_name(profile.guardian_name),
        "consents": [
            {"kind": c.kind, "version": c.version, "accepted_at": c.accepted_at}
            for c in profile.consents.all()
            if c.withdrawn_at is None
        ],
        "banned_until": profile.banned_until
        if profile.banned_until and profile.banned_until > timezone.now()
        else None,
    }


def _org_out(org: Organisation) -> dict:
    return {
        "id": org.pk,
        "name": org.name,
        "division_code": org.division_id,
        "contact_name": org.contact_name,
    }


def _post_out(post) -> dict:
    return {
        "id": post.pk,
        "name": post.name,
        "division_code": post.division_id,
        "address": post.address,
        "latitude": post.latitude,
        "longitude": post.longitude,
        "host": post.host,
    }


def _shift_out(shift: Shift) -> dict:
    return {
        "id": shift.pk,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "capacity": shift.capacity,
        "taken": shift.taken,
        "remaining": shift.remaining,
        "waitlist_size": shift.waitlist_size,
        "waitlisted": shift.waitlisted,
        "signup_opens_at": shift.signup_opens_at,
        "signup_closes_at": shift.signup_closes_at,
        "cancel_deadline": shift.cancel_deadline,
        "status": shift.status,
        "series_id": shift.series_id,
    }


def _activity_common(a: Activity) -> dict:
    return {
        "id": a.pk,
        "programme": a.programme,
        "title": a.title,
        "organisation": _org_out(a.organisation),
        "division_code": a.division_id,
        "category": a.category,
        "place": a.place,
        "risk_level": a.risk_level,
        "insurance_required": a.insurance_required,
        "min_age": a.min_age,
        "required_skills": a.required_skills,
        "river_segment_id": a.river_segment_id,
    }


class _ActivityListed(TypedDict):
    """What ``selectors.activity_list`` annotates on each activity."""

    remaining: int | None
    upcoming_shifts: int
    next_starts_at: datetime | None


def _activity_summary(a: WithAnnotations[Activity, _ActivityListed]) -> dict:
    return {
        **_activity_common(a),
        "post_id": a.post_id,
        "remaining": a.remaining or 0,
        "upcoming_shifts": a.upcoming_shifts,
        "next_starts_at": a.next_starts_at,
    }


def _activity_out(a: Activity) -> dict:
    shifts = list(a.shifts.all())
    now = timezone.now()
    return {
        **_activity_common(a),
        "description": a.description,
        "status": a.status,
        "recipients": a.recipients,
        "post": _post_out(a.post) if a.post else None,
        "river_segment_name": str(a.river_segment) if a.river_segment else "",
        "remaining": sum(s.remaining for s in shifts if s.status == Shift.Status.OPEN and s.starts_at > now),
        "shifts": [_shift_out(s) for s in shifts],
    }


def _signup_out(s: Signup) -> dict:
    shift = s.shift
    return {
        "id": s.pk,
        "status": s.status,
        "shift_id": shift.pk,
        "activity_id": shift.activity_id,
        "activity_title": shift.activity.title,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "place": shift.activity.place,
        "created_at": s.created_at,
        "confirm_by": s.confirm_by if s.status == Signup.Status.PROMOTED else None,
        "cancel_deadline": shift.cancel_deadline,
    }


def _record_out(r: ServiceRecord) -> dict:
    return {
        "id": r.pk,
        "organisation_id": r.organisation_id,
        "organisation_name": r.organisation.name,
        "activity_id": r.activity_id,
        "activity_title": r.activity.title if r.activity else "",
        "service_date": r.service_date,
        "started_at": r.started_at,
        "ended_at": r.ended_at,
        "place": r.place,
        "content": r.content,
        "recipients": r.recipients,
        "minutes": r.minutes,
        "hours": r.hours,
        "kind": r.kind,
        "status": r.status,
        "status_reason": r.status_reason,
        "source": r.source,
        "evaluation": r.evaluation,
        "lead": documents.masked_person(r.lead) if r.lead_id else "",
        "recorder": documents.masked_person(r.recorder) if r.recorder_id else "",
    }


# --- registration -----------------------------------------------------------------------------


@router.put("/volunteer/profile", response={200: ProfileOut, **ERRORS})
def profile_put(request, payload: ProfileIn):
    """Register as a volunteer or update the profile; the ID number never comes back unmasked."""
    profile = services.volunteer_profile_save(
        user=request.auth,
        real_name=payload.real_name,
        id_number=payload.id_number,
        mobile=payload.mobile,
        division_code=payload.division_code,
        skills=payload.skills,
        service_categories=payload.service_categories,
        available_times=payload.available_times,
        consents=[c.dict() for c in payload.consents],
        guardian=payload.guardian.dict() if payload.guardian else None,
    )
    return _profile_out(profile_access(user=profile.user))


@router.get("/volunteer/profile", response={200: ProfileOut, **ERRORS})
def profile_get(request):
    return _profile_out(profile_access(user=request.auth))


# --- organisations and posts ------------------------------------------------------------------


@router.post("/volunteer/organisations", response={201: OrganisationOut, **ERRORS})
def organisation_create(request, payload: OrganisationIn):
    """Platform admins create volunteer organisations (志愿服务组织)."""
    authorize(request.auth, Action.ORGANISATION_CREATE, hide=False)
    org = services.organisation_create(by=request.auth, **payload.dict())
    return Status(201, _org_out(org))


@router.get("/volunteer/organisations", response={200: list[OrganisationOut], **ERRORS})
def organisation_mine(request):
    """Organisations the caller coordinates."""
    return [_org_out(o) for o in selectors.organisations_coordinated(user=request.auth)]


@router.post(
    "/volunteer/organisations/{organisation_id}/coordinators", response={201: OrganisationOut, **ERRORS}
)
def coordinator_add(request, organisation_id: int, payload: CoordinatorIn):
    org = organisation_access(
        user=request.auth, organisation_id=organisation_id, action=Action.COORDINATORS_MANAGE, hide=False
    )
    from backend.core.validators import InvalidPhone, normalize_mainland_mobile

    try:
        phone = normalize_mainland_mobile(payload.phone)
    except InvalidPhone:
        raise ValidationFailed(
            errors=[field_error("phone", "invalid_phone", T("手机号无效。", "Invalid phone."))]
        ) from None
    user = User.objects.filter(phone=phone).first()
    if user is None:
        raise NotFound(T("该手机号尚未注册。", "No user with this phone number."))
    services.organisation_coordinator_add(organisation=org, user=user, by=request.auth)
    return Status(201, _org_out(org))


@router.post("/service-posts", response={201: PostOut, **ERRORS})
def post_create(request, payload: PostIn):
    """A red-vest service post (U站); coordinators create posts of their organisation."""
    org = post_organisation_access(user=request.auth, organisation_id=payload.organisation_id)
    data = payload.dict(exclude={"organisation_id"})
    post = services.service_post_create(by=request.auth, organisation=org, **data)
    return Status(201, _post_out(post))


class PostPage(Schema):
    items: list[PostOut]
    next_cursor: str | None


@router.get("/service-posts", response={200: PostPage, **ERRORS})
def post_list(request, division: str | None = None, cursor: str | None = None, limit: int = 20):
    page = selectors.service_post_list(division=division, cursor=cursor, limit=limit)
    return {"items": [_post_out(p) for p in page.items], "next_cursor": page.next_cursor}


# --- activities and shifts --------------------------------------------------------------------


@router.post("/activities", response={201: ActivityOut, **ERRORS})
def activity_create(request, payload: ActivityIn):
    """A draft activity of an organisation the caller coordinates."""
    org = organisation_access(user=request.auth, organisation_id=payload.organisation_id, hide=False)
    activity = services.activity_create(
        by=request.auth, organisation=org, **payload.dict(exclude={"organisation_id"})
    )
    return Status(201, _activity_out(activity_detail_access(user=request.auth, activity_id=activity.pk)))


class ActivityFilters(Schema):
    programme: Literal["red_vest", "river"] | None = None
    division: str | None = Field(None, max_length=12)
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None
    has_space: bool | None = None
    organisation_id: int | None = None
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@router.get("/activities", response={200: ActivityPage, **ERRORS})
def activity_list(request, filters: Query[ActivityFilters]):
    """Published activities with upcoming shifts (in ``from``..``to``), remaining places, cursor pages."""
    page = selectors.activity_list(
        programme=filters.programme,
        division=filters.division,
        date_from=filters.from_,
        date_to=filters.to,
        has_space=filters.has_space,
        organisation_id=filters.organisation_id,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_activity_summary(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/activities/{activity_id}", response={200: ActivityOut, **ERRORS})
def activity_detail(request, activity_id: int):
    return _activity_out(activity_detail_access(user=request.auth, activity_id=activity_id))


@router.post("/activities/{activity_id}/publish", response={200: ActivityOut, **ERRORS})
def activity_publish(request, activity_id: int):
    """Publish a draft; only future activities (every shift in the future) can be published."""
    activity = activity_access(user=request.auth, activity_id=activity_id)
    services.activity_publish(activity=activity, by=request.auth)
    return _activity_out(activity_detail_access(user=request.auth, activity_id=activity_id))


@router.post("/activities/{activity_id}/shifts", response={201: ShiftOut, **ERRORS})
def shift_create(request, activity_id: int, payload: ShiftIn):
    activity = activity_access(user=request.auth, activity_id=activity_id)
    shift = services.shift_create(activity=activity, by=request.auth, **payload.dict())
    return Status(201, _shift_out(shift))


@router.post("/activities/{activity_id}/shift-series", response={201: SeriesOut, **ERRORS})
def series_create(request, activity_id: int, payload: SeriesIn):
    """A weekly rule; occurrences are generated now and kept ahead by the scheduler."""
    activity = activity_access(user=request.auth, activity_id=activity_id)
    series, shifts = services.shift_series_create(activity=activity, by=request.auth, **payload.dict())
    return Status(
        201,
        {"id": series.pk, "weekdays": series.weekdays, "created_shifts": [_shift_out(s) for s in shifts]},
    )


@router.patch("/shifts/{shift_id}", response={200: ShiftOut, **ERRORS})
def shift_patch(request, shift_id: int, payload: ShiftPatch):
    shift = shift_access(user=request.auth, shift_id=shift_id, action=Action.SHIFT_MANAGE)
    return _shift_out(services.shift_capacity_set(shift=shift, capacity=payload.capacity, by=request.auth))


# --- sign-ups ---------------------------------------------------------------------------------


@router.post("/shifts/{shift_id}/signups", response={201: SignupOut, **ERRORS})
def signup_create(request, shift_id: int):
    """Sign up: ``confirmed`` while places last, then ``waitlisted``; 409 ``shift_full`` after."""
    signup = services.shift_signup_create(shift_id=shift_id, user=request.auth)
    return Status(201, _signup_out(signup))


@router.get("/shifts/{shift_id}/signups", response={200: RosterPage, **ERRORS})
def shift_roster(request, shift_id: int, cursor: str | None = None, limit: int = 100):
    """The coordinator's roster, masked."""
    shift = shift_access(user=request.auth, shift_id=shift_id, action=Action.SHIFT_ROSTER)
    page = selectors.shift_roster(shift=shift, cursor=cursor, limit=limit)
    items = []
    for s in page.items:
        who = documents.volunteer_shown(s.user)
        items.append(
            {
                "id": s.pk,
                "status": s.status,
                "volunteer_no": who.volunteer_no,
                "name_masked": who.name_masked,
                "mobile_masked": who.mobile_masked,
                "created_at": s.created_at,
                "confirm_by": s.confirm_by if s.status == Signup.Status.PROMOTED else None,
            }
        )
    return {"shift": _shift_out(shift), "items": items, "next_cursor": page.next_cursor}


@router.delete("/signups/{signup_id}", response={200: SignupOut, **ERRORS})
def signup_cancel(request, signup_id: int):
    """Cancel; after the cancellation deadline it counts as ``cancelled_late``."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.SIGNUP_CANCEL)
    return _signup_out(services.signup_cancel(signup=signup, by=request.auth))


@router.post("/signups/{signup_id}/confirm", response={200: SignupOut, **ERRORS})
def signup_confirm(request, signup_id: int):
    """A promoted waitlister confirms before ``confirm_by``."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.SIGNUP_CANCEL)
    return _signup_out(services.signup_confirm(signup=signup, by=request.auth))


@router.post("/signups/{signup_id}/no-show", response={200: SignupOut, **ERRORS})
def signup_no_show(request, signup_id: int):
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.ATTENDANCE_RECORD)
    return _signup_out(services.signup_mark_no_show(signup=signup, by=request.auth))


@router.post("/signups/{signup_id}/attendance", response={201: RecordOut, **ERRORS})
def signup_attendance(request, signup_id: int, payload: AttendanceIn):
    """The coordinator records check-in and check-out; the service record comes back."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.ATTENDANCE_RECORD)
    ref = f"attendance:{signup.pk}:{int(payload.checked_in_at.timestamp())}"
    record = services.attendance_record(
        signup=signup,
        checked_in_at=payload.checked_in_at,
        checked_out_at=payload.checked_out_at,
        recorder=request.auth,
        external_ref=ref,
    )
    record = ServiceRecord.objects.select_related("organisation", "activity", "lead", "recorder").get(
        pk=record.pk
    )
    return Status(201, _record_out(record))


@router.get("/me/signups", response={200: SignupPage, **ERRORS})
def my_signups(request, status: str | None = None, cursor: str | None = None, limit: int = 20):
    page = selectors.my_signups(user=request.auth, status=status, cursor=cursor, limit=limit)
    return {"items": [_signup_out(s) for s in page.items], "next_cursor": page.next_cursor}


# --- service hours ----------------------------------------------------------------------------


@router.get("/me/service-records", response={200: RecordPage, **ERRORS})
def my_records(
    request, kind: Literal["recorded", "backfilled"] | None = None, cursor: str | None = None, limit: int = 20
):
    """My service records, newest first, with totals (recorded and backfilled apart) and stars."""
    page = selectors.my_service_records(user=request.auth, kind=kind, cursor=cursor, limit=limit)
    totals = selectors.service_hour_totals(user=request.auth) if not cursor else None
    return {
        "totals": totals.__dict__ if totals else None,
        "items": [_record_out(r) for r in page.items],
        "next_cursor": page.next_cursor,
    }


@router.post("/me/backfill-requests", response={201: RecordOut, **ERRORS})
def backfill_request(request, payload: BackfillIn):
    """Past service (补录): kept apart from recorded hours, pending the organisation's approval."""
    org = selectors.organisation_get(organisation_id=payload.organisation_id)
    if org is None:
        raise NotFound()
    activity = None
    if payload.activity_id is not None:
        activity = Activity.objects.filter(pk=payload.activity_id, organisation=org).first()
        if activity is None:
            raise ValidationFailed(
                errors=[field_error("activity_id", "not_found", T("没有该活动。", "No such activity."))]
            )
    if selectors.volunteer_profile_of(user=request.auth) is None:
        from backend.volunteers.errors import RequirementsNotMet

        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    record = services.backfill_request_create(
        user=request.auth,
        organisation=org,
        activity=activity,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        place=payload.place,
        content=payload.content,
        recipients=payload.recipients,
    )
    record = ServiceRecord.objects.select_related("organisation", "activity").get(pk=record.pk)
    return Status(201, _record_out(record))


def _decide(request, record_id: int, payload: DecisionIn, approve: bool):
    record = record_access(user=request.auth, record_id=record_id, action=Action.RECORD_DECIDE)
    decided = services.service_record_decide(
        record=record, by=request.auth, approve=approve, evaluation=payload.evaluation, reason=payload.reason
    )
    decided = ServiceRecord.objects.select_related("organisation", "activity", "lead", "recorder").get(
        pk=decided.pk
    )
    return _record_out(decided)


@router.post("/service-records/{record_id}/approve", response={200: RecordOut, **ERRORS})
def record_approve(request, record_id: int, payload: DecisionIn):
    """The organisation approves a day over 8 h or a backfill; over 12 h needs a platform admin."""
    return _decide(request, record_id, payload, True)


@router.post("/service-records/{record_id}/reject", response={200: RecordOut, **ERRORS})
def record_reject(request, record_id: int, payload: DecisionIn):
    return _decide(request, record_id, payload, False)


@router.get(
    "/volunteer/organisations/{organisation_id}/service-records", response={200: OrgRecordPage, **ERRORS}
)
def org_records(
    request,
    organisation_id: int,
    status: Literal["valid", "pending", "escalated", "rejected", "refused"] | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    org = organisation_access(user=request.auth, organisation_id=organisation_id)
    page = selectors.organisation_records(organisation=org, status=status, cursor=cursor, limit=limit)
    items = []
    for r in page.items:
        who = documents.volunteer_shown(r.user)
        items.append({**_record_out(r), "volunteer_no": who.volunteer_no, "name_masked": who.name_masked})
    return {"items": items, "next_cursor": page.next_cursor}


@router.get(
    "/volunteer/organisations/{organisation_id}/service-records/export", response={200: None, **ERRORS}
)
def org_records_export(
    request,
    organisation_id: int,
    format: Literal["xlsx", "csv"] = "xlsx",
    status: Literal["valid", "pending", "escalated", "rejected", "refused"] | None = None,
):
    """Excel (default) or CSV of the organisation's records, personal data masked."""
    org = organisation_access(user=request.auth, organisation_id=organisation_id)
    records = selectors.organisation_records_all(organisation=org, status=status).iterator(chunk_size=1000)
    audit_record(actor=request.auth, action="service_records.exported", target=org, data={"format": format})
    stamp = timezone.localdate().strftime("%Y%m%d")
    if format == "csv":
        response = HttpResponse(documents.records_csv(records), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="service-records-{org.pk}-{stamp}.csv"'
    else:
        response = HttpResponse(
            documents.records_xlsx(records),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="service-records-{org.pk}-{stamp}.xlsx"'
    return response


@router.get("/me/certificate", response={200: None, **ERRORS})
def my_certificate(request, organisation_id: int | None = None):
    """A PDF certificate of approved hours, issued by the organisation that recorded them.

    With several recording organisations, ``organisation_id`` picks one (422 without it).
    """
    profile = profile_access(user=request.auth)
    orgs = selectors.record_organisations(user=request.auth)
    if organisation_id is not None:
        org = next((o for o in orgs if o.pk == organisation_id), None)
        if org is None:
            raise NothingToCertify()
    elif len(orgs) == 1:
        org = orgs[0]
    elif not orgs:
        raise NothingToCertify()
    else:
        raise ValidationFailed(
            errors=[
                field_error(
                    "organisation_id",
                    "required",
                    T("请选择出具证明的组织。", "Choose the organisation that issues the certificate."),
                    choices=[o.pk for o in orgs],
                )
            ]
        )
    cert = services.certificate_issue(user=request.auth, organisation=org)
    pdf, cjk = documents.certificate_pdf(cert=cert, profile=profile)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.number}.pdf"'
    response["X-Certificate-Number"] = cert.number
    response["X-Certificate-Font"] = "cjk" if cjk else "latin-fallback"
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/certificates/verify/{code}",
    response={200: CertificateVerifyOut, **ERRORS},
    auth=None,
    throttle=[CertificateVerifyThrottle()],
)
def certificate_verify(request, code: str):
    """Public check of a certificate's QR code: the masked holder, issuer, hours and date."""
    cert = selectors.certificate_by_code(code=code)
    if cert is None:
        raise NotFound()
    return {
        "valid": True,
        "number": cert.number,
        "holder_name_masked": cert.holder_name_masked,
        "volunteer_no": cert.volunteer_no,
        "organisation": cert.organisation.name,
        "hours": cert.hours,
        "issued_at": cert.issued_at,
    }
