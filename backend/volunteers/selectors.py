"""Reads of the volunteers domain. Lists take a cursor (the last id seen) and run a fixed number
of queries whatever the page size.

What a reader may see of a person is decided here: the ``*_shown`` functions set the masked
values on the objects they return (``real_name_masked``, ``lead_shown``, ``volunteer``…), and
the API schemas only read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_is_platform_admin, user_scope_ids
from backend.core.crypto import blind_index, unseal
from backend.core.links import public_host, public_url
from backend.core.masking import mask_id_number, mask_name, mask_phone
from backend.core.pagination import keyset_page
from backend.core.validators import age_on
from backend.volunteers import conf, search
from backend.volunteers.hours import next_star_at, stars_for
from backend.volunteers.ical import CalendarEvent
from backend.volunteers.models import (
    CALENDAR_PURPOSE,
    ID_PURPOSE,
    Activity,
    CalendarFeed,
    Certificate,
    IdNumberCorrection,
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
Near = search.Near


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


@dataclass
class ActivityQuery:
    """What a volunteer looks for (``GET /activities``); every field optional."""

    q: str = ""
    skills: list[str] = field(default_factory=list)
    near: Near | None = None
    programme: str | None = None
    division: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    has_space: bool | None = None
    organisation_id: int | None = None


def _upcoming_shifts(shift_q: Q) -> QuerySet[Shift]:
    return Shift.objects.filter(shift_q, activity=OuterRef("pk"))


def _activities_found(query: ActivityQuery, *, now: datetime) -> QuerySet[Activity]:
    """Published activities with an upcoming shift in the range that match ``query``: each
    condition an indexed lookup or semi-join (no aggregate over all rows), the per-activity
    figures as subqueries evaluated for the page's rows only."""
    shift_q = _shift_filter("", now=now, date_from=query.date_from, date_to=query.date_to)
    upcoming = _upcoming_shifts(shift_q)
    per_activity = upcoming.order_by().values("activity")
    qs = Activity.objects.filter(Exists(upcoming), status=Activity.Status.PUBLISHED)
    conditions = [search.text_q(query.q), search.skills_q(query.skills)]
    for condition in conditions:
        if condition is not None:
            qs = qs.filter(condition)
    if query.programme:
        qs = qs.filter(programme=query.programme)
    if query.division:
        qs = qs.filter(division__code__startswith=query.division)
    if query.organisation_id:
        qs = qs.filter(organisation_id=query.organisation_id)
    with_space = Exists(upcoming.filter(taken__lt=F("capacity")))
    if query.has_space is True:
        qs = qs.filter(with_space)
    elif query.has_space is False:
        qs = qs.exclude(with_space)
    return qs.select_related(
        "organisation", "post", "division", "river_segment", "river_segment__river"
    ).annotate(
        remaining=Subquery(per_activity.annotate(n=Sum(F("capacity") - F("taken"))).values("n")),
        upcoming_shifts=Subquery(per_activity.annotate(n=Count("pk")).values("n")),
        next_starts_at=Subquery(per_activity.annotate(n=Min("starts_at")).values("n")),
    )


OPEN_IDS_MAX = 2000
"""Upcoming shifts beyond which the list is read newest first without a list of ids."""


def _open_activity_ids(query: ActivityQuery, *, now: datetime) -> list[int] | None:
    """The activities of every upcoming shift, when there are at most ``OPEN_IDS_MAX`` of them
    (``None`` above): one read by the shifts' ``starts_at`` index.

    The newest-first page walks activities by id and stops at the page's last row; each one it
    passes is checked for an upcoming shift. When the newest activities have none (a city's
    history outgrowing its few open ones, or many newer drafts' copies), that walk reads them all:
    ``bench growth`` on SQLite, 10^5 newer activities without shifts, 4.2 → 31 ms. Restricting
    the walk to the activities of the upcoming shifts bounds it by those shifts. When upcoming
    shifts are many, open activities are too and the walk fills a page at once, while a list of
    ids would not be short: then the walk goes unrestricted."""
    shift_q = _shift_filter("", now=now, date_from=query.date_from, date_to=query.date_to)
    ids = list(
        Shift.objects.filter(shift_q).order_by().values_list("activity_id", flat=True)[: OPEN_IDS_MAX + 1]
    )
    return None if len(ids) > OPEN_IDS_MAX else sorted(set(ids))


def activity_list(
    *,
    query: ActivityQuery | None = None,
    cursor: str | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> Page:
    """Published activities with upcoming shifts in the range, each annotated with
    ``remaining`` places, ``upcoming_shifts`` and ``next_starts_at`` (and ``distance_m`` when
    searching near a point). Newest first, or nearest first with ``query.near``. One query per
    page; see ``backend.volunteers.search`` for the indexes each filter uses."""
    query = query or ActivityQuery()
    now = now or timezone.now()
    qs = _activities_found(query, now=now)
    limit = max(1, min(limit, MAX_PAGE))
    if query.near is None and not query.q:  # (a place or keywords lead their own plans)
        open_ids = _open_activity_ids(query, now=now)
        if open_ids is not None:
            qs = qs.filter(pk__in=open_ids)
    if query.near is not None:
        items, next_cursor = search.distance_page(qs, near=query.near, cursor=cursor, limit=limit)
        return Page(items=items, next_cursor=next_cursor)
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
    # Without the join to the organisation (it is known): with it SQLite read the organisation
    # first and sorted all of its records for each page (bench growth: 354 ms at 10^5 records).
    qs = _organisation_records_qs(organisation=organisation, status=status).select_related(None)
    qs = qs.select_related("user", "user__volunteer_profile", "activity", "lead", "recorder")
    page = _page(qs, cursor=cursor, limit=limit)
    for record in page.items:
        record.organisation = organisation
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


# --- calendar feed ------------------------------------------------------------------------------

CALENDAR_PAST = timedelta(days=90)
CALENDAR_MAX_EVENTS = 500


def calendar_feed_url(*, feed: CalendarFeed, token: str = "") -> str:
    """The feed's private address (``token`` when just made, else unsealed from the row)."""
    token = token or unseal(feed.token_sealed, purpose=CALENDAR_PURPOSE)
    return public_url(f"/cal/{token}.ics")


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    if not token or len(token) > 64 or not token.isalnum():
        return None
    index = blind_index(token, purpose=CALENDAR_PURPOSE)
    return CalendarFeed.objects.select_related("user").filter(token_index=index).first()


def calendar_events(*, user: User, now: datetime | None = None) -> list[CalendarEvent]:
    """The user's confirmed shifts from 90 days ago on, and the ones that were confirmed and then
    cancelled (by the volunteer or with the shift) as cancelled events. One query."""
    now = now or timezone.now()
    was_confirmed = Q(status__in=sorted(Signup.CONFIRMED_STATUSES)) | Q(
        status__in=[Signup.Status.CANCELLED, Signup.Status.CANCELLED_LATE], confirmed_at__isnull=False
    )
    signups = (
        Signup.objects.filter(was_confirmed, user=user, shift__ends_at__gte=now - CALENDAR_PAST)
        .select_related("shift", "shift__activity", "shift__activity__organisation", "shift__activity__post")
        .order_by("shift__starts_at", "id")[:CALENDAR_MAX_EVENTS]
    )
    host = public_host()
    events = []
    for signup in signups:
        shift, activity = signup.shift, signup.shift.activity
        cancelled = signup.status not in Signup.CONFIRMED_STATUSES or shift.status == Shift.Status.CANCELLED
        post = activity.post
        events.append(
            CalendarEvent(
                uid=f"signup-{signup.pk}@{host}",
                sequence=1 if cancelled else 0,
                cancelled=cancelled,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                summary=activity.title,
                location=activity.place or (post.address if post else ""),
                description=f"{activity.organisation.name}\n{activity.recipients}".strip(),
                geo=(
                    (activity.latitude, activity.longitude)
                    if activity.latitude is not None and activity.longitude is not None
                    else None
                ),
            )
        )
    return events


# --- ID number corrections ----------------------------------------------------------------------


def id_correction_shown(correction: IdNumberCorrection) -> IdNumberCorrection:
    """Sets ``old_number_masked``, ``new_number_masked`` and the volunteer as staff see them."""
    shown: Any = correction
    shown.old_number_masked = mask_id_number(unseal(correction.old_number_sealed, purpose=ID_PURPOSE))
    shown.new_number_masked = mask_id_number(unseal(correction.new_number_sealed, purpose=ID_PURPOSE))
    shown.volunteer = volunteer_shown(correction.profile.user)
    return correction


def my_id_corrections(*, profile: VolunteerProfile) -> list[IdNumberCorrection]:
    """The volunteer's requests, newest first (the history of their number)."""
    rows = IdNumberCorrection.objects.filter(profile=profile).select_related(
        "profile", "profile__user", "profile__user__volunteer_profile"
    )
    return [id_correction_shown(c) for c in rows.order_by("-id")]


def id_corrections_for_staff(*, user: User) -> QuerySet[IdNumberCorrection]:
    """Corrections ``user`` may decide on: every one for platform admins; for coordinators those
    of volunteers who signed up with or served one of their organisations."""
    qs = IdNumberCorrection.objects.all()
    if user_is_platform_admin(user):
        return qs
    orgs = [int(i) for i in user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION) if i.isdigit()]
    if not orgs:
        return qs.none()
    signed = Signup.objects.filter(user=OuterRef("profile__user"), shift__activity__organisation_id__in=orgs)
    served = ServiceRecord.objects.filter(user=OuterRef("profile__user"), organisation_id__in=orgs)
    return qs.filter(Exists(signed) | Exists(served))


def id_corrections_to_decide(
    *, user: User, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    qs = id_corrections_for_staff(user=user).exclude(profile__user=user)
    if status:
        qs = qs.filter(status=status)
    qs = qs.select_related("profile", "profile__user", "profile__user__volunteer_profile")
    page = _page(qs, cursor=cursor, limit=limit)
    page.items = [id_correction_shown(c) for c in page.items]
    return page
