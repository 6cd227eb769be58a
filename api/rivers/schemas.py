"""Schemas of the rivers API. Names are unique across the whole API (one OpenAPI component each):
generic ones carry the domain (``RiverPersonOut``, ``RiverIssueReasonIn``, ``PatrolPolicyOut``).

Output schemas read model instances and the selectors' objects; "who sees what" (the reporter's
contact, photo evidence, the next steps) is prepared by ``backend.rivers.permissions``, the live
figures of a recording patrol by ``backend.rivers.selectors``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, Field, field_validator

from backend.core.signed_urls import signed_url
from backend.rivers import conf
from backend.rivers.errors import PatrolTooManyPoints

Datum = Literal["wgs84", "gcj02"]


def _url(name: str) -> str:
    """A private image as a short-lived signed URL (the mini-program's ``<image>`` sends no headers)."""
    return signed_url(name) if name else ""


class RiverCursorPageOut(Schema):
    next_cursor: str | None


class RiverRefOut(Schema):
    id: int
    name: str


class RiverPersonOut(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.display_name or ""


# --- rivers and segments ------------------------------------------------------------------------


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

    @staticmethod
    def resolve_division_codes(obj: Any) -> list[str]:
        return sorted(d.code for d in obj.divisions.all())

    @staticmethod
    def resolve_segment_count(obj: Any) -> int:
        count = getattr(obj, "segment_count", None)  # annotated by the list selector
        return obj.segments.count() if count is None else count


class RiverSegmentIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    division_code: str = Field(min_length=2, max_length=12)
    geometry: dict[str, Any] | None = None
    datum: Datum = "wgs84"
    patrol_every_days: int = Field(7, ge=1, le=366)


class RiverSegmentPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=80)
    geometry: dict[str, Any] | None = None
    datum: Datum = "wgs84"
    patrol_every_days: int | None = Field(None, ge=1, le=366)


class RiverSegmentOut(Schema):
    id: int
    river_id: int
    river_name: str
    name: str
    division_code: str
    geometry: dict[str, Any]
    length_m: int
    patrol_every_days: int

    @staticmethod
    def resolve_river_name(obj: Any) -> str:
        return obj.river.name

    @staticmethod
    def resolve_division_code(obj: Any) -> str:
        return obj.division_id

    @staticmethod
    def resolve_geometry(obj: Any) -> dict[str, Any]:
        return obj.geometry or {}


class RiverDetailOut(RiverOut):
    segments: list[RiverSegmentOut]

    @staticmethod
    def resolve_segments(obj: Any) -> list[Any]:
        return list(obj.segments.all())  # prefetched by the detail selector


class RiverPageOut(RiverCursorPageOut):
    items: list[RiverOut]


# --- policies -----------------------------------------------------------------------------------


class PatrolPolicyIn(Schema):
    min_duration_s: int = Field(ge=0, le=24 * 3600)
    min_distance_m: int = Field(ge=0, le=100_000)


class PatrolPolicyOut(Schema):
    min_duration_s: int
    min_distance_m: int
    division_code: str | None


# --- stewards -----------------------------------------------------------------------------------


class StewardTeamIn(Schema):
    organisation_id: int
    name: str = Field(min_length=1, max_length=80)


class StewardTeamMemberIn(Schema):
    user_id: int


class StewardTeamOut(Schema):
    id: int
    organisation_id: int
    name: str
    members: list[RiverPersonOut]
    invited: list[RiverPersonOut] = Field(description="Invited, not yet accepted: not members.")

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return [m.user for m in obj.memberships.all() if m.accepted_at is not None]

    @staticmethod
    def resolve_invited(obj: Any) -> list[Any]:
        return [m.user for m in obj.memberships.all() if m.accepted_at is None]


class StewardTeamRespondIn(Schema):
    accept: bool


class StewardAssignmentIn(Schema):
    organisation_id: int
    kind: Literal["river_chief", "team"]
    user_id: int | None = None
    team_id: int | None = None


class StewardAssignmentOut(Schema):
    id: int
    segment: RiverSegmentOut
    kind: str
    organisation: RiverRefOut
    user: RiverPersonOut | None
    team: RiverRefOut | None
    created_at: datetime
    ended_at: datetime | None


class OverdueSegmentOut(Schema):
    segment: RiverSegmentOut
    organisation_ids: list[int]
    patrol_every_days: int
    last_valid_patrol_at: datetime | None
    due_at: datetime | None

    @staticmethod
    def resolve_patrol_every_days(obj: Any) -> int:
        return obj.segment.patrol_every_days


# --- patrols ------------------------------------------------------------------------------------


class PatrolPointIn(Schema):
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


class PatrolPointsIn(Schema):
    datum: Datum = "wgs84"
    points: list[PatrolPointIn] = Field(min_length=1)

    @field_validator("points", mode="before")
    @classmethod
    def _batch_bound(cls, value: Any) -> Any:
        return _bounded(value, conf.patrol_batch_max_points())


class PatrolPointsOut(Schema):
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
    points: list[PatrolPointIn] = Field(default_factory=list)

    @field_validator("points", mode="before")
    @classmethod
    def _track_bound(cls, value: Any) -> Any:
        return _bounded(value, conf.patrol_max_points())


class PatrolServiceRecordOut(Schema):
    id: int
    hours: float
    status: str


class RiverPhotoOut(Schema):
    id: int
    role: str
    url: str
    thumbnail_url: str
    width: int
    height: int
    gps_evidence: dict[str, float] | None = None
    hidden: bool = Field(
        False, description="WeChat's image check found it risky: shown to staff only, flagged."
    )

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return _url(obj.file)

    @staticmethod
    def resolve_thumbnail_url(obj: Any) -> str:
        return _url(obj.thumbnail)

    @staticmethod
    def resolve_gps_evidence(obj: Any) -> dict[str, float] | None:
        return getattr(obj, "gps_evidence", None)  # set for those who may see it

    @staticmethod
    def resolve_hidden(obj: Any) -> bool:
        return bool(getattr(obj, "hidden", False))  # set by permissions.river_photos_for_viewer


class PatrolSegmentOut(Schema):
    id: int
    name: str
    river_id: int
    river_name: str

    @staticmethod
    def resolve_river_name(obj: Any) -> str:
        return obj.river.name


class PatrolOut(Schema):
    id: int
    segment: PatrolSegmentOut
    patroller: RiverPersonOut
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
    service_record: PatrolServiceRecordOut | None

    @staticmethod
    def resolve_patroller(obj: Any) -> Any:
        return obj.user

    @staticmethod
    def resolve_invalid_reasons(obj: Any) -> list[str]:
        return obj.invalid_reasons or []

    @staticmethod
    def resolve_policy(obj: Any) -> dict[str, Any]:
        return obj.policy or {}

    @staticmethod
    def resolve_map_url(obj: Any) -> str | None:
        return _url(obj.map_image) or None


class PatrolDetailOut(PatrolOut):
    track: dict[str, Any]
    photos: list[RiverPhotoOut]

    @staticmethod
    def resolve_track(obj: Any) -> dict[str, Any]:
        return obj.track_feature  # prepared by selectors.patrol_with_live_figures

    @staticmethod
    def resolve_photos(obj: Any) -> list[Any]:
        return obj.visible_photos  # prepared by permissions.patrol_detail_for_viewer


class PatrolPageOut(RiverCursorPageOut):
    items: list[PatrolOut]


# --- river issues -------------------------------------------------------------------------------


class RiverIssueIn(Schema):
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


class RiverIssueReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=1000)


class RiverIssueAssignIn(Schema):
    assignee_id: int


class RiverIssueResolveIn(Schema):
    resolution: str = Field(min_length=1, max_length=2000)


class RiverIssueVerifyIn(Schema):
    confirmed: bool
    note: str = Field("", max_length=1000)


class RiverIssueReporterOut(Schema):
    id: int | None
    name: str
    phone: str | None


class RiverIssueOut(Schema):
    id: int
    type: str
    type_label: str
    status: str
    river: RiverRefOut
    segment: RiverRefOut
    division_code: str
    lat: float
    lon: float
    description: str
    reporter: RiverIssueReporterOut
    assignee: RiverPersonOut | None
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

    @staticmethod
    def resolve_type_label(obj: Any) -> str:
        return obj.get_type_display()

    @staticmethod
    def resolve_division_code(obj: Any) -> str:
        return obj.division_id

    @staticmethod
    def resolve_reporter(obj: Any) -> Any:
        return obj.reporter_view  # prepared by permissions.river_issue_for_viewer


class RiverIssueDetailOut(RiverIssueOut):
    photos: list[RiverPhotoOut]
    actions: list[str]

    @staticmethod
    def resolve_photos(obj: Any) -> list[Any]:
        return obj.visible_photos  # prepared by permissions.river_issue_detail_for_viewer

    @staticmethod
    def resolve_actions(obj: Any) -> list[str]:
        return obj.steps


class RiverIssuePageOut(RiverCursorPageOut):
    items: list[RiverIssueOut]


class PublicRiverIssueOut(Schema):
    id: int
    type: str
    type_label: str
    segment: RiverRefOut
    lat: float
    lon: float
    reported_on: str
    closed_on: str | None


class PublicRiverIssuePageOut(RiverCursorPageOut):
    items: list[PublicRiverIssueOut]
