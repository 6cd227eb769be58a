"""Reads of the volunteers domain. Lists take a cursor (the last id seen) and run a fixed number
of queries whatever the page size.

What a reader may see of a person is decided here: the ``*_shown`` functions set the masked
values on the objects they return (``real_name_masked``, ``lead_shown``, ``volunteer``…), and
the API schemas only read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_scope_ids
from backend.core.crypto import unseal
from backend.core.masking import mask_id_number, mask_name, mask_phone
from backend.core.pagination import keyset_page
from backend.core.validators import age_on
from backend.volunteers import conf
from backend.volunteers.hours import next_star_at, stars_for
from backend.volunteers.models import (
    ID_PURPOSE,
    Activity,
    Certificate,
    Organisation,
    ServicePost,
    ServiceRecord,
    Shift,
    Signup,
    SignupTransfer,
    VolunteerConsent,
    VolunteerProfile,
    VolunteerTeam,
    VolunteerTeamMember,
)
from backend.volunteers.proofs import proof_read

MAX_PAGE = 100


# --- cursors ----------------------------------------------------------------------------------


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def _page(qs: QuerySet, *, cursor: str | None, limit: int) -> Page:
    """Newest first by id; one query (fetches one extra row to know whether more follow)."""
    rows, next_cursor = keyset_page(qs, cursor=cursor, limit=limit, max_limit=MAX_PAGE)
    return Page(items=rows, next_cursor=next_cursor)


# --- how people are shown ---------------------------------------------------------------------


def masked_person(user: User | None) -> str:
    """A lead or recorder as shown to anyone: the masked display name (or masked phone)."""
    return mask_name(str(user)) if user is not None else ""


@dataclass
class VolunteerShown:
    volunteer_no: str
    name_masked: str
    mobile_masked: str


def volunteer_shown(user: User) -> VolunteerShown:
    """A volunteer on a roster, a record list or an export: number, masked name and mobile
    (from the profile; the account's own name and phone without one)."""
    profile = getattr(user, "volunteer_profile", None)
    return VolunteerShown(
        volunteer_no=getattr(profile, "volunteer_no", "") or "",
        name_masked=mask_name(getattr(profile, "real_name", "") or user.display_name),
        mobile_masked=mask_phone(getattr(profile, "mobile", "") or user.phone),
    )


# --- profiles ---------------------------------------------------------------------------------


def volunteer_profile_of(*, user: User) -> VolunteerProfile | None:
    return (
        VolunteerProfile.objects.select_related("division")
        .prefetch_related("consents")
        .filter(user=user)
        .first()
    )


def volunteer_profile_shown(*, profile: VolunteerProfile, now: datetime | None = None) -> VolunteerProfile:
    """``profile`` (from ``volunteer_profile_of``) as its owner sees it. Sets ``real_name_masked``,
    ``id_number_masked``, ``mobile_masked``, ``guardian_name_masked``, ``is_minor`` (today),
    ``consents_given`` (those not withdrawn) and ``banned_until_shown`` (None once lapsed)."""
    now = now or timezone.now()
    shown: Any = profile
    shown.real_name_masked = mask_name(profile.real_name)
    shown.id_number_masked = mask_id_number(unseal(profile.id_number_sealed, purpose=ID_PURPOSE))
    shown.mobile_masked = mask_phone(profile.mobile)
    shown.guardian_name_masked = mask_name(profile.guardian_name)
    shown.is_minor = age_on(profile.birth_date, timezone.localdate(now)) < conf.adult_age()
    shown.consents_given = [c for c in profile.consents.all() if c.withdrawn_at is None]
    banned = profile.banned_until
    shown.banned_until_shown = banned if banned and banned > now else None
    return profile


# --- organisations and posts -----------------------------------------------------------------


def organisation_get(*, organisation_id: int) -> Organisation | None:
    return Organisation.objects.select_related("division").filter(pk=organisation_id).first()


def organisations_coordinated(*, user: User) -> QuerySet[Organisation]:
    ids = [int(i) for i in user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION) if i.isdigit()]
    return Organisation.objects.filter(pk__in=ids).select_related("division").order_by("id")


def service_post_list(*, division: str | None = None, cursor: str | None = None, limit: int = 20) -> Page:
    qs = ServicePost.objects.filter(is_active=True).select_related("division", "organisation")
    if division:
        qs = qs.filter(division__code__startswith=division)
    return _page(qs, cursor=cursor, limit=limit)


# --- activities -------------------------------------------------------------------------------


def _shift_filter(prefix: str, *, now: datetime, date_from: datetime | None, date_to: datetime | None) -> Q:
    q = Q(**{f"{prefix}status": Shift.Status.OPEN, f"{prefix}starts_at__gt": now})
    if date_from is not None:
        q &= Q(**{f"{prefix}starts_at__gte": date_from})
    if date_to is not None:
        q &= Q(**{f"{prefix}starts_at__lt": date_to})
    return q


def activity_list(
    *,
    programme: str | None = None,
    division: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    has_space: bool | None = None,
    organisation_id: int | None = None,
    cursor: str | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> Page:
    """Published activities with upcoming shifts in the range, each annotated with
    ``remaining`` places, ``upcoming_shifts`` and ``next_starts_at``. One query per page."""
    now = now or timezone.now()
    shift_q = _shift_filter("shifts__", now=now, date_from=date_from, date_to=date_to)
    qs = (
        Activity.objects.filter(status=Activity.Status.PUBLISHED)
        .select_related("organisation", "post", "division", "river_segment", "river_segment__river")
        .annotate(
            remaining=Sum(F("shifts__capacity") - F("shifts__taken"), filter=shift_q),
            upcoming_shifts=Count("shifts", filter=shift_q),
            next_starts_at=Min("shifts__starts_at", filter=shift_q),
        )
        .filter(upcoming_shifts__gt=0)
    )
    if programme:
        qs = qs.filter(programme=programme)
    if division:
        qs = qs.filter(division__code__startswith=division)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    if has_space is True:
        qs = qs.filter(remaining__gt=0)
    elif has_space is False:
        qs = qs.filter(remaining=0)
    return _page(qs, cursor=cursor, limit=limit)


def activity_get(*, activity_id: int, now: datetime | None = None) -> Activity | None:
    """An activity with its shifts, whatever its status (who may see a draft:
    ``permissions.activity_detail_access``); ``remaining`` is set to the free places of its
    upcoming open shifts, as ``activity_list`` annotates it."""
    activity = (
        Activity.objects.select_related(
            "organisation", "post", "division", "river_segment", "river_segment__river"
        )
        .prefetch_related(Prefetch("shifts", queryset=Shift.objects.order_by("starts_at", "id")))
        .filter(pk=activity_id)
        .first()
    )
    if activity is not None:
        now = now or timezone.now()
        shown: Any = activity
        shown.remaining = sum(
            s.remaining for s in activity.shifts.all() if s.status == Shift.Status.OPEN and s.starts_at > now
        )
    return activity


def shift_get(*, shift_id: int) -> Shift | None:
    return Shift.objects.select_related("activity", "activity__organisation").filter(pk=shift_id).first()


def signup_get(*, signup_id: int) -> Signup | None:
    return (
        Signup.objects.select_related("shift", "shift__activity", "shift__activity__organisation", "user")
        .filter(pk=signup_id)
        .first()
    )


def my_signups(*, user: User, status: str | None = None, cursor: str | None = None, limit: int = 20) -> Page:
    qs = Signup.objects.filter(user=user).select_related(
        "shift", "shift__activity", "shift__activity__organisation"
    )
    if status:
        qs = qs.filter(status=status)
    return _page(qs, cursor=cursor, limit=limit)


def signup_confirm_by(signup: Signup) -> datetime | None:
    """When a promoted waitlister must confirm by; nothing to show in any other status."""
    return signup.confirm_by if signup.status == Signup.Status.PROMOTED else None


@dataclass
class RosterPage(Page):
    shift: Shift


def shift_roster(*, shift: Shift, cursor: str | None = None, limit: int = 100) -> RosterPage:
    """A page of the shift's sign-ups, each with ``volunteer`` (``VolunteerShown``) set."""
    qs = Signup.objects.filter(shift=shift).select_related("user", "user__volunteer_profile")
    page = _page(qs, cursor=cursor, limit=limit)
    for signup in page.items:
        signup.volunteer = volunteer_shown(signup.user)
    return RosterPage(items=page.items, next_cursor=page.next_cursor, shift=shift)


# --- service records --------------------------------------------------------------------------


def service_record_shown(record: ServiceRecord) -> ServiceRecord:
    """Sets ``lead_shown`` and ``recorder_shown``: masked names, "" for nobody."""
    shown: Any = record
    shown.lead_shown = masked_person(record.lead) if record.lead_id else ""
    shown.recorder_shown = masked_person(record.recorder) if record.recorder_id else ""
    return record


def service_record_get(*, record_id: int) -> ServiceRecord:
    """A record that exists (just written or decided), with what ``service_record_shown`` sets."""
    record = ServiceRecord.objects.select_related("organisation", "activity", "lead", "recorder").get(
        pk=record_id
    )
    return service_record_shown(record)


@dataclass
class HourTotals:
    recorded_hours: Decimal  # 信用时数, approved
    backfilled_hours: Decimal  # 补录, approved
    approved_hours: Decimal
    pending_hours: Decimal  # waiting for the organisation or escalated
    stars: int
    next_star_at: Decimal | None
    records: int


def service_hour_totals(*, user: User) -> HourTotals:
    rows = (
        ServiceRecord.objects.filter(user=user)
        .values("kind", "status")
        .annotate(total=Sum("hours"), n=Count("id"))
    )
    recorded = backfilled = pending = Decimal("0")
    count = 0
    for row in rows:
        total = row["total"] or Decimal("0")
        count += row["n"]
        if row["status"] == ServiceRecord.Status.VALID:
            if row["kind"] == ServiceRecord.Kind.RECORDED:
                recorded += total
            else:
                backfilled += total
        elif row["status"] in (ServiceRecord.Status.PENDING, ServiceRecord.Status.ESCALATED):
            pending += total
    tenth = Decimal("0.1")
    recorded, backfilled, pending = (v.quantize(tenth) for v in (recorded, backfilled, pending))
    approved = recorded + backfilled
    return HourTotals(
        recorded_hours=recorded,
        backfilled_hours=backfilled,
        approved_hours=approved,
        pending_hours=pending,
        stars=stars_for(approved),
        next_star_at=next_star_at(approved),
        records=count,
    )


@dataclass
class RecordPage(Page):
    totals: HourTotals | None = None


def my_service_records(
    *,
    user: User,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
    with_totals: bool = False,
) -> RecordPage:
    """A page of the user's records (``service_record_shown``), with the totals if asked."""
    qs = ServiceRecord.objects.filter(user=user).select_related(
        "organisation", "activity", "lead", "recorder"
    )
    if kind:
        qs = qs.filter(kind=kind)
    page = _page(qs, cursor=cursor, limit=limit)
    return RecordPage(
        items=[service_record_shown(r) for r in page.items],
        next_cursor=page.next_cursor,
        totals=service_hour_totals(user=user) if with_totals else None,
    )


def organisation_records(
    *, organisation: Organisation, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """A page of the organisation's records (``service_record_shown``), each with ``volunteer``
    (``VolunteerShown``) set."""
    page = _page(
        _organisation_records_qs(organisation=organisation, status=status), cursor=cursor, limit=limit
    )
    for record in page.items:
        shown: Any = service_record_shown(record)
        shown.volunteer = volunteer_shown(record.user)
    return page


def _organisation_records_qs(
    *, organisation: Organisation, status: str | None = None
) -> QuerySet[ServiceRecord]:
    qs = ServiceRecord.objects.filter(organisation=organisation).select_related(
        "organisation", "user", "user__volunteer_profile", "activity", "lead", "recorder"
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def organisation_records_all(
    *, organisation: Organisation, status: str | None = None
) -> QuerySet[ServiceRecord]:
    """Every record of the organisation, oldest first, for exports (iterate, don't list)."""
    return _organisation_records_qs(organisation=organisation, status=status).order_by("service_date", "id")


def certificate_by_code(*, code: str) -> Certificate | None:
    if not code or len(code) > 32:
        return None
    return Certificate.objects.select_related("organisation").filter(verify_code=code.upper()).first()


@dataclass(frozen=True)
class ProofCheck:
    """What a proof's QR page says: ``genuine``, ``revoked`` or ``not_genuine``; ``fields`` are the
    signed fields (None when not genuine)."""

    status: str
    fields: dict[str, str] | None = None
    revoked_at: datetime | None = None


def certificate_proof_check(*, token: str) -> ProofCheck:
    """The signature first (no query for a forgery), then the certificate's live state: the proof
    number must name a certificate issued with exactly this token."""
    read = proof_read(token)
    if read is None:
        return ProofCheck("not_genuine")
    cert = Certificate.objects.filter(number=read.fields["no"]).only("proof_token", "revoked_at").first()
    if cert is None or cert.proof_token != read.token:
        return ProofCheck("not_genuine")
    if cert.revoked_at is not None:
        return ProofCheck("revoked", read.fields, cert.revoked_at)
    return ProofCheck("genuine", read.fields)


def certificate_by_number(*, number: str) -> Certificate | None:
    if not number or len(number) > 30:
        return None
    return Certificate.objects.select_related("organisation").filter(number=number).first()


def record_organisations(*, user: User) -> list[Organisation]:
    """Organisations that recorded approved service of the user (who may certify it)."""
    ids = (
        ServiceRecord.objects.filter(user=user, status=ServiceRecord.Status.VALID)
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    return list(Organisation.objects.filter(pk__in=list(ids)).order_by("id"))


# --- consents -----------------------------------------------------------------------------------


def registration_kinds() -> set[str]:
    """The consents a registration stands on: the current required texts and a guardian's."""
    return {*conf.consent_versions(), VolunteerConsent.Kind.GUARDIAN}


def guardian_consented() -> Exists:
    """For a VolunteerProfile queryset: a standing guardian consent given by the guardian
    themselves (``given_by``; a box the minor ticked does not count)."""
    return Exists(
        VolunteerConsent.objects.filter(
            profile=OuterRef("pk"),
            kind=VolunteerConsent.Kind.GUARDIAN,
            withdrawn_at__isnull=True,
            given_by__isnull=False,
        )
    )


def guardian_requests(*, guardian: User) -> list[VolunteerProfile]:
    """Minors who named this user's (verified) phone as their guardian's, with the consents."""
    return list(
        VolunteerProfile.objects.filter(guardian_mobile=guardian.phone)
        .exclude(guardian_mobile="")
        .exclude(user=guardian)
        .prefetch_related("consents")
        .order_by("id")
    )


def consent_lapsed() -> Exists:
    """For a VolunteerProfile queryset: a consent the registration stands on was withdrawn and
    not given again (annotate ``consent_lapsed=consent_lapsed()``)."""
    again = VolunteerConsent.objects.filter(
        profile=OuterRef("profile"), kind=OuterRef("kind"), withdrawn_at__isnull=True
    )
    return Exists(
        VolunteerConsent.objects.filter(
            profile=OuterRef("pk"), kind__in=sorted(registration_kinds()), withdrawn_at__isnull=False
        ).exclude(Exists(again))
    )


# --- teams --------------------------------------------------------------------------------------


def _teams() -> QuerySet[VolunteerTeam]:
    members = VolunteerTeamMember.objects.select_related("user__volunteer_profile").order_by("id")
    return VolunteerTeam.objects.prefetch_related(Prefetch("members", queryset=members))


def team_get(*, team_id: int) -> VolunteerTeam | None:
    """A team with its members (and their profiles) loaded: three queries."""
    return _teams().filter(pk=team_id).first()


def teams_of(*, user: User) -> list[VolunteerTeam]:
    """Teams the user leads, belongs to or is invited to (three queries whatever their number)."""
    ids = VolunteerTeamMember.objects.filter(
        user=user, status__in=[VolunteerTeamMember.Status.INVITED, VolunteerTeamMember.Status.ACTIVE]
    ).values("team_id")
    return list(_teams().filter(pk__in=ids).order_by("id"))


# --- place transfers ----------------------------------------------------------------------------


def _transfers() -> QuerySet[SignupTransfer]:
    return SignupTransfer.objects.select_related(
        "signup__shift__activity", "from_user__volunteer_profile", "to_user__volunteer_profile"
    )


def transfer_get(*, transfer_id: int) -> SignupTransfer | None:
    return _transfers().filter(pk=transfer_id).first()


def transfers_of(*, user: User, limit: int = 50) -> list[SignupTransfer]:
    """Offers the user made or received, newest first (one query)."""
    return list(_transfers().filter(Q(from_user=user) | Q(to_user=user)).order_by("-id")[:limit])


def transfer_status_shown(transfer: SignupTransfer, *, now: datetime | None = None) -> str:
    """An open offer past its expiry reads ``expired`` before anything wrote it down."""
    if transfer.status == SignupTransfer.Status.OFFERED and (now or timezone.now()) >= transfer.expires_at:
        return SignupTransfer.Status.EXPIRED
    return transfer.status
