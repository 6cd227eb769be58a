"""API routes of the rivers domain: rivers and segments, stewards, patrols, river issue reports.

Mounted at the API root; every path is spelt out in full here. ``POST /patrols:upload`` is a
literal path: ninja turns ``{...}`` into Django converters and leaves other characters alone,
and Django's ``path()`` escapes literal text, so the colon needs no special routing (a test
checks it reaches this module).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils import timezone
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import AwareDatetime, Field, field_validator

from api.schemas import ERRORS, OkOut
from backend.accounts.models import User
from backend.accounts.selectors import user_reviews_division
from backend.core.crypto import unseal
from backend.core.errors import NotFound
from backend.core.masking import mask_name, mask_phone
from backend.core.permissions import authorize, can
from backend.divisions.selectors import division_get
from backend.rivers import conf, selectors, services
from backend.rivers.errors import PatrolTooManyPoints, PhotoTooLarge
from backend.rivers.geo import clean_track, simplified_geojson
from backend.rivers.models import Patrol, RiverIssue, RiverPhoto, RiverSegment, StewardAssignment, StewardTeam
from backend.rivers.permissions import user_coordinated_organisation_ids

router = Router(tags=["rivers"])

Datum = Literal["wgs84", "gcj02"]


# --- schemas ------------------------------------------------------------------------------------


class PageOut(Schema):
    next_cursor: str | None


class RiverIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    code: str = Field("", max_length=40)
    description: str = Field("", max_length=2000)
    division_codes: list[str] = Field(min_length=1, max_length=20)


class RiverOut(Schema):
    id: int
    name: str
    code: str
    description: str
    division_codes: list[str]
    segment_count: int


class SegmentIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    division_code: str = Field(min_length=2, max_length=12)
    geometry: dict[str, Any] | None = None
    datum: Datum = "wgs84"
    patrol_every_days: int = Field(7, ge=1, le=366)


class SegmentPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=80)
    geometry: dict[str, Any] | None = None
    datum: Datum = "wgs84"
    patrol_every_days: int | None = Field(None, ge=1, le=366)


class SegmentOut(Schema):
    id: int
    river_id: int
    river_name: str
    name: str
    division_code: str
    geometry: dict[str, Any]
    length_m: int
    patrol_every_days: int


class RiverDetailOut(RiverOut):
    segments: list[SegmentOut]


class RiverPageOut(PageOut):
    items: list[RiverOut]


class PolicyIn(Schema):
    min_duration_s: int = Field(ge=0, le=24 * 3600)
    min_distance_m: int = Field(ge=0, le=100_000)


class PolicyOut(Schema):
    min_duration_s: int
    min_distance_m: int
    division_code: str | None


class TeamIn(Schema):
    organisation_id: int
    name: str = Field(min_length=1, max_length=80)


class MemberIn(Schema):
    user_id: int


class PersonOut(Schema):
    id: int
    name: str


class TeamOut(Schema):
    id: int
    organisation_id: int
    name: str
    members: list[PersonOut]


class AssignmentIn(Schema):
    organisation_id: int
    kind: Literal["river_chief", "team"]
    user_id: int | None = None
    team_id: int | None = None


class RefOut(Schema):
    id: int
    name: str


class AssignmentOut(Schema):
    id: int
    segment: SegmentOut
    kind: str
    organisation: RefOut
    user: PersonOut | None
    team: RefOut | None
    created_at: datetime
    ended_at: datetime | None


class OverdueOut(Schema):
    segment: SegmentOut
    organisation_ids: list[int]
    patrol_every_days: int
    last_valid_patrol_at: datetime | None
    due_at: datetime | None


class PointIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy: float | None = Field(None, ge=0, le=100_000)
    time: AwareDatetime


def _bounded(points: Any, limit: int) -> Any:
    """Refuse an oversized list before each of its items becomes a model (the request body alone
    is bounded by ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which still holds ~170,000 points)."""
    if isinstance(points, list) and len(points) > limit:
        raise PatrolTooManyPoints(limit=limit, received=len(points))
    return points


class PointsIn(Schema):
    datum: Datum = "wgs84"
    points: list[PointIn] = Field(min_length=1)

    @field_validator("points", mode="before")
    @classmethod
    def _batch_bound(cls, value: Any) -> Any:
        return _bounded(value, conf.patrol_batch_max_points())


class PointsOut(Schema):
    received: int
    stored: int
    duplicates: int
    rejected: int
    total: int


class PatrolStartIn(Schema):
    segment_id: int
    client_id: str | None = Field(None, min_length=1, max_length=64)


class PatrolUploadIn(Schema):
    client_id: str = Field(min_length=1, max_length=64)
    segment_id: int
    started_at: AwareDatetime
    finished_at: AwareDatetime
    datum: Datum = "wgs84"
    points: list[PointIn] = Field(default_factory=list)

    @field_validator("points", mode="before")
    @classmethod
    def _track_bound(cls, value: Any) -> Any:
        return _bounded(value, conf.patrol_max_points())


class ServiceRecordOut(Schema):
    id: int
    hours: float
    status: str


class PhotoOut(Schema):
    id: int
    role: str
    url: str
    thumbnail_url: str
    width: int
    height: int
    gps_evidence: dict[str, float] | None = None


class PatrolSegmentOut(Schema):
    id: int
    name: str
    river_id: int
    river_name: str


class PatrolOut(Schema):
    id: int
    segment: PatrolSegmentOut
    patroller: PersonOut
    status: str
    source: str
    client_id: str | None
    started_at: datetime
    finished_at: datetime | None
    track_started_at: datetime | None
    track_ended_at: datetime | None
    duration_s: int
    distance_m: int
    points_received: int
    points_used: int
    is_valid: bool | None
    invalid_reasons: list[str]
    policy: dict[str, Any]
    map_url: str | None
    service_record: ServiceRecordOut | None


class PatrolDetailOut(PatrolOut):
    track: dict[str, Any]
    photos: list[PhotoOut]


class PatrolPageOut(PageOut):
    items: list[PatrolOut]


class IssueIn(Schema):
    type: Literal[
        "sewage_discharge", "garbage_dumping", "illegal_works", "facility_damage", "illegal_fishing", "other"
    ]
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    datum: Datum = "wgs84"
    description: str = Field(min_length=1, max_length=2000)
    segment_id: int | None = None
    river_id: int | None = None
    patrol_id: int | None = None


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=1000)


class AssignIn(Schema):
    assignee_id: int


class ResolveIn(Schema):
    resolution: str = Field(min_length=1, max_length=2000)


class VerifyIn(Schema):
    confirmed: bool
    note: str = Field("", max_length=1000)


class ReporterOut(Schema):
    id: int | None
    name: str
    phone: str | None


class IssueOut(Schema):
    id: int
    type: str
    type_label: str
    status: str
    river: RefOut
    segment: RefOut
    division_code: str
    lat: float
    lon: float
    description: str
    reporter: ReporterOut
    assignee: PersonOut | None
    patrol_id: int | None
    reported_at: datetime
    due_at: datetime
    is_overdue: bool
    accepted_at: datetime | None
    assigned_at: datetime | None
    resolution: str
    resolved_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    rejected_reason: str
    rejected_at: datetime | None


class IssueDetailOut(IssueOut):
    photos: list[PhotoOut]
    actions: list[str]


class IssuePageOut(PageOut):
    items: list[IssueOut]


class PublicIssueOut(Schema):
    id: int
    type: str
    type_label: str
    segment: RefOut
    lat: float
    lon: float
    reported_on: str
    closed_on: str | None


class PublicIssuePageOut(PageOut):
    items: list[PublicIssueOut]


# --- shaping ------------------------------------------------------------------------------------


def _person(user: User | None, *, full: bool = False) -> dict | None:
    if user is None:
        return None
    name = user.display_name or ""
    return {"id": user.pk, "name": name if full else mask_name(name)}


def _river_out(river) -> dict:
    return {
        "id": river.pk,
        "name": river.name,
        "code": river.code,
        "description": river.description,
        "division_codes": sorted(d.code for d in river.divisions.all()),
        "segment_count": river.segment_count if hasattr(river, "segment_count") else river.segments.count(),
    }


def _segment_out(segment: RiverSegment) -> dict:
    return {
        "id": segment.pk,
        "river_id": segment.river_id,
        "river_name": segment.river.name,
        "name": segment.name,
        "division_code": segment.division_id,
        "geometry": segment.geometry or {},
        "length_m": segment.length_m,
        "patrol_every_days": segment.patrol_every_days,
    }


def _assignment_out(a: StewardAssignment) -> dict:
    return {
        "id": a.pk,
        "segment": _segment_out(a.segment),
        "kind": a.kind,
        "organisation": {"id": a.organisation_id, "name": a.organisation.name},
        "user": _person(a.user, full=True),
        "team": {"id": a.team.pk, "name": a.team.name} if a.team is not None else None,
        "created_at": a.created_at,
        "ended_at": a.ended_at,
    }


def _team_out(team: StewardTeam) -> dict:
    return {
        "id": team.pk,
        "organisation_id": team.organisation_id,
        "name": team.name,
        "members": [_person(m.user, full=True) for m in team.memberships.all()],
    }


def _url(name: str) -> str:
    return default_storage.url(name) if name else ""


def _photo_out(photo: RiverPhoto, *, evidence: bool) -> dict:
    out = {
        "id": photo.pk,
        "role": photo.role,
        "url": _url(photo.file),
        "thumbnail_url": _url(photo.thumbnail),
        "width": photo.width,
        "height": photo.height,
    }
    if evidence and photo.gps_sealed:
        out["gps_evidence"] = json.loads(unseal(photo.gps_sealed, purpose=services.GPS_PURPOSE))
    return out


def _patrol_out(p: Patrol) -> dict:
    record = p.service_record
    return {
        "id": p.pk,
        "segment": {
            "id": p.segment_id,
            "name": p.segment.name,
            "river_id": p.segment.river_id,
            "river_name": p.segment.river.name,
        },
        "patroller": _person(p.user, full=True),
        "status": p.status,
        "source": p.source,
        "client_id": p.client_id,
        "started_at": p.started_at,
        "finished_at": p.finished_at,
        "track_started_at": p.track_started_at,
        "track_ended_at": p.track_ended_at,
        "duration_s": p.duration_s,
        "distance_m": p.distance_m,
        "points_received": p.points_received,
        "points_used": p.points_used,
        "is_valid": p.is_valid,
        "invalid_reasons": p.invalid_reasons or [],
        "policy": p.policy or {},
        "map_url": _url(p.map_image) or None,
        "service_record": {"id": record.pk, "hours": float(record.hours), "status": record.status}
        if record
        else None,
    }


def _patrol_detail_out(p: Patrol) -> dict:
    out = _patrol_out(p)
    track = p.track or {}
    if p.status == Patrol.Status.RECORDING:
        # Live figures while recording; the stored ones are computed once at finish.
        clean = clean_track(selectors.patrol_track_points(patrol=p), selectors.clean_rules())
        out.update(
            duration_s=clean.duration_s,
            distance_m=round(clean.distance_m),
            points_used=len(clean.points),
            track_started_at=clean.started_at,
            track_ended_at=clean.ended_at,
        )
        track = simplified_geojson(clean.points, conf.patrol_simplify_tolerance_m()) if clean.points else {}
    out["track"] = {"type": "Feature", "geometry": track or None, "properties": {"patrol_id": p.pk}}
    out["photos"] = [_photo_out(photo, evidence=False) for photo in p.photos.all()]
    return out


def _issue_out(issue: RiverIssue, user: User, *, handler: bool | None = None) -> dict:
    if handler is None:
        handler = user_reviews_division(user, issue.division_id) or can(user, "river_issue.dispatch", issue)
    reporter = issue.reporter
    is_reporter = reporter.pk == user.pk
    return {
        "id": issue.pk,
        "type": issue.type,
        "type_label": issue.get_type_display(),
        "status": issue.status,
        "river": {"id": issue.river_id, "name": issue.river.name},
        "segment": {"id": issue.segment_id, "name": issue.segment.name},
        "division_code": issue.division_id,
        "lat": issue.lat,
        "lon": issue.lon,
        "description": issue.description,
        # Handlers need to reach the reporter; everyone else sees a masked name only.
        "reporter": {
            "id": reporter.pk if (handler or is_reporter) else None,
            "name": reporter.display_name if (handler or is_reporter) else mask_name(reporter.display_name),
            "phone": mask_phone(reporter.phone) if handler else None,
        },
        "assignee": _person(issue.assignee, full=True),
        "patrol_id": issue.patrol_id,
        "reported_at": issue.reported_at,
        "due_at": issue.due_at,
        "is_overdue": bool(issue.overdue_at) or (issue.is_open and issue.due_at < timezone.now()),
        "accepted_at": issue.accepted_at,
        "assigned_at": issue.assigned_at,
        "resolution": issue.resolution,
        "resolved_at": issue.resolved_at,
        "verified_at": issue.verified_at,
        "closed_at": issue.closed_at,
        "rejected_reason": issue.rejected_reason,
        "rejected_at": issue.rejected_at,
    }


_ISSUE_ACTIONS = {
    "accept": ("river_issue.dispatch", (RiverIssue.Status.REPORTED,)),
    "reject": ("river_issue.dispatch", (RiverIssue.Status.REPORTED, RiverIssue.Status.ACCEPTED)),
    "assign": ("river_issue.dispatch", (RiverIssue.Status.ACCEPTED, RiverIssue.Status.ASSIGNED)),
    "resolve": ("river_issue.resolve", (RiverIssue.Status.ASSIGNED,)),
    "verify": ("river_issue.verify", (RiverIssue.Status.RESOLVED,)),
    "close": ("river_issue.dispatch", (RiverIssue.Status.VERIFIED,)),
}


def _issue_detail_out(issue: RiverIssue, user: User) -> dict:
    handler = can(user, "river_issue.dispatch", issue)
    out = _issue_out(issue, user, handler=handler)
    evidence = can(user, "river_issue.evidence", issue)
    out["photos"] = [_photo_out(photo, evidence=evidence) for photo in issue.photos.all()]
    out["actions"] = [
        name
        for name, (action, states) in _ISSUE_ACTIONS.items()
        if issue.status in states and can(user, action, issue)
    ]
    return out


# --- lookups ------------------------------------------------------------------------------------


def _segment(segment_id: int) -> RiverSegment:
    segment = selectors.segment_get(segment_id=segment_id)
    if segment is None:
        raise NotFound()
    return segment


def _organisation(organisation_id: int):
    from backend.volunteers.models import Organisation

    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None:
        raise NotFound()
    return org


def _user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound()
    return user


def _patrol_or_404(patrol_id: int) -> Patrol:
    patrol = selectors.patrol_get(patrol_id=patrol_id)
    if patrol is None:
        raise NotFound()
    return patrol


def _patrol(request, patrol_id: int, action: str = "patrol.view") -> Patrol:
    patrol = _patrol_or_404(patrol_id)
    authorize(request.auth, action, patrol)
    return patrol


def _issue_or_404(issue_id: int) -> RiverIssue:
    issue = selectors.river_issue_get(issue_id=issue_id)
    if issue is None:
        raise NotFound()
    return issue


def _issue(request, issue_id: int, action: str, *, hide: bool = False) -> RiverIssue:
    issue = _issue_or_404(issue_id)
    authorize(request.auth, "river_issue.view", issue)
    if action != "river_issue.view":
        authorize(request.auth, action, issue, hide=hide)
    return issue


def _read_upload(upload: UploadedFile) -> bytes:
    limit = conf.photo_max_bytes()
    if upload.size is not None and upload.size > limit:
        raise PhotoTooLarge(limit=limit, size=upload.size)
    return upload.read()


def _points(items: list[PointIn]) -> list[services.PointInput]:
    return [services.PointInput(at=p.time, lat=p.lat, lon=p.lon, accuracy_m=p.accuracy) for p in items]


# --- rivers and segments --------------------------------------------------------------------------


@router.get("/rivers", response={200: RiverPageOut, **ERRORS}, auth=None)
def river_list(request, division: str | None = None, cursor: str | None = None, limit: int = 50):
    """Rivers, optionally those touching a division (by code prefix). Public."""
    page = selectors.river_list(division=division, cursor=cursor, limit=limit)
    return {"items": [_river_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/rivers", response={201: RiverOut, **ERRORS})
def river_create(request, payload: RiverIn):
    """Division staff (reviewers) add a river flowing through their divisions."""
    for code in payload.division_codes:
        authorize(request.auth, "river.manage", code, hide=False)
    river = services.river_create(
        actor=request.auth,
        name=payload.name,
        code=payload.code,
        description=payload.description,
        division_codes=payload.division_codes,
    )
    return Status(201, _river_out(river))


@router.get("/rivers/{int:river_id}", response={200: RiverDetailOut, **ERRORS}, auth=None)
def river_detail(request, river_id: int):
    river = selectors.river_get(river_id=river_id)
    if river is None:
        raise NotFound()
    segments = selectors.segment_list(river=river)
    out = _river_out(river) | {"segment_count": len(segments)}
    for s in segments:
        s.river = river
    out["segments"] = [_segment_out(s) for s in segments]
    return out


@router.get("/rivers/{int:river_id}/issues", response={200: PublicIssuePageOut, **ERRORS}, auth=None)
def river_issues_public(request, river_id: int, cursor: str | None = None, limit: int = 50):
    """Closed issues of a river for the public: type, dates and a rounded location only."""
    river = selectors.river_get(river_id=river_id)
    if river is None:
        raise NotFound()
    page = selectors.river_issues_public(river=river, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/rivers/{int:river_id}/segments", response={201: SegmentOut, **ERRORS})
def segment_create(request, river_id: int, payload: SegmentIn):
    river = selectors.river_get(river_id=river_id)
    if river is None:
        raise NotFound()
    authorize(request.auth, "river.manage", payload.division_code, hide=False)
    segment = services.segment_create(
        actor=request.auth,
        river=river,
        name=payload.name,
        division_code=payload.division_code,
        geometry=payload.geometry,
        datum=payload.datum,
        patrol_every_days=payload.patrol_every_days,
    )
    return Status(201, _segment_out(segment))


@router.patch("/rivers/segments/{int:segment_id}", response={200: SegmentOut, **ERRORS})
def segment_update(request, segment_id: int, payload: SegmentPatch):
    segment = _segment(segment_id)
    authorize(request.auth, "river.manage", segment.division_id, hide=False)
    segment = services.segment_update(
        actor=request.auth,
        segment=segment,
        name=payload.name,
        geometry=payload.geometry,
        datum=payload.datum,
        patrol_every_days=payload.patrol_every_days,
    )
    return _segment_out(segment)


# --- policies -----------------------------------------------------------------------------------


@router.get("/rivers/policies/{code}", response={200: PolicyOut, **ERRORS})
def policy_effective(request, code: str):
    """The patrol minimums in force for a division (inherited from the nearest ancestor)."""
    if division_get(code) is None:
        raise NotFound()
    return selectors.patrol_policy_for(division_code=code).as_dict()


@router.put("/rivers/policies/{code}", response={200: PolicyOut, **ERRORS})
def policy_set(request, code: str, payload: PolicyIn):
    authorize(request.auth, "river.manage", code, hide=False)
    services.patrol_policy_set(
        actor=request.auth,
        division_code=code,
        min_duration_s=payload.min_duration_s,
        min_distance_m=payload.min_distance_m,
    )
    return selectors.patrol_policy_for(division_code=code).as_dict()


# --- stewards -----------------------------------------------------------------------------------


@router.post("/rivers/teams", response={201: TeamOut, **ERRORS})
def team_create(request, payload: TeamIn):
    org = _organisation(payload.organisation_id)
    authorize(request.auth, "river.steward_manage", org, hide=False)
    team = services.steward_team_create(actor=request.auth, organisation=org, name=payload.name)
    return Status(201, _team_out(team))


@router.get("/rivers/teams", response={200: list[TeamOut], **ERRORS})
def team_list(request, organisation_id: int):
    org = _organisation(organisation_id)
    authorize(request.auth, "river.steward_manage", org, hide=False)
    return [_team_out(t) for t in selectors.team_list(organisation_ids=[org.pk])]


def _team(request, team_id: int) -> StewardTeam:
    team = StewardTeam.objects.select_related("organisation").filter(pk=team_id).first()
    if team is None:
        raise NotFound()
    authorize(request.auth, "river.steward_manage", team.organisation_id)
    return team


@router.post("/rivers/teams/{int:team_id}/members", response={200: TeamOut, **ERRORS})
def team_member_add(request, team_id: int, payload: MemberIn):
    team = _team(request, team_id)
    services.steward_team_member_add(actor=request.auth, team=team, user=_user(payload.user_id))
    return _team_out(StewardTeam.objects.prefetch_related("memberships__user").get(pk=team.pk))


@router.delete("/rivers/teams/{int:team_id}/members/{int:user_id}", response={200: OkOut, **ERRORS})
def team_member_remove(request, team_id: int, user_id: int):
    team = _team(request, team_id)
    services.steward_team_member_remove(actor=request.auth, team=team, user=_user(user_id))
    return {"ok": True}


@router.post("/rivers/segments/{int:segment_id}/assignments", response={201: AssignmentOut, **ERRORS})
def assignment_create(request, segment_id: int, payload: AssignmentIn):
    """A coordinator assigns a volunteer river chief or a 河小二 team of their organisation."""
    segment = _segment(segment_id)
    org = _organisation(payload.organisation_id)
    authorize(request.auth, "river.steward_manage", org, hide=False)
    team = None
    if payload.team_id is not None:
        team = StewardTeam.objects.filter(pk=payload.team_id, organisation=org).first()
        if team is None:
            raise NotFound()
    user = _user(payload.user_id) if payload.user_id is not None else None
    assignment = services.steward_assign(
        actor=request.auth, segment=segment, organisation=org, kind=payload.kind, user=user, team=team
    )
    assignment = StewardAssignment.objects.select_related(
        "segment__river", "organisation", "user", "team"
    ).get(pk=assignment.pk)
    return Status(201, _assignment_out(assignment))


@router.get("/rivers/segments/{int:segment_id}/assignments", response={200: list[AssignmentOut], **ERRORS})
def assignment_list(request, segment_id: int):
    """Live stewards of a segment: all of them for its division's staff, else the caller's
    organisations' ones."""
    segment = _segment(segment_id)
    if can(request.auth, "river.manage", segment.division_id):
        return [_assignment_out(a) for a in selectors.assignment_list(segment=segment)]
    orgs = user_coordinated_organisation_ids(request.auth)
    if not orgs:
        authorize(request.auth, "river.coordinate", None, hide=False)
    return [_assignment_out(a) for a in selectors.assignment_list(segment=segment, organisation_ids=orgs)]


@router.post("/rivers/assignments/{int:assignment_id}/end", response={200: AssignmentOut, **ERRORS})
def assignment_end(request, assignment_id: int):
    assignment = (
        StewardAssignment.objects.select_related("segment__river", "organisation", "user", "team")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise NotFound()
    authorize(request.auth, "river.steward_manage", assignment.organisation_id)
    services.steward_assignment_end(actor=request.auth, assignment=assignment)
    return _assignment_out(assignment)


@router.get("/rivers/assignments/mine", response={200: list[AssignmentOut], **ERRORS})
def my_assignments(request):
    """The segments the caller may patrol: as river chief or through a team."""
    user = request.auth
    qs = (
        StewardAssignment.objects.filter(ended_at__isnull=True)
        .filter(models_q_steward(user))
        .select_related("segment__river", "organisation", "user", "team")
        .order_by("segment_id", "id")
    )
    return [_assignment_out(a) for a in qs]


def models_q_steward(user: User):
    from django.db.models import Q

    return Q(kind=StewardAssignment.Kind.RIVER_CHIEF, user=user) | Q(
        kind=StewardAssignment.Kind.TEAM, team__memberships__user=user
    )


@router.get("/rivers/segments/overdue", response={200: list[OverdueOut], **ERRORS})
def segments_overdue(request, organisation_id: int | None = None):
    """Segments of the caller's organisations with no valid patrol within their frequency."""
    authorize(request.auth, "river.coordinate", None, hide=False)
    orgs = user_coordinated_organisation_ids(request.auth)
    if organisation_id is not None:
        if not can(request.auth, "river.steward_manage", organisation_id):
            raise NotFound()
        orgs = [organisation_id]
    return [
        {
            "segment": _segment_out(o.segment),
            "organisation_ids": o.organisation_ids,
            "patrol_every_days": o.segment.patrol_every_days,
            "last_valid_patrol_at": o.last_valid_patrol_at,
            "due_at": o.due_at,
        }
        for o in selectors.segments_overdue(organisation_ids=orgs)
    ]


# --- patrols ------------------------------------------------------------------------------------


@router.post("/patrols", response={200: PatrolDetailOut, 201: PatrolDetailOut, **ERRORS})
def patrol_start(request, payload: PatrolStartIn):
    """Start a patrol on a segment the caller stewards. With ``client_id`` a repeat answers 200
    with the same patrol."""
    segment = _segment(payload.segment_id)
    patrol, created = services.patrol_start(user=request.auth, segment=segment, client_id=payload.client_id)
    return Status(201 if created else 200, _patrol_detail_out(_patrol_or_404(patrol.pk)))


@router.post("/patrols:upload", response={200: PatrolDetailOut, 201: PatrolDetailOut, **ERRORS})
def patrol_upload(request, payload: PatrolUploadIn):
    """A whole patrol recorded offline, idempotent by ``client_id`` (a repeat answers 200 with
    the patrol created the first time; hours are credited once)."""
    segment = _segment(payload.segment_id)
    patrol, created = services.patrol_upload(
        user=request.auth,
        segment=segment,
        client_id=payload.client_id,
        started_at=payload.started_at,
        finished_at=payload.finished_at,
        points=_points(payload.points),
        datum=payload.datum,
    )
    return Status(201 if created else 200, _patrol_detail_out(_patrol_or_404(patrol.pk)))


@router.get("/patrols", response={200: PatrolPageOut, **ERRORS})
def patrol_list(request, organisation_id: int | None = None, cursor: str | None = None, limit: int = 20):
    """The caller's patrols, or an organisation's for its coordinators."""
    if organisation_id is not None:
        authorize(request.auth, "river.steward_manage", organisation_id)
    page = selectors.patrol_list(
        user=request.auth, organisation_id=organisation_id, cursor=cursor, limit=limit
    )
    return {"items": [_patrol_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.get("/patrols/{int:patrol_id}", response={200: PatrolDetailOut, **ERRORS})
def patrol_detail(request, patrol_id: int):
    """The patrol with its simplified track (GeoJSON) and the URL of its map image."""
    return _patrol_detail_out(_patrol(request, patrol_id))


@router.get("/patrols/{int:patrol_id}/map.png", response={200: None, **ERRORS})
def patrol_map(request, patrol_id: int):
    patrol = _patrol(request, patrol_id)
    if not patrol.map_image:
        raise NotFound()
    with default_storage.open(patrol.map_image, "rb") as handle:
        response = HttpResponse(handle.read(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@router.post("/patrols/{int:patrol_id}/points", response={200: PointsOut, **ERRORS})
def patrol_points(request, patrol_id: int, payload: PointsIn):
    """Append a batch of GPS fixes (any order; repeats are ignored)."""
    patrol = _patrol(request, patrol_id, "patrol.record")
    result = services.patrol_points_add(
        patrol=patrol, actor=request.auth, points=_points(payload.points), datum=payload.datum
    )
    return result.__dict__


@router.post("/patrols/{int:patrol_id}/finish", response={200: PatrolDetailOut, **ERRORS})
def patrol_finish(request, patrol_id: int):
    patrol = _patrol(request, patrol_id, "patrol.record")
    services.patrol_finish(patrol=patrol, actor=request.auth)
    return _patrol_detail_out(_patrol_or_404(patrol.pk))


@router.post("/patrols/{int:patrol_id}/photos", response={201: PhotoOut, **ERRORS})
def patrol_photo(request, patrol_id: int, photo: UploadedFile = File(...)):
    patrol = _patrol(request, patrol_id, "patrol.record")
    stored = services.patrol_photo_add(patrol=patrol, actor=request.auth, data=_read_upload(photo))
    return Status(201, _photo_out(stored, evidence=False))


# --- river issues -------------------------------------------------------------------------------


@router.post("/river-issues", response={201: IssueDetailOut, **ERRORS})
def issue_report(request, payload: IssueIn):
    """Report a problem on a river, during a patrol or not. Photos follow with
    ``POST /river-issues/{id}/photos`` (one per request, as ``wx.uploadFile`` sends them)."""
    segment = river = patrol = None
    if payload.patrol_id is not None:
        patrol = (
            Patrol.objects.select_related("segment").filter(pk=payload.patrol_id, user=request.auth).first()
        )
        if patrol is None:
            raise NotFound()
    elif payload.segment_id is not None:
        segment = _segment(payload.segment_id)
    elif payload.river_id is not None:
        river = selectors.river_get(river_id=payload.river_id)
        if river is None:
            raise NotFound()
    issue = services.river_issue_report(
        reporter=request.auth,
        type=payload.type,
        lat=payload.lat,
        lon=payload.lon,
        datum=payload.datum,
        description=payload.description,
        segment=segment,
        river=river,
        patrol=patrol,
    )
    return Status(201, _issue_detail_out(_issue_or_404(issue.pk), request.auth))


@router.get("/river-issues", response={200: IssuePageOut, **ERRORS})
def issue_list(
    request,
    scope: Literal["mine", "assigned", "division"] = "mine",
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
):
    page = selectors.river_issue_list(
        user=request.auth, scope=scope, status=status, cursor=cursor, limit=limit
    )
    handler = scope == "division"
    return {
        "items": [_issue_out(i, request.auth, handler=handler or None) for i in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/river-issues/{int:issue_id}", response={200: IssueDetailOut, **ERRORS})
def issue_detail(request, issue_id: int):
    return _issue_detail_out(_issue(request, issue_id, "river_issue.view"), request.auth)


@router.post("/river-issues/{int:issue_id}/photos", response={201: PhotoOut, **ERRORS})
def issue_photo(request, issue_id: int, photo: UploadedFile = File(...)):
    """The reporter's photos (before acceptance is done) or the assignee's resolution photos."""
    issue = _issue(request, issue_id, "river_issue.view")
    stored = services.river_issue_photo_add(issue=issue, actor=request.auth, data=_read_upload(photo))
    return Status(201, _photo_out(stored, evidence=can(request.auth, "river_issue.evidence", issue)))


def _issue_action(request, issue_id: int, action: str, call) -> dict:
    issue = _issue(request, issue_id, action)
    call(issue)
    return _issue_detail_out(_issue_or_404(issue.pk), request.auth)


@router.post("/river-issues/{int:issue_id}/accept", response={200: IssueDetailOut, **ERRORS})
def issue_accept(request, issue_id: int):
    return _issue_action(
        request,
        issue_id,
        "river_issue.dispatch",
        lambda i: services.river_issue_accept(issue=i, actor=request.auth),
    )


@router.post("/river-issues/{int:issue_id}/reject", response={200: IssueDetailOut, **ERRORS})
def issue_reject(request, issue_id: int, payload: ReasonIn):
    return _issue_action(
        request,
        issue_id,
        "river_issue.dispatch",
        lambda i: services.river_issue_reject(issue=i, actor=request.auth, reason=payload.reason),
    )


@router.post("/river-issues/{int:issue_id}/assign", response={200: IssueDetailOut, **ERRORS})
def issue_assign(request, issue_id: int, payload: AssignIn):
    assignee = User.objects.filter(pk=payload.assignee_id).first()
    return _issue_action(
        request,
        issue_id,
        "river_issue.dispatch",
        lambda i: services.river_issue_assign(issue=i, actor=request.auth, assignee=assignee),
    )


@router.post("/river-issues/{int:issue_id}/resolve", response={200: IssueDetailOut, **ERRORS})
def issue_resolve(request, issue_id: int, payload: ResolveIn):
    return _issue_action(
        request,
        issue_id,
        "river_issue.resolve",
        lambda i: services.river_issue_resolve(issue=i, actor=request.auth, resolution=payload.resolution),
    )


@router.post("/river-issues/{int:issue_id}/verify", response={200: IssueDetailOut, **ERRORS})
def issue_verify(request, issue_id: int, payload: VerifyIn):
    return _issue_action(
        request,
        issue_id,
        "river_issue.verify",
        lambda i: services.river_issue_verify(
            issue=i, actor=request.auth, confirmed=payload.confirmed, note=payload.note
        ),
    )


@router.post("/river-issues/{int:issue_id}/close", response={200: IssueDetailOut, **ERRORS})
def issue_close(request, issue_id: int):
    return _issue_action(
        request,
        issue_id,
        "river_issue.dispatch",
        lambda i: services.river_issue_close(issue=i, actor=request.auth),
    )
