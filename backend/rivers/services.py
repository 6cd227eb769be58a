"""Writes of the rivers domain: rivers and segments, stewards, patrols, issue reports.

Side effects each service says it has: audit rows (always), notifications (in the same
transaction, delivered after commit), files in the default storage (patrol maps, photos; written
before the rows that name them and removed again if the transaction fails), service records in
the volunteers domain (a valid patrol, once, through ``service_record_create``).
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.crypto import seal
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.divisions.models import Division
from backend.notifications.services import notify
from backend.rivers import conf, selectors
from backend.rivers.errors import (
    ClientIdReused,
    NotAHandler,
    NotASteward,
    NotAVolunteer,
    PatrolInProgress,
    PatrolNotRecording,
    PatrolTooManyPoints,
    PhotoRejected,
    PhotoTooLarge,
    PhotoUnsupported,
    ResolutionNeedsPhoto,
    SegmentHasNoGeometry,
    TooManyPhotos,
)
from backend.rivers.geo import (
    DATUMS,
    CleanTrack,
    clean_track,
    distance_to_line_m,
    line_length_m,
    simplified_geojson,
    to_wgs84,
)
from backend.rivers.mapimage import render_track_png
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
    StewardTeamMember,
)

GPS_PURPOSE = "rivers.photo_gps"

# -- helpers -------------------------------------------------------------------------------------


def _invalid(field: str, code: str, message: T) -> ValidationFailed:
    return ValidationFailed(errors=[field_error(field, code, message)])


def _division(code: str, field: str = "division_code") -> Division:
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise _invalid(field, "unknown_division", T("找不到该行政区划。", "Unknown division."))
    return division


def _clean_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(
            errors=[field_error(field, "required", T("此项必填。", "This field is required."))]
        )
    if len(text) > max_length:
        raise ValidationFailed(errors=[field_error(field, "too_long", T("内容过长。", "Too long."))])
    return text


def _line_geometry(geometry: dict | None, datum: str) -> dict:
    """Validate a GeoJSON LineString and return it in WGS-84 with 7 decimals."""
    bad = _invalid(
        "geometry",
        "invalid_geometry",
        T(
            "须为 GeoJSON LineString（至少两个 [经度, 纬度] 点）。",
            "Must be a GeoJSON LineString of [lon, lat] pairs.",
        ),
    )
    if not geometry:
        return {}
    if not isinstance(geometry, dict) or geometry.get("type") != "LineString":
        raise bad
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not 2 <= len(coords) <= 10_000:
        raise bad
    out = []
    for pair in coords:
        if not isinstance(pair, (list, tuple)) or len(pair) < 2:
            raise bad
        lon, lat = pair[0], pair[1]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lon, lat)):
            raise bad
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise bad
        wlat, wlon = to_wgs84(float(lat), float(lon), datum)
        out.append([round(wlon, 7), round(wlat, 7)])
    return {"type": "LineString", "coordinates": out}


def _check_datum(datum: str) -> str:
    if datum not in DATUMS:
        raise _invalid(
            "datum", "invalid_choice", T("坐标系须为 wgs84 或 gcj02。", "The datum is wgs84 or gcj02.")
        )
    return datum


def _local(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            with contextlib.suppress(OSError):
                default_storage.delete(name)


# -- rivers, segments, policies --------------------------------------------------------------------


def river_create(
    *, actor: Any, name: str, division_codes: Sequence[str], code: str = "", description: str = ""
) -> River:
    name = _clean_text(name, "name", max_length=80)
    if not division_codes:
        raise ValidationFailed(
            errors=[field_error("division_codes", "required", T("此项必填。", "Required."))]
        )
    divisions = [_division(c, "division_codes") for c in dict.fromkeys(division_codes)]
    with transaction.atomic():
        river = River.objects.create(
            name=name, code=_clean_text(code, "code", max_length=40, required=False), description=description
        )
        river.divisions.set(divisions)
        audit_record(
            actor=actor, action="river.created", target=river, data={"divisions": [d.code for d in divisions]}
        )
    return river


def segment_create(
    *,
    actor: Any,
    river: River,
    name: str,
    division_code: str,
    geometry: dict | None = None,
    datum: str = "wgs84",
    patrol_every_days: int = 7,
) -> RiverSegment:
    name = _clean_text(name, "name", max_length=80)
    division = _division(division_code)
    line = _line_geometry(geometry, _check_datum(datum))
    if not 1 <= patrol_every_days <= 366:
        raise _invalid("patrol_every_days", "out_of_range", T("巡河周期须为 1 至 366 天。", "1 to 366 days."))
    with transaction.atomic():
        segment = RiverSegment.objects.create(
            river=river,
            name=name,
            division=division,
            geometry=line,
            length_m=round(line_length_m(line["coordinates"])) if line else 0,
            patrol_every_days=patrol_every_days,
        )
        river.divisions.add(division)
        audit_record(
            actor=actor,
            action="river_segment.created",
            target=segment,
            data={"river": river.pk, "division": division.code, "length_m": segment.length_m},
        )
    return segment


def segment_update(
    *,
    actor: Any,
    segment: RiverSegment,
    name: str | None = None,
    geometry: dict | None = None,
    datum: str = "wgs84",
    patrol_every_days: int | None = None,
) -> RiverSegment:
    changes: dict[str, Any] = {}
    if name is not None:
        segment.name = changes["name"] = _clean_text(name, "name", max_length=80)
    if geometry is not None:
        line = _line_geometry(geometry, _check_datum(datum))
        segment.geometry = line
        segment.length_m = changes["length_m"] = round(line_length_m(line["coordinates"])) if line else 0
    if patrol_every_days is not None:
        if not 1 <= patrol_every_days <= 366:
            raise _invalid(
                "patrol_every_days", "out_of_range", T("巡河周期须为 1 至 366 天。", "1 to 366 days.")
            )
        segment.patrol_every_days = changes["patrol_every_days"] = patrol_every_days
    with transaction.atomic():
        segment.save()
        audit_record(actor=actor, action="river_segment.updated", target=segment, data=changes)
    return segment


def patrol_policy_set(
    *, actor: Any, division_code: str, min_duration_s: int, min_distance_m: int
) -> PatrolPolicy:
    division = _division(division_code)
    errors = []
    if not 0 <= min_duration_s <= 24 * 3600:
        errors.append(
            field_error("min_duration_s", "out_of_range", T("须在 0 至 86400 秒之间。", "0 to 86400 s."))
        )
    if not 0 <= min_distance_m <= 100_000:
        errors.append(
            field_error("min_distance_m", "out_of_range", T("须在 0 至 100000 米之间。", "0 to 100000 m."))
        )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        policy, _ = PatrolPolicy.objects.update_or_create(
            division=division,
            defaults={
                "min_duration_s": min_duration_s,
                "min_distance_m": min_distance_m,
                "updated_by": actor,
            },
        )
        audit_record(
            actor=actor,
            action="patrol_policy.set",
            target=policy,
            data={
                "division": division.code,
                "min_duration_s": min_duration_s,
                "min_distance_m": min_distance_m,
            },
        )
    return policy


# -- stewards ------------------------------------------------------------------------------------


def _require_volunteer(user: Any, field: str) -> None:
    from backend.volunteers.models import VolunteerProfile

    if not VolunteerProfile.objects.filter(user_id=user.pk).exists():
        raise NotAVolunteer(field=field)


def steward_team_create(*, actor: Any, organisation: Any, name: str) -> StewardTeam:
    name = _clean_text(name, "name", max_length=80)
    with transaction.atomic():
        if StewardTeam.objects.filter(organisation=organisation, name=name).exists():
            raise _invalid(
                "name",
                "duplicate",
                T("该组织已有同名队伍。", "The organisation already has a team of that name."),
            )
        team = StewardTeam.objects.create(organisation=organisation, name=name)
        audit_record(
            actor=actor, action="river_team.created", target=team, data={"organisation": organisation.pk}
        )
    return team


def steward_team_member_add(*, actor: Any, team: StewardTeam, user: Any) -> StewardTeamMember:
    _require_volunteer(user, "user_id")
    with transaction.atomic():
        member, created = StewardTeamMember.objects.get_or_create(team=team, user=user)
        if created:
            audit_record(actor=actor, action="river_team.member_added", target=team, data={"user": user.pk})
    return member


def steward_team_member_remove(*, actor: Any, team: StewardTeam, user: Any) -> None:
    with transaction.atomic():
        deleted, _ = StewardTeamMember.objects.filter(team=team, user=user).delete()
        if deleted:
            audit_record(actor=actor, action="river_team.member_removed", target=team, data={"user": user.pk})


def steward_assign(
    *,
    actor: Any,
    segment: RiverSegment,
    organisation: Any,
    kind: str,
    user: Any = None,
    team: StewardTeam | None = None,
) -> StewardAssignment:
    """Assign a volunteer river chief or a 河小二 team of ``organisation`` to ``segment``."""
    if kind == StewardAssignment.Kind.RIVER_CHIEF:
        if user is None or team is not None:
            raise _invalid("user_id", "required", T("请指定志愿者河长。", "A river chief needs a user."))
        _require_volunteer(user, "user_id")
    elif kind == StewardAssignment.Kind.TEAM:
        if team is None or user is not None:
            raise _invalid("team_id", "required", T("请指定河小二队伍。", "A team assignment needs a team."))
        if team.organisation_id != organisation.pk:
            raise _invalid(
                "team_id",
                "other_organisation",
                T("队伍不属于该组织。", "The team belongs to another organisation."),
            )
    else:
        raise _invalid("kind", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
    with transaction.atomic():
        live = StewardAssignment.objects.filter(segment=segment, ended_at__isnull=True)
        if (user is not None and live.filter(user=user).exists()) or (
            team is not None and live.filter(team=team).exists()
        ):
            raise ValidationFailed(
                errors=[
                    field_error(
                        "kind",
                        "already_assigned",
                        T("已经是该河段的巡河人员。", "Already assigned to this segment."),
                    )
                ]
            )
        assignment = StewardAssignment.objects.create(
            segment=segment, organisation=organisation, kind=kind, user=user, team=team, assigned_by=actor
        )
        audit_record(
            actor=actor,
            action="river_steward.assigned",
            target=assignment,
            data={
                "segment": segment.pk,
                "kind": kind,
                "user": getattr(user, "pk", None),
                "team": getattr(team, "pk", None),
            },
        )
    return assignment


def steward_assignment_end(*, actor: Any, assignment: StewardAssignment) -> StewardAssignment:
    with transaction.atomic():
        updated = StewardAssignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        if updated:
            audit_record(actor=actor, action="river_steward.ended", target=assignment)
    assignment.refresh_from_db()
    return assignment


# -- patrols -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointInput:
    at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class PointsResult:
    received: int
    stored: int
    duplicates: int
    rejected: int
    total: int


def _point_rows(
    patrol: Patrol, points: Sequence[PointInput], datum: str, *, earliest: datetime, latest: datetime
) -> list[PatrolPoint]:
    """Convert to WGS-84 and drop points outside the plausible time window; one row per instant."""
    rows: dict[datetime, PatrolPoint] = {}
    for p in points:
        if not earliest <= p.at <= latest or p.at in rows:
            continue
        lat, lon = to_wgs84(p.lat, p.lon, datum)
        rows[p.at] = PatrolPoint(
            patrol=patrol, recorded_at=p.at, lat=lat, lon=lon, accuracy_m=p.accuracy_m, datum=datum
        )
    return list(rows.values())


def _insert_points(patrol: Patrol, rows: list[PatrolPoint], received: int) -> PointsResult:
    before = PatrolPoint.objects.filter(patrol=patrol).count()
    if before + len(rows) > conf.patrol_max_points():
        # Duplicates might still fit, but a client this close to the bound is better told early.
        raise PatrolTooManyPoints(limit=conf.patrol_max_points())
    PatrolPoint.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    total = PatrolPoint.objects.filter(patrol=patrol).count()
    stored = total - before
    return PointsResult(
        received=received,
        stored=stored,
        duplicates=len(rows) - stored,
        rejected=received - len(rows),
        total=total,
    )


def _check_batch(points: Sequence[PointInput]) -> None:
    if len(points) > conf.patrol_batch_max_points():
        raise PatrolTooManyPoints(limit=conf.patrol_batch_max_points())


def patrol_start(
    *, user: Any, segment: RiverSegment, client_id: str | None = None, now: datetime | None = None
) -> tuple[Patrol, bool]:
    """Start a live patrol; with a ``client_id`` a repeat returns the same patrol (``created=False``)."""
    now = now or timezone.now()
    if client_id:
        existing = Patrol.objects.filter(user=user, client_id=client_id).first()
        if existing is not None:
            if existing.segment_id != segment.pk:
                raise ClientIdReused()
            return existing, False
    assignment = selectors.steward_assignment_for(user=user, segment=segment)
    if assignment is None:
        raise NotASteward()
    try:
        with transaction.atomic():
            patrol = Patrol.objects.create(
                segment=segment,
                user=user,
                assignment=assignment,
                organisation=assignment.organisation,
                client_id=client_id or None,
                source=Patrol.Source.LIVE,
                status=Patrol.Status.RECORDING,
                started_at=now,
            )
            audit_record(actor=user, action="patrol.started", target=patrol, data={"segment": segment.pk})
    except IntegrityError:
        if client_id and (again := Patrol.objects.filter(user=user, client_id=client_id).first()) is not None:
            if again.segment_id != segment.pk:
                raise ClientIdReused() from None
            return again, False
        raise PatrolInProgress() from None
    return patrol, True


def patrol_points_add(
    *,
    patrol: Patrol,
    actor: Any,
    points: Sequence[PointInput],
    datum: str = "wgs84",
    now: datetime | None = None,
) -> PointsResult:
    """Append a batch of fixes to a recording patrol. Out-of-order and repeated points are fine:
    one point per instant is kept, the track is ordered by time when it is computed."""
    now = now or timezone.now()
    _check_datum(datum)
    _check_batch(points)
    skew = timedelta(seconds=conf.patrol_clock_skew_s())
    with transaction.atomic():
        locked = Patrol.objects.select_for_update().get(pk=patrol.pk)
        if locked.status != Patrol.Status.RECORDING:
            raise PatrolNotRecording()
        rows = _point_rows(locked, points, datum, earliest=locked.started_at - skew, latest=now + skew)
        result = _insert_points(locked, rows, len(points))
        Patrol.objects.filter(pk=locked.pk).update(points_received=result.total, last_point_at=now)
    return result


def patrol_finish(*, patrol: Patrol, actor: Any, now: datetime | None = None) -> Patrol:
    """Finish a live patrol: compute it and, if valid, credit its hours (once)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Patrol.objects.select_for_update()
            .select_related("segment__river", "organisation", "user")
            .get(pk=patrol.pk)
        )
        if locked.status != Patrol.Status.RECORDING:
            raise PatrolNotRecording()
        locked.status = Patrol.Status.FINISHED
        locked.finished_at = now
        _patrol_complete(locked, actor=actor)
    return locked


def patrol_upload(
    *,
    user: Any,
    segment: RiverSegment,
    client_id: str,
    started_at: datetime,
    finished_at: datetime,
    points: Sequence[PointInput],
    datum: str = "wgs84",
    now: datetime | None = None,
) -> tuple[Patrol, bool]:
    """A whole patrol recorded offline. Idempotent by ``client_id``: a repeat returns the patrol
    created the first time (``created=False``) and credits nothing more."""
    now = now or timezone.now()
    _check_datum(datum)
    client_id = _clean_text(client_id, "client_id", max_length=64)
    existing = Patrol.objects.filter(user=user, client_id=client_id).first()
    if existing is not None:
        if existing.segment_id != segment.pk or existing.source != Patrol.Source.OFFLINE:
            raise ClientIdReused()
        return existing, False
    skew = timedelta(seconds=conf.patrol_clock_skew_s())
    if finished_at < started_at or finished_at > now + skew:
        raise _invalid("finished_at", "invalid_range", T("结束时间无效。", "The end time is invalid."))
    if len(points) > conf.patrol_max_points():
        raise PatrolTooManyPoints(limit=conf.patrol_max_points())
    assignment = selectors.steward_assignment_for(user=user, segment=segment)
    if assignment is None:
        raise NotASteward()
    try:
        with transaction.atomic():
            patrol = Patrol.objects.create(
                segment=segment,
                user=user,
                assignment=assignment,
                organisation=assignment.organisation,
                client_id=client_id,
                source=Patrol.Source.OFFLINE,
                status=Patrol.Status.FINISHED,
                started_at=started_at,
                finished_at=finished_at,
            )
            audit_record(actor=user, action="patrol.uploaded", target=patrol, data={"segment": segment.pk})
            rows = _point_rows(
                patrol, points, datum, earliest=started_at - skew, latest=min(finished_at + skew, now + skew)
            )
            result = _insert_points(patrol, rows, len(points))
            patrol.points_received = result.total
            patrol.last_point_at = now
            _patrol_complete(patrol, actor=user)
    except IntegrityError:
        again = Patrol.objects.filter(user=user, client_id=client_id).first()
        if again is None:
            raise
        return again, False
    return patrol, True


def _on_segment_share(track: CleanTrack, coords: list) -> float:
    points = track.points
    if not points:
        return 0.0
    step = max(1, len(points) // 500)  # a sample is plenty for a share
    sample = points[::step]
    limit = conf.patrol_max_offset_m()
    near = sum(1 for p in sample if distance_to_line_m(p.lat, p.lon, coords) <= limit)
    return near / len(sample)


def _patrol_complete(patrol: Patrol, *, actor: Any) -> None:
    """Compute distance, duration and validity; store the simplified track and its map; credit
    hours for a valid patrol. Runs inside the caller's transaction on a locked or new patrol."""
    segment = patrol.segment
    track = clean_track(selectors.patrol_track_points(patrol=patrol), selectors.clean_rules())
    policy = selectors.patrol_policy_for(division_code=segment.division_id)
    reasons: list[str] = []
    if len(track.points) < 2:
        reasons.append("too_few_points")
    if track.duration_s < policy.min_duration_s:
        reasons.append("too_short")
    if track.distance_m < policy.min_distance_m:
        reasons.append("too_little_distance")
    segment_coords = (segment.geometry or {}).get("coordinates") or []
    if (
        segment_coords
        and track.points
        and _on_segment_share(track, segment_coords) < conf.patrol_min_on_segment_share()
    ):
        reasons.append("off_segment")

    patrol.track_started_at = track.started_at
    patrol.track_ended_at = track.ended_at
    patrol.duration_s = track.duration_s
    patrol.distance_m = round(track.distance_m)
    patrol.points_used = len(track.points)
    patrol.is_valid = not reasons
    patrol.invalid_reasons = reasons
    patrol.policy = policy.as_dict()
    patrol.track = (
        simplified_geojson(track.points, conf.patrol_simplify_tolerance_m()) if track.points else {}
    )
    png = render_track_png(patrol.track.get("coordinates", []), size=conf.map_size(), river=segment_coords)
    name = default_storage.save(f"rivers/maps/{secrets.token_urlsafe(18)}.png", ContentFile(png))
    try:
        _credit_and_notify(patrol, track=track, policy=policy, actor=actor)
        patrol.map_image = name
        patrol.save()
        audit_record(
            actor=actor,
            action="patrol.finished",
            target=patrol,
            data={
                "valid": patrol.is_valid,
                "reasons": reasons,
                "distance_m": patrol.distance_m,
                "duration_s": patrol.duration_s,
                "points_used": patrol.points_used,
                "points_received": patrol.points_received,
                "service_record": patrol.service_record_id,
            },
        )
    except BaseException:
        _delete_files([name])
        raise


def _credit_and_notify(
    patrol: Patrol, *, track: CleanTrack, policy: selectors.EffectivePolicy, actor: Any
) -> None:
    segment = patrol.segment
    params = {
        "river": segment.river.name,
        "segment": segment.name,
        "distance_km": f"{patrol.distance_m / 1000:.2f}",
        "minutes": patrol.duration_s // 60,
    }
    if patrol.is_valid:
        from backend.volunteers.services import service_record_create

        started, ended = track.started_at, track.ended_at
        assert started is not None and ended is not None  # a valid track has at least two points

        record = service_record_create(
            user=patrol.user,
            organisation=patrol.organisation,
            source="patrol",
            started_at=started,
            ended_at=ended,
            place=f"{segment.river.name} · {segment.name}"[:200],
            content=f"河道巡护（巡河 {params['distance_km']} 公里）",
            external_ref=f"patrol:{patrol.pk}",
        )
        patrol.service_record = record
        notify(
            user=patrol.user,
            kind="patrol.credited",
            params={**params, "hours": record.hours},
            target=patrol,
            dedupe_key=f"patrol.finished:{patrol.pk}",
        )
    else:
        minimums = f"{policy.min_duration_s // 60} 分钟、{policy.min_distance_m / 1000:g} 公里"
        notify(
            user=patrol.user,
            kind="patrol.invalid",
            params={**params, "minimums": minimums},
            target=patrol,
            dedupe_key=f"patrol.finished:{patrol.pk}",
        )


def patrols_finish_stale(*, now: datetime | None = None) -> int:
    """Finish recording patrols whose last point (or start) is older than the stale limit."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=conf.patrol_stale_after_s())
    stale = Patrol.objects.filter(status=Patrol.Status.RECORDING).filter(
        Q(last_point_at__lt=cutoff) | Q(last_point_at__isnull=True, started_at__lt=cutoff)
    )
    done = 0
    for patrol in stale.order_by("id"):
        try:
            patrol_finish(patrol=patrol, actor=None, now=patrol.last_point_at or now)
            done += 1
        except PatrolNotRecording:
            continue  # finished meanwhile by its owner
    return done


# -- photos --------------------------------------------------------------------------------------


def _photo_store(
    data: bytes, *, role: str, actor: Any, patrol: Patrol | None = None, issue: RiverIssue | None = None
) -> RiverPhoto:
    from media import MediaError, process_image

    try:
        image = process_image(data, max_bytes=conf.photo_max_bytes(), keep_gps=True)
    except MediaError as exc:
        cls = {"file_too_large": PhotoTooLarge, "unsupported_media_type": PhotoUnsupported}.get(
            exc.code, PhotoRejected
        )
        raise cls(code=exc.code, **exc.details) from exc
    token = secrets.token_urlsafe(18)
    names = []
    try:
        names.append(default_storage.save(f"rivers/photos/{token}.{image.ext}", ContentFile(image.content)))
        names.append(
            default_storage.save(f"rivers/photos/{token}.thumb.{image.ext}", ContentFile(image.thumbnail))
        )
        with transaction.atomic():
            photo = RiverPhoto.objects.create(
                role=role,
                patrol=patrol,
                issue=issue,
                file=names[0],
                thumbnail=names[1],
                content_type=image.content_type,
                width=image.width,
                height=image.height,
                sha256=image.sha256,
                gps_sealed=seal(json.dumps(image.gps), purpose=GPS_PURPOSE) if image.gps else "",
                uploaded_by=actor,
            )
            audit_record(
                actor=actor,
                action="river_photo.added",
                target=photo,
                data={
                    "role": role,
                    "patrol": getattr(patrol, "pk", None),
                    "issue": getattr(issue, "pk", None),
                    "has_gps": bool(image.gps),
                },
            )
    except BaseException:
        _delete_files(names)
        raise
    return photo


def patrol_photo_add(*, patrol: Patrol, actor: Any, data: bytes) -> RiverPhoto:
    if patrol.photos.count() >= conf.photo_max_count() * 2:
        raise TooManyPhotos(limit=conf.photo_max_count() * 2)
    return _photo_store(data, role=RiverPhoto.Role.PATROL, actor=actor, patrol=patrol)


def river_issue_photo_add(*, issue: RiverIssue, actor: Any, data: bytes) -> RiverPhoto:
    """The reporter adds report photos while the issue awaits acceptance; the assignee adds
    resolution photos while it is assigned."""
    if issue.assignee_id == actor.pk and issue.status == RiverIssue.Status.ASSIGNED:
        role = RiverPhoto.Role.RESOLUTION
    elif issue.reporter_id == actor.pk and issue.status in (
        RiverIssue.Status.REPORTED,
        RiverIssue.Status.ACCEPTED,
    ):
        role = RiverPhoto.Role.REPORT
    else:
        from backend.core.errors import InvalidTransition

        raise InvalidTransition()
    if issue.photos.filter(role=role).count() >= conf.photo_max_count():
        raise TooManyPhotos(limit=conf.photo_max_count())
    return _photo_store(data, role=role, actor=actor, issue=issue)


# -- river issues --------------------------------------------------------------------------------


def _issue_params(issue: RiverIssue, **extra: Any) -> dict[str, Any]:
    return {
        "type_label": issue.get_type_display(),
        "river": issue.river.name,
        "segment": issue.segment.name,
        "due": _local(issue.due_at),
        **extra,
    }


def river_issue_report(
    *,
    reporter: Any,
    type: str,
    lat: float,
    lon: float,
    description: str,
    datum: str = "wgs84",
    segment: RiverSegment | None = None,
    river: River | None = None,
    patrol: Patrol | None = None,
    now: datetime | None = None,
) -> RiverIssue:
    """Report a problem, during a patrol (``patrol``), on a known segment, or on a river (the
    nearest segment to the location is taken)."""
    now = now or timezone.now()
    if type not in RiverIssue.Type.values:
        raise _invalid("type", "invalid_choice", T("不是允许的问题类型。", "Not an allowed issue type."))
    _check_datum(datum)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise _invalid("lat", "invalid", T("位置无效。", "Invalid location."))
    description = _clean_text(description, "description", max_length=2000)
    wlat, wlon = to_wgs84(lat, lon, datum)
    if patrol is not None:
        if patrol.user_id != reporter.pk:
            raise NotFound()
        segment = patrol.segment
    if segment is None:
        if river is None:
            raise ValidationFailed(
                errors=[
                    field_error(
                        "segment_id", "required", T("请指定河段或河流。", "Give a segment or a river.")
                    )
                ]
            )
        segment = selectors.nearest_segment(river=river, lat=wlat, lon=wlon)
        if segment is None:
            raise SegmentHasNoGeometry()
    with transaction.atomic():
        issue = RiverIssue.objects.create(
            river_id=segment.river_id,
            segment=segment,
            division_id=segment.division_id,
            patrol=patrol,
            type=type,
            lat=round(wlat, 7),
            lon=round(wlon, 7),
            description=description,
            reporter=reporter,
            reported_at=now,
            due_at=now + timedelta(days=conf.issue_sla_days()[type]),
        )
        issue = RiverIssue.objects.select_related("river", "segment").get(pk=issue.pk)
        audit_record(
            actor=reporter,
            action="river_issue.reported",
            target=issue,
            data={"type": type, "segment": segment.pk, "patrol": getattr(patrol, "pk", None)},
        )
        for handler_id in selectors.division_handler_ids(division_code=issue.division_id):
            notify(user=handler_id, kind="river_issue.reported", params=_issue_params(issue), target=issue)
    return issue


def _transition(
    issue: RiverIssue,
    *,
    to: str,
    allowed_from: Sequence[str],
    actor: Any,
    fields: dict[str, Any],
    action: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> RiverIssue:
    """Move an issue with a conditional UPDATE (two handlers cannot both take one step)."""
    from backend.core.errors import InvalidTransition

    updated = RiverIssue.objects.filter(pk=issue.pk, status__in=list(allowed_from)).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if not updated:
        raise InvalidTransition(status=issue.status)
    issue.refresh_from_db()
    audit_record(actor=actor, action=action, target=issue, reason=reason, data={"status": to, **(data or {})})
    return issue


def _step_telling_reporter(
    issue: RiverIssue,
    *,
    to: str,
    allowed_from: Sequence[str],
    actor: Any,
    action: str,
    fields: dict[str, Any],
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> RiverIssue:
    """A handler's step whose notice goes to the reporter (the kind is the audit action)."""
    with transaction.atomic():
        _transition(
            issue, to=to, allowed_from=allowed_from, actor=actor, action=action, reason=reason, fields=fields
        )
        notify(
            user=issue.reporter_id, kind=action, params=_issue_params(issue, **(params or {})), target=issue
        )
    return issue


def river_issue_accept(*, issue: RiverIssue, actor: Any) -> RiverIssue:
    S = RiverIssue.Status
    return _step_telling_reporter(
        issue,
        to=S.ACCEPTED,
        allowed_from=[S.REPORTED],
        actor=actor,
        action="river_issue.accepted",
        fields={"accepted_by": actor, "accepted_at": timezone.now()},
    )


def river_issue_reject(*, issue: RiverIssue, actor: Any, reason: str) -> RiverIssue:
    S = RiverIssue.Status
    reason = _clean_text(reason, "reason", max_length=1000)
    return _step_telling_reporter(
        issue,
        to=S.REJECTED,
        allowed_from=[S.REPORTED, S.ACCEPTED],
        actor=actor,
        action="river_issue.rejected",
        reason=reason,
        fields={"rejected_reason": reason, "rejected_at": timezone.now()},
        params={"reason": reason},
    )


def river_issue_assign(*, issue: RiverIssue, actor: Any, assignee: Any) -> RiverIssue:
    """Hand an accepted issue to a handler of its division (re-assigning an assigned one is fine)."""
    from backend.accounts.selectors import user_reviews_division

    S = RiverIssue.Status
    if assignee is None or not assignee.is_active or not user_reviews_division(assignee, issue.division_id):
        raise NotAHandler(field="assignee_id")
    with transaction.atomic():
        previous = issue.assignee_id
        _transition(
            issue,
            to=S.ASSIGNED,
            allowed_from=[S.ACCEPTED, S.ASSIGNED],
            actor=actor,
            action="river_issue.assigned",
            data={"assignee": assignee.pk, "previous": previous},
            fields={"assignee": assignee, "assigned_by": actor, "assigned_at": timezone.now()},
        )
        notify(
            user=assignee, kind="river_issue.assigned", params=_issue_params(issue), target=issue, urgent=True
        )
    return issue


def river_issue_resolve(*, issue: RiverIssue, actor: Any, resolution: str) -> RiverIssue:
    """The assignee reports the fix; at least one resolution photo must have been uploaded."""
    S = RiverIssue.Status
    resolution = _clean_text(resolution, "resolution", max_length=2000)
    with transaction.atomic():
        if not issue.photos.filter(role=RiverPhoto.Role.RESOLUTION).exists():
            raise ResolutionNeedsPhoto()
        _transition(
            issue,
            to=S.RESOLVED,
            allowed_from=[S.ASSIGNED],
            actor=actor,
            action="river_issue.resolved",
            fields={"resolution": resolution, "resolved_at": timezone.now()},
        )
        verifiers = {issue.reporter_id, *selectors.segment_river_chief_ids(segment_id=issue.segment_id)}
        for user_id in sorted(verifiers):
            notify(
                user=user_id,
                kind="river_issue.resolved",
                params=_issue_params(issue, resolution=resolution[:100]),
                target=issue,
            )
    return issue


def river_issue_verify(*, issue: RiverIssue, actor: Any, confirmed: bool, note: str = "") -> RiverIssue:
    """The reporter or a river chief confirms the fix (→ verified) or sends it back (→ assigned)."""
    S = RiverIssue.Status
    note = _clean_text(note, "note", max_length=1000, required=not confirmed)
    with transaction.atomic():
        if confirmed:
            _transition(
                issue,
                to=S.VERIFIED,
                allowed_from=[S.RESOLVED],
                actor=actor,
                action="river_issue.verified",
                reason=note,
                fields={"verified_by": actor, "verified_at": timezone.now()},
            )
            recipients = {issue.assignee_id, *selectors.division_handler_ids(division_code=issue.division_id)}
            for user_id in sorted(u for u in recipients if u and u != actor.pk):
                notify(user=user_id, kind="river_issue.verified", params=_issue_params(issue), target=issue)
        else:
            _transition(
                issue,
                to=S.ASSIGNED,
                allowed_from=[S.RESOLVED],
                actor=actor,
                action="river_issue.reopened",
                reason=note,
                fields={"resolved_at": None},
            )
            if issue.assignee_id:
                notify(
                    user=issue.assignee_id,
                    kind="river_issue.reopened",
                    params=_issue_params(issue, note=note),
                    target=issue,
                    urgent=True,
                )
    return issue


def river_issue_close(*, issue: RiverIssue, actor: Any) -> RiverIssue:
    S = RiverIssue.Status
    return _step_telling_reporter(
        issue,
        to=S.CLOSED,
        allowed_from=[S.VERIFIED],
        actor=actor,
        action="river_issue.closed",
        fields={"closed_at": timezone.now()},
    )


def river_issues_flag_overdue(*, now: datetime | None = None) -> int:
    """Flag open issues past their SLA date, once each, and tell whoever holds them."""
    now = now or timezone.now()
    flagged = 0
    late = RiverIssue.objects.filter(
        status__in=RiverIssue.OPEN_STATUSES, due_at__lt=now, overdue_at__isnull=True
    ).select_related("river", "segment")
    for issue in late.order_by("id"):
        with transaction.atomic():
            if not RiverIssue.objects.filter(pk=issue.pk, overdue_at__isnull=True).update(overdue_at=now):
                continue
            audit_record(
                actor=None,
                action="river_issue.overdue",
                target=issue,
                data={"due_at": issue.due_at.isoformat()},
            )
            recipients = (
                [issue.assignee_id]
                if issue.assignee_id
                else selectors.division_handler_ids(division_code=issue.division_id)
            )
            for user_id in recipients:
                notify(
                    user=user_id,
                    kind="river_issue.overdue",
                    params=_issue_params(issue),
                    target=issue,
                    dedupe_key=f"river_issue.overdue:{issue.pk}",
                )
            flagged += 1
    return flagged
