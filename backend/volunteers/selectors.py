"""Reads of the volunteers domain. Lists take a cursor (the last id seen) and run a fixed number
of queries whatever the page size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Min, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_scope_ids
from backend.core.pagination import keyset_page
from backend.volunteers.hours import next_star_at, stars_for
from backend.volunteers.models import (
    Activity,
    Certificate,
    Organisation,
    ServicePost,
    ServiceRecord,
    Shift,
    Signup,
    VolunteerProfile,
)

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


# --- profiles ---------------------------------------------------------------------------------


def volunteer_profile_of(*, user: User) -> VolunteerProfile | None:
    return (
        VolunteerProfile.objects.select_related("division")
        .prefetch_related("consents")
        .filter(user=user)
        .first()
    )


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


def activity_get(*, activity_id: int) -> Activity | None:
    """An activity with its shifts, whatever its status (who may see a draft:
    ``permissions.activity_detail_access``)."""
    return (
        Activity.objects.select_related(
            "organisation", "post", "division", "river_segment", "river_segment__river"
        )
        .prefetch_related(Prefetch("shifts", queryset=Shift.objects.order_by("starts_at", "id")))
        .filter(pk=activity_id)
        .first()
    )


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


def shift_roster(*, shift: Shift, cursor: str | None = None, limit: int = 100) -> Page:
    qs = Signup.objects.filter(shift=shift).select_related("user", "user__volunteer_profile")
    return _page(qs, cursor=cursor, limit=limit)


# --- service records --------------------------------------------------------------------------


def my_service_records(
    *, user: User, kind: str | None = None, cursor: str | None = None, limit: int = 20
) -> Page:
    qs = ServiceRecord.objects.filter(user=user).select_related(
        "organisation", "activity", "lead", "recorder"
    )
    if kind:
        qs = qs.filter(kind=kind)
    return _page(qs, cursor=cursor, limit=limit)


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


def organisation_records(
    *, organisation: Organisation, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    return _page(
        _organisation_records_qs(organisation=organisation, status=status), cursor=cursor, limit=limit
    )


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


def record_organisations(*, user: User) -> list[Organisation]:
    """Organisations that recorded approved service of the user (who may certify it)."""
    ids = (
        ServiceRecord.objects.filter(user=user, status=ServiceRecord.Status.VALID)
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    return list(Organisation.objects.filter(pk__in=list(ids)).order_by("id"))
