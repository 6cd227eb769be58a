"""GPS patrols: live (start, batches of points, finish) or uploaded whole after an offline walk.

At finish the track is cleaned and measured against the division's policy; a valid patrol
credits its hours once, as a service record of the steward's organisation
(``backend.volunteers.services.service_record_create``), and the patroller is told either way.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.i18n import T
from backend.notifications.services import notify
from backend.rivers import conf, selectors
from backend.rivers.errors import (
    ClientIdReused,
    NotASteward,
    PatrolInProgress,
    PatrolNotRecording,
    PatrolTooManyPoints,
)
from backend.rivers.geo import CleanTrack, clean_track, distance_to_line_m, simplified_geojson, to_wgs84
from backend.rivers.mapimage import render_track_png
from backend.rivers.models import Patrol, PatrolPoint, RiverSegment, StewardAssignment
from backend.rivers.services._common import check_datum, clean_text, delete_files, invalid
from backend.volunteers.services import service_record_create


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


# -- points --------------------------------------------------------------------------------------


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


# -- starting and uploading ----------------------------------------------------------------------


def _by_client_id(user: Any, client_id: str | None) -> Patrol | None:
    return Patrol.objects.filter(user=user, client_id=client_id).first() if client_id else None


def _repeat(patrol: Patrol | None, *, segment: RiverSegment, source: str | None = None) -> Patrol | None:
    """An earlier patrol under the same client id is a repeat of this request only if it is of the
    same segment (and source); otherwise the client reused an id."""
    if patrol is not None and (patrol.segment_id != segment.pk or (source and patrol.source != source)):
        raise ClientIdReused()
    return patrol


def _steward_assignment(user: Any, segment: RiverSegment) -> StewardAssignment:
    assignment = selectors.steward_assignment_for(user=user, segment=segment)
    if assignment is None:
        raise NotASteward()
    return assignment


def patrol_start(
    *, user: Any, segment: RiverSegment, client_id: str | None = None, now: datetime | None = None
) -> tuple[Patrol, bool]:
    """Start a live patrol; with a ``client_id`` a repeat returns the same patrol (``created=False``)."""
    now = now or timezone.now()
    existing = _repeat(_by_client_id(user, client_id), segment=segment)
    if existing is not None:
        return existing, False
    assignment = _steward_assignment(user, segment)
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
        return patrol, True
    except IntegrityError:
        pass
    # A concurrent repeat of this start won the race, or another patrol is still recording.
    again = _repeat(_by_client_id(user, client_id), segment=segment)
    if again is not None:
        return again, False
    raise PatrolInProgress()


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
    check_datum(datum)
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


def _check_upload(
    *, started_at: datetime, finished_at: datetime, points: Sequence[PointInput], latest: datetime
) -> None:
    if finished_at < started_at or finished_at > latest:
        raise invalid("finished_at", "invalid_range", T("结束时间无效。", "The end time is invalid."))
    if len(points) > conf.patrol_max_points():
        raise PatrolTooManyPoints(limit=conf.patrol_max_points())


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
    check_datum(datum)
    client_id = clean_text(client_id, "client_id", max_length=64)
    existing = _repeat(_by_client_id(user, client_id), segment=segment, source=Patrol.Source.OFFLINE)
    if existing is not None:
        return existing, False
    skew = timedelta(seconds=conf.patrol_clock_skew_s())
    _check_upload(started_at=started_at, finished_at=finished_at, points=points, latest=now + skew)
    assignment = _steward_assignment(user, segment)
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
        again = _by_client_id(user, client_id)
        if again is None:
            raise
        return again, False
    return patrol, True


# -- computing, crediting ------------------------------------------------------------------------


def _on_segment_share(track: CleanTrack, coords: list) -> float:
    points = track.points
    if not points:
        return 0.0
    step = max(1, len(points) // 500)  # a sample is plenty for a share
    sample = points[::step]
    limit = conf.patrol_max_offset_m()
    near = sum(1 for p in sample if distance_to_line_m(p.lat, p.lon, coords) <= limit)
    return near / len(sample)


def _invalid_reasons(track: CleanTrack, policy: selectors.EffectivePolicy, segment_coords: list) -> list[str]:
    """Why a patrol does not count (none: it is valid)."""
    reasons: list[str] = []
    if len(track.points) < 2:
        reasons.append("too_few_points")
    if track.duration_s < policy.min_duration_s:
        reasons.append("too_short")
    if track.distance_m < policy.min_distance_m:
        reasons.append("too_little_distance")
    if (
        segment_coords
        and track.points
        and _on_segment_share(track, segment_coords) < conf.patrol_min_on_segment_share()
    ):
        reasons.append("off_segment")
    return reasons


def _patrol_complete(patrol: Patrol, *, actor: Any) -> None:
    """Compute distance, duration and validity; store the simplified track and its map; credit
    hours for a valid patrol. Runs inside the caller's transaction on a locked or new patrol."""
    segment = patrol.segment
    track = clean_track(selectors.patrol_track_points(patrol=patrol), selectors.clean_rules())
    policy = selectors.patrol_policy_for(division_code=segment.division_id)
    segment_coords = (segment.geometry or {}).get("coordinates") or []
    reasons = _invalid_reasons(track, policy, segment_coords)

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
        delete_files([name])
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
