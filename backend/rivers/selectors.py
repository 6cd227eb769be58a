"""Reads of the rivers domain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from backend.accounts.models import Grant, Role, ScopeType, User
from backend.accounts.selectors import user_is_platform_admin, user_scope_ids
from backend.core.crypto import unseal
from backend.core.pagination import keyset_page
from backend.divisions.selectors import division_ancestor_codes
from backend.rivers import conf
from backend.rivers.geo import CleanRules, TrackPoint, clean_track, distance_to_line_m, simplified_geojson
from backend.rivers.models import (
    Patrol,
    PatrolPoint,
    PatrolPolicy,
    River,
    RiverIssue,
    RiverPhoto,
    RiverSegment,
    StewardAssignment,
    StewardTeam,
)
from backend.volunteers.models import Organisation
from backend.wechat.selectors import hidden_media

#: The purpose the EXIF position of a photo is sealed under (``backend.core.crypto``).
GPS_PURPOSE = "rivers.photo_gps"

# -- cursor pagination ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def paginate(qs: QuerySet, *, cursor: str | None, limit: int) -> Page:
    """Keyset pagination on descending ``id``: stable under inserts, one query per page."""
    rows, next_cursor = keyset_page(qs, cursor=cursor, limit=limit)
    return Page(items=rows, next_cursor=next_cursor)


# -- rivers and segments -----------------------------------------------------------------------


def river_list(*, division: str | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    qs = River.objects.prefetch_related("divisions").annotate(segment_count=Count("segments", distinct=True))
    if division:
        qs = qs.filter(
            Q(divisions__code__startswith=division) | Q(segments__division__code__startswith=division)
        )
        qs = qs.distinct()
    return paginate(qs, cursor=cursor, limit=limit)


def river_get(*, river_id: int) -> River | None:
    return River.objects.prefetch_related("divisions").filter(pk=river_id).first()


def river_detail_get(*, river_id: int) -> River | None:
    """The river with its divisions and its segments (by name; each segment's river is this one)."""
    segments = RiverSegment.objects.select_related("division").order_by("name", "id")
    return (
        River.objects.prefetch_related("divisions", Prefetch("segments", queryset=segments))
        .filter(pk=river_id)
        .first()
    )


def segment_list(*, river: River) -> list[RiverSegment]:
    return list(river.segments.select_related("division").order_by("name", "id"))


def segment_get(*, segment_id: int) -> RiverSegment | None:
    return RiverSegment.objects.select_related("river", "division").filter(pk=segment_id).first()


# -- policy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectivePolicy:
    min_duration_s: int
    min_distance_m: int
    division_code: str | None  # where the policy came from; None = the defaults

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_duration_s": self.min_duration_s,
            "min_distance_m": self.min_distance_m,
            "division_code": self.division_code,
        }


def patrol_policy_for(*, division_code: str) -> EffectivePolicy:
    """The most specific policy on the way up the division tree, else the configured defaults."""
    codes = division_ancestor_codes(division_code)
    found = {p.division_id: p for p in PatrolPolicy.objects.filter(division_id__in=codes)}
    for code in reversed(codes):
        policy = found.get(code)
        if policy is not None:
            return EffectivePolicy(policy.min_duration_s, policy.min_distance_m, code)
    return EffectivePolicy(conf.patrol_min_duration_s(), conf.patrol_min_distance_m(), None)


def clean_rules() -> CleanRules:
    return CleanRules(
        max_accuracy_m=conf.patrol_max_accuracy_m(),
        max_speed_mps=conf.patrol_max_speed_mps(),
        min_step_m=conf.patrol_min_step_m(),
    )


# -- stewards ------------------------------------------------------------------------------------


def steward_assignment_for(*, user: Any, segment: RiverSegment) -> StewardAssignment | None:
    """The live assignment that lets ``user`` patrol ``segment``: as its river chief first, else
    as a member of an assigned team."""
    live = StewardAssignment.objects.filter(segment=segment, ended_at__isnull=True).select_related(
        "organisation"
    )
    chief = live.filter(kind=StewardAssignment.Kind.RIVER_CHIEF, user=user).first()
    if chief is not None:
        return chief
    return (
        live.filter(
            kind=StewardAssignment.Kind.TEAM,
            team__memberships__user=user,
            team__memberships__accepted_at__isnull=False,
        )
        .order_by("id")
        .first()
    )


def _river_chiefs(segment_id: int) -> QuerySet[StewardAssignment]:
    """Live river-chief assignments of a segment that lie inside the assigning organisation's
    area (division codes nest by prefix). An assignment outside it (made before assignments were
    checked) gives no right to read or verify the segment's issues."""
    return StewardAssignment.objects.filter(
        segment_id=segment_id,
        kind=StewardAssignment.Kind.RIVER_CHIEF,
        ended_at__isnull=True,
        segment__division__code__startswith=F("organisation__division_id"),
    )


def user_is_river_chief(*, user: Any, segment_id: int) -> bool:
    return _river_chiefs(segment_id).filter(user_id=user.pk).exists()


def segment_river_chief_ids(*, segment_id: int) -> list[int]:
    return list(_river_chiefs(segment_id).values_list("user_id", flat=True))


def assignment_list(
    *, segment: RiverSegment | None = None, organisation_ids: list[int] | None = None
) -> list:
    qs = StewardAssignment.objects.filter(ended_at__isnull=True).select_related(
        "segment__river", "organisation", "user", "team"
    )
    if segment is not None:
        qs = qs.filter(segment=segment)
    if organisation_ids is not None:
        qs = qs.filter(organisation_id__in=organisation_ids)
    return list(qs.order_by("segment_id", "id"))


def steward_assignment_get(*, assignment_id: int) -> StewardAssignment | None:
    return (
        StewardAssignment.objects.select_related("segment__river", "organisation", "user", "team")
        .filter(pk=assignment_id)
        .first()
    )


def steward_assignments_of(*, user: Any) -> list[StewardAssignment]:
    """The live assignments that let ``user`` patrol: as river chief or through a team."""
    steward = Q(kind=StewardAssignment.Kind.RIVER_CHIEF, user=user) | Q(
        kind=StewardAssignment.Kind.TEAM,
        team__memberships__user=user,
        team__memberships__accepted_at__isnull=False,
    )
    return list(
        StewardAssignment.objects.filter(ended_at__isnull=True)
        .filter(steward)
        .select_related("segment__river", "organisation", "user", "team")
        .order_by("segment_id", "id")
    )


def steward_team_get(*, team_id: int, organisation: Any = None) -> StewardTeam | None:
    """A team (of ``organisation`` when given)."""
    qs = StewardTeam.objects.select_related("organisation").filter(pk=team_id)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return qs.first()


def steward_team_with_members(*, team_id: int) -> StewardTeam:
    return StewardTeam.objects.prefetch_related("memberships__user").get(pk=team_id)


def team_list(*, organisation_ids: list[int]) -> list[StewardTeam]:
    return list(
        StewardTeam.objects.filter(organisation_id__in=organisation_ids)
        .select_related("organisation")
        .prefetch_related("memberships__user")
        .order_by("organisation_id", "name", "id")
    )


@dataclass(frozen=True)
class OverdueSegment:
    segment: RiverSegment
    organisation_ids: list[int]
    last_valid_patrol_at: datetime | None
    due_at: datetime | None  # when a patrol was expected at the latest (None: never patrolled)


def segments_overdue(*, organisation_ids: list[int], now: datetime | None = None) -> list[OverdueSegment]:
    """Segments stewarded by these organisations whose last valid patrol is older than their
    expected frequency (or that were never patrolled since being assigned)."""
    now = now or timezone.now()
    assignments = list(
        StewardAssignment.objects.filter(
            organisation_id__in=organisation_ids, ended_at__isnull=True
        ).values_list("segment_id", "organisation_id", "created_at")
    )
    if not assignments:
        return []
    by_segment: dict[int, tuple[list[int], datetime]] = {}
    for segment_id, org_id, created_at in assignments:
        orgs, first = by_segment.get(segment_id, ([], created_at))
        orgs.append(org_id)
        by_segment[segment_id] = (orgs, min(first, created_at))
    segments = (
        RiverSegment.objects.filter(pk__in=by_segment)
        .select_related("river", "division")
        .annotate(last_valid=Max("patrols__track_ended_at", filter=Q(patrols__is_valid=True)))
        .order_by("river__name", "name", "id")
    )
    out = []
    for segment in segments:
        orgs, since = by_segment[segment.pk]
        every = timedelta(days=segment.patrol_every_days)
        basis = segment.last_valid or since
        due = basis + every
        if due < now:
            out.append(OverdueSegment(segment, sorted(set(orgs)), segment.last_valid, due))
    return out


# -- patrols -------------------------------------------------------------------------------------


def patrol_get(*, patrol_id: int) -> Patrol | None:
    return (
        Patrol.objects.select_related(
            "segment__river", "segment__division", "organisation", "service_record", "user"
        )
        .prefetch_related("photos")
        .filter(pk=patrol_id)
        .first()
    )


def own_patrol_get(*, user: Any, patrol_id: int) -> Patrol | None:
    """One of ``user``'s own patrols (with its segment)."""
    return Patrol.objects.select_related("segment").filter(pk=patrol_id, user=user).first()


def patrol_list(
    *, user: Any, organisation_id: int | None = None, cursor: str | None = None, limit: int = 20
) -> Page:
    """The caller's own patrols, or (for its coordinators) an organisation's."""
    qs = Patrol.objects.select_related("segment__river", "service_record", "user")
    qs = qs.filter(organisation_id=organisation_id) if organisation_id is not None else qs.filter(user=user)
    return paginate(qs, cursor=cursor, limit=limit)


def patrol_with_live_figures(patrol: Patrol) -> Patrol:
    """Prepare ``patrol`` for display with its track as a GeoJSON Feature (``track_feature``).

    The figures of a finished patrol were computed once at finish; while it is recording they
    are computed now from the points received so far and set on this (unsaved) instance.
    """
    track = patrol.track or {}
    if patrol.status == Patrol.Status.RECORDING:
        clean = clean_track(patrol_track_points(patrol=patrol), clean_rules())
        patrol.duration_s = clean.duration_s
        patrol.distance_m = round(clean.distance_m)
        patrol.points_used = len(clean.points)
        patrol.track_started_at = clean.started_at
        patrol.track_ended_at = clean.ended_at
        track = simplified_geojson(clean.points, conf.patrol_simplify_tolerance_m()) if clean.points else {}
    patrol.track_feature = {  # type: ignore[attr-defined]
        "type": "Feature",
        "geometry": track or None,
        "properties": {"patrol_id": patrol.pk},
    }
    return patrol


def patrol_track_points(*, patrol: Patrol) -> list[TrackPoint]:
    return [
        TrackPoint(at=at, lat=lat, lon=lon, accuracy_m=acc)
        for at, lat, lon, acc in PatrolPoint.objects.filter(patrol=patrol)
        .order_by("recorded_at")
        .values_list("recorded_at", "lat", "lon", "accuracy_m")
    ]


# -- issues --------------------------------------------------------------------------------------


def river_issue_get(*, issue_id: int) -> RiverIssue | None:
    return (
        RiverIssue.objects.select_related("river", "segment", "division", "reporter", "assignee")
        .prefetch_related("photos")
        .filter(pk=issue_id)
        .first()
    )


def river_issue_list(
    *,
    user: Any,
    scope: str = "mine",
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """``mine``: reported by the caller; ``assigned``: assigned to the caller; ``division``: every
    issue of the divisions the caller handles (reviewer grants, by code prefix)."""
    qs = RiverIssue.objects.select_related("river", "segment", "reporter", "assignee")
    if scope == "assigned":
        qs = qs.filter(assignee=user)
    elif scope == "division":
        qs = qs.filter(_handled_divisions(user))
    else:
        qs = qs.filter(reporter=user)
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit)


def _handled_divisions(user: Any) -> Q:
    """Issues of the divisions ``user`` handles (reviewer grants, by code prefix); all for
    platform admins."""
    if user_is_platform_admin(user):
        return Q()
    match = Q(pk__in=[])
    for code in user_scope_ids(user, Role.REVIEWER, ScopeType.DIVISION):
        match |= Q(division__code__startswith=code)
    return match


@dataclass(frozen=True)
class PublicRiverIssue:
    """What the public sees of a closed issue: type, dates and a rounded location only."""

    id: int
    type: str
    type_label: str
    segment: RiverSegment
    lat: float
    lon: float
    reported_on: str
    closed_on: str | None


def public_river_issue(issue: RiverIssue) -> PublicRiverIssue:
    digits = conf.public_location_decimals()
    return PublicRiverIssue(
        id=issue.pk,
        type=issue.type,
        type_label=issue.get_type_display(),
        segment=issue.segment,
        lat=round(issue.lat, digits),
        lon=round(issue.lon, digits),
        reported_on=timezone.localdate(issue.reported_at).isoformat(),
        closed_on=timezone.localdate(issue.closed_at).isoformat() if issue.closed_at else None,
    )


def river_issues_public(*, river: River, cursor: str | None = None, limit: int = 50) -> Page:
    """Closed issues of a river, as ``PublicRiverIssue`` items."""
    qs = RiverIssue.objects.filter(river=river, status=RiverIssue.Status.CLOSED).select_related("segment")
    page = paginate(qs, cursor=cursor, limit=limit)
    return Page(items=[public_river_issue(issue) for issue in page.items], next_cursor=page.next_cursor)


def river_photo_gps_evidence(photo: RiverPhoto) -> dict[str, float] | None:
    """The position the camera wrote into the photo's EXIF, unsealed (None: it had none)."""
    if not photo.gps_sealed:
        return None
    evidence: dict[str, float] = json.loads(unseal(photo.gps_sealed, purpose=GPS_PURPOSE))
    return evidence


def river_photos_hidden(photos: list[RiverPhoto]) -> set[str]:
    """Storage names of those of ``photos`` that WeChat's image check found risky (one query)."""
    return hidden_media([photo.file for photo in photos])


def division_handler_ids(*, division_code: str) -> list[int]:
    """Users holding a reviewer grant on the division or one of its ancestors."""
    return sorted(
        set(
            Grant.objects.filter(
                role=Role.REVIEWER,
                scope_type=ScopeType.DIVISION,
                scope_id__in=division_ancestor_codes(division_code),
            ).values_list("user_id", flat=True)
        )
    )


def nearest_segment(*, river: River, lat: float, lon: float) -> RiverSegment | None:
    best: tuple[float, RiverSegment] | None = None
    for segment in river.segments.select_related("division"):
        coords = (segment.geometry or {}).get("coordinates") or []
        d = distance_to_line_m(lat, lon, coords) if coords else float("inf")
        if best is None or d < best[0]:
            best = (d, segment)
    return best[1] if best else None


# -- people and organisations --------------------------------------------------------------------


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def active_user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def organisation_get(*, organisation_id: int) -> Organisation | None:
    return Organisation.objects.filter(pk=organisation_id).first()
