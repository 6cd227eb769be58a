"""Schemas of the volunteers API. Names are unique across the whole API (one OpenAPI component
each); generic words carry the domain (``VolunteerProfileOut``, ``ServicePostOut``,
``VolunteerRecordOut``…).

Outputs read the objects the services and selectors return. What a reader may see of a person
is decided by the selectors (``volunteer_profile_shown``, ``service_record_shown``,
``shift_roster``… set the masked values); fields here only read them, through an alias
(``Field(alias="shift.starts_at")``) or a ``resolve_*`` method (a default for a blank, a value
the selectors compute).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from api.schemas import MOBILE_PATTERN, Schema
from backend.volunteers import selectors
from backend.volunteers.models import Activity, Certificate, Shift, ShiftSeries, Signup

# --- profiles ---------------------------------------------------------------------------------


class VolunteerConsentIn(Schema):
    kind: str = Field(max_length=20)
    version: str = Field(max_length=20)


class VolunteerGuardianIn(Schema):
    name: str = Field("", max_length=50)
    mobile: str = Field("", max_length=32)
    relation: str = Field("", max_length=20)
    consent: bool = Field(
        False,
        description="Ignored: the guardian gives consent signed in on their own phone "
        "(POST /me/guardian-requests/{profile_id}/consent).",
    )


class VolunteerProfileIn(Schema):
    real_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=32)
    mobile: str = Field(min_length=1, max_length=32)
    division_code: str = Field(min_length=2, max_length=12)
    skills: list[str] = Field(default_factory=list, max_length=30)
    service_categories: list[str] = Field(default_factory=list, max_length=30)
    available_times: list[str] = Field(default_factory=list, max_length=30)
    consents: list[VolunteerConsentIn] = Field(default_factory=list, max_length=10)
    guardian: VolunteerGuardianIn | None = None


class VolunteerConsentOut(Schema):
    kind: str
    version: str
    accepted_at: datetime
    withdrawn_at: datetime | None = None


class VolunteerProfileOut(Schema):
    # Reads a profile prepared by ``selectors.volunteer_profile_shown``.

    volunteer_no: str
    real_name_masked: str
    id_type: str
    id_number_masked: str
    birth_date: date
    gender: str
    mobile_masked: str
    division_code: str = Field(alias="division_id")
    division_name: str = Field(alias="division.name")
    skills: list[str]
    service_categories: list[str]
    available_times: list[str]
    is_minor: bool
    guardian_name_masked: str
    consents: list[VolunteerConsentOut] = Field(alias="consents_given")
    banned_until: datetime | None = Field(alias="banned_until_shown")

    @staticmethod
    def resolve_volunteer_no(obj: Any) -> str:
        return obj.volunteer_no or ""


class VolunteerIdCorrectionIn(Schema):
    id_number: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500, description="Why: a typo at registration, a new card…")


class VolunteerIdCorrectionConfirmIn(Schema):
    id_number: str = Field(
        min_length=1, max_length=32, description="Typed from the card the staff member checked."
    )


class VolunteerIdCorrectionRejectIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class VolunteerIdCorrectionOut(Schema):
    # A correction prepared by ``selectors.id_correction_shown``.

    id: int
    status: str
    old_number_masked: str
    new_number_masked: str
    reason: str
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str
    volunteer_no: str = Field(alias="volunteer.volunteer_no")
    name_masked: str = Field(alias="volunteer.name_masked")


class VolunteerIdCorrectionPage(Schema):
    items: list[VolunteerIdCorrectionOut]
    next_cursor: str | None


# --- organisations and service posts ----------------------------------------------------------


class VolunteerOrganisationIn(Schema):
    name: str = Field(min_length=2, max_length=100)
    division_code: str = Field(min_length=2, max_length=12)
    uscc: str = Field("", max_length=18)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)


class VolunteerOrganisationOut(Schema):
    id: int
    name: str
    division_code: str = Field(alias="division_id")
    contact_name: str


class VolunteerCoordinatorIn(Schema):
    phone: str = Field(min_length=11, max_length=20, pattern=MOBILE_PATTERN)


class ServicePostIn(Schema):
    name: str = Field(min_length=2, max_length=100)
    division_code: str = Field(min_length=2, max_length=12)
    address: str = Field("", max_length=200)
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    host: str = Field("", max_length=100)
    organisation_id: int | None = None
    geofence_radius_m: int = Field(200, ge=20, le=5000, description="Self check-in radius around the post.")
    coord: Literal["wgs84", "gcj02"] = Field("wgs84", description="The system of latitude/longitude.")


class ServicePostOut(Schema):
    id: int
    name: str
    division_code: str = Field(alias="division_id")
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    host: str
    geofence_radius_m: int


class ServicePostPage(Schema):
    items: list[ServicePostOut]
    next_cursor: str | None


# --- activities, shifts, series ---------------------------------------------------------------


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
    hours_mode: Literal["scanner", "self_checkin", "self_checkin_checkout"] = Field(
        "scanner",
        description="How hours are credited: scanner only, self check-in (to the shift's end), "
        "or self check-in and check-out.",
    )


class ActivityFilters(Schema):
    q: str = Field(
        "",
        max_length=100,
        description="Keywords (whitespace-separated, all must occur) in title or description; substring match, Chinese included, from one character.",
    )
    lat: float | None = Field(
        None, ge=-90, le=90, description="Latitude of the searcher: results nearest first."
    )
    lon: float | None = Field(None, ge=-180, le=180, description="Longitude of the searcher.")
    radius_km: float | None = Field(
        None, gt=0, le=50, description="Search radius (default 5 km, at most 50)."
    )
    coord: Literal["wgs84", "gcj02"] = Field(
        "wgs84", description="Datum of lat/lon: gcj02 as wx.getLocation({type: 'gcj02'}) reports."
    )
    skills: str = Field(
        "", max_length=200, description="Comma-separated skills: activities asking for at least one of them."
    )
    programme: Literal["red_vest", "river"] | None = None
    division: str | None = Field(None, max_length=12)
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None
    has_space: bool | None = None
    organisation_id: int | None = None
    # Search pages by distance or by keyword rank: its own opaque cursor, not the id one.
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=100)


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


class ShiftSeriesIn(Schema):
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


class _ActivityBase(Schema):
    id: int
    programme: str
    title: str
    organisation: VolunteerOrganisationOut
    division_code: str = Field(alias="division_id")
    category: str
    place: str
    river_segment_id: int | None
    risk_level: str
    insurance_required: bool
    min_age: int
    required_skills: list[str]
    remaining: int

    @staticmethod
    def resolve_remaining(obj: Any) -> int:
        return obj.remaining or 0


class ActivitySummaryOut(_ActivityBase):
    # An activity as ``selectors.activity_list`` annotates it.

    post_id: int | None
    upcoming_shifts: int
    next_starts_at: datetime | None
    latitude: float | None = Field(description="WGS-84, from the activity's service post.")
    longitude: float | None
    distance_m: float | None = Field(None, description="From the searcher, when lat/lon were given.")

    @staticmethod
    def resolve_upcoming_shifts(obj: Any) -> int:
        return obj.upcoming_shifts or 0

    @staticmethod
    def resolve_distance_m(obj: Any) -> float | None:
        distance = getattr(obj, "distance_m", None)
        return None if distance is None else round(distance, 1)


class ActivityOut(_ActivityBase):
    # An activity from ``selectors.activity_get``: its shifts and remaining places.

    description: str
    status: str
    recipients: str
    hours_mode: str
    post: ServicePostOut | None
    river_segment_name: str
    shifts: list[ShiftOut]

    @staticmethod
    def resolve_river_segment_name(obj: Activity) -> str:
        return str(obj.river_segment) if obj.river_segment else ""


class ActivityPage(Schema):
    items: list[ActivitySummaryOut]
    next_cursor: str | None


class ShiftSeriesOut(Schema):
    id: int
    weekdays: list[int]
    created_shifts: list[ShiftOut]

    @classmethod
    def of(cls, series: ShiftSeries, *, created: list[Shift]) -> ShiftSeriesOut:
        """The series with the shifts its creation generated."""
        return cls(
            id=series.pk,
            weekdays=series.weekdays,
            created_shifts=[ShiftOut.from_orm(shift) for shift in created],
        )


# --- sign-ups ---------------------------------------------------------------------------------


class SignupOut(Schema):
    id: int
    status: str
    shift_id: int
    activity_id: int = Field(alias="shift.activity_id")
    activity_title: str = Field(alias="shift.activity.title")
    starts_at: datetime = Field(alias="shift.starts_at")
    ends_at: datetime = Field(alias="shift.ends_at")
    place: str = Field(alias="shift.activity.place")
    created_at: datetime
    confirm_by: datetime | None
    cancel_deadline: datetime | None = Field(alias="shift.cancel_deadline")

    @staticmethod
    def resolve_confirm_by(obj: Signup) -> datetime | None:
        return selectors.signup_confirm_by(obj)

    @classmethod
    def of(cls, signup: Signup) -> SignupOut:
        """The schema built straight from a sign-up whose shift and activity are loaded, as the
        sign-up path returns it: ninja then dumps it as it is. Validating the sign-up instead
        (attribute lookups through ninja's getter for each field, the dotted ones parsed anew
        each time) took 0.11 ms of the 0.12 ms its answer cost, on every sign-up of a burst.
        ``tests/volunteers/test_signups.py`` holds it equal to the validated answer."""
        shift = signup.shift
        activity = shift.activity
        return cls.model_construct(
            id=signup.pk,
            status=signup.status,
            shift_id=signup.shift_id,
            activity_id=shift.activity_id,
            activity_title=activity.title,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            place=activity.place,
            created_at=signup.created_at,
            confirm_by=selectors.signup_confirm_by(signup),
            cancel_deadline=shift.cancel_deadline,
        )


class SignupPage(Schema):
    items: list[SignupOut]
    next_cursor: str | None


class ShiftRosterEntryOut(Schema):
    # A sign-up from ``selectors.shift_roster`` (which sets ``volunteer``).

    id: int
    status: str
    volunteer_no: str = Field(alias="volunteer.volunteer_no")
    name_masked: str = Field(alias="volunteer.name_masked")
    mobile_masked: str = Field(alias="volunteer.mobile_masked")
    created_at: datetime
    confirm_by: datetime | None

    @staticmethod
    def resolve_confirm_by(obj: Signup) -> datetime | None:
        return selectors.signup_confirm_by(obj)


class ShiftRosterPage(Schema):
    shift: ShiftOut
    items: list[ShiftRosterEntryOut]
    next_cursor: str | None


class SignupAttendanceIn(Schema):
    checked_in_at: AwareDatetime
    checked_out_at: AwareDatetime


class VolunteerCalendarOut(Schema):
    url: str = Field(description="https address of the .ics feed (private: whoever has it reads it).")
    webcal_url: str = Field(
        description="The same address as webcal://, which calendar apps open to subscribe."
    )
    created_at: datetime

    @classmethod
    def of(cls, feed: Any, *, url: str) -> VolunteerCalendarOut:
        webcal = "webcal://" + url.split("://", 1)[-1]
        return cls(url=url, webcal_url=webcal, created_at=feed.created_at)


# --- service hours ----------------------------------------------------------------------------


class VolunteerRecordOut(Schema):
    # A service record prepared by ``selectors.service_record_shown``.

    id: int
    organisation_id: int
    organisation_name: str = Field(alias="organisation.name")
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
    lead: str = Field(alias="lead_shown")
    recorder: str = Field(alias="recorder_shown")

    @staticmethod
    def resolve_activity_title(obj: Any) -> str:
        return obj.activity.title if obj.activity else ""


class VolunteerHoursTotalsOut(Schema):
    recorded_hours: Decimal
    backfilled_hours: Decimal
    approved_hours: Decimal
    pending_hours: Decimal
    stars: int
    next_star_at: Decimal | None
    records: int


class VolunteerRecordPage(Schema):
    totals: VolunteerHoursTotalsOut | None = None
    items: list[VolunteerRecordOut]
    next_cursor: str | None


class OrganisationRecordOut(VolunteerRecordOut):
    # A record from ``selectors.organisation_records`` (which sets ``volunteer``).

    volunteer_no: str = Field(alias="volunteer.volunteer_no")
    name_masked: str = Field(alias="volunteer.name_masked")


class OrganisationRecordPage(Schema):
    items: list[OrganisationRecordOut]
    next_cursor: str | None


class BackfillRequestIn(Schema):
    organisation_id: int
    activity_id: int | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime
    place: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=2000)
    recipients: str = Field("", max_length=200)


class VolunteerRecordDecisionIn(Schema):
    evaluation: str = Field("", max_length=2000)
    reason: str = Field("", max_length=2000)


# --- certificates -----------------------------------------------------------------------------


class VolunteerCertificateVerifyOut(Schema):
    valid: bool
    number: str
    holder_name_masked: str
    volunteer_no: str
    organisation: str = Field(alias="organisation.name")
    hours: Decimal
    issued_at: datetime

    revoked_at: datetime | None = None

    @staticmethod
    def resolve_valid(obj: Certificate) -> bool:
        return obj.revoked_at is None  # only certificates that exist are shown


class VolunteerCertificateRevokeIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class VolunteerCertificateOut(Schema):
    number: str
    organisation_id: int
    holder_name_masked: str
    volunteer_no: str
    hours: Decimal
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str
    proof_url: str | None

    @staticmethod
    def resolve_proof_url(obj: Certificate) -> str | None:
        from backend.volunteers.proofs import proof_url

        return proof_url(obj.proof_token) if obj.proof_token else None


class VolunteerProofFieldsOut(Schema):
    """The signed fields, keys as in the token (see the README): 证明编号, 姓名 (masked), 证件类型,
    证件号码 (masked), 志愿者编号, 服务时数, 服务内容, 出具组织, 经办人, 出具日期."""

    no: str
    name: str
    idt: str
    idn: str
    vno: str
    h: str
    c: str
    org: str
    hdl: str
    d: str


class VolunteerProofCheckOut(Schema):
    status: Literal["genuine", "revoked", "not_genuine"]
    fields: VolunteerProofFieldsOut | None = None
    revoked_at: datetime | None = None
