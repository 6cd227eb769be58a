"""GPS patrols: live (start, points, finish), uploaded after an offline walk, their maps and photos."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import HttpResponse
from ninja import File, Router, Status
from ninja.files import UploadedFile

from api.rivers._uploads import point_inputs, read_photo
from api.rivers.schemas import (
    PatrolDetailOut,
    PatrolPageOut,
    PatrolPointsIn,
    PatrolPointsOut,
    PatrolStartIn,
    PatrolUploadIn,
    RiverPhotoOut,
)
from api.schemas import ERRORS, cursor_param, errors
from backend.core.errors import NotFound
from backend.rivers import selectors, services
from backend.rivers.models import Patrol
from backend.rivers.permissions import (
    Action,
    organisation_patrols_check,
    patrol_access,
    patrol_detail_for_viewer,
    patrol_get_or_404,
    segment_access,
)

router = Router()


def _detail(patrol_id: int, *, user: Any) -> Patrol:
    patrol = selectors.patrol_with_live_figures(patrol_get_or_404(patrol_id=patrol_id))
    return patrol_detail_for_viewer(patrol, user=user)


@router.post("/patrols", response={200: PatrolDetailOut, 201: PatrolDetailOut, **ERRORS})
def patrol_start(request, payload: PatrolStartIn):
    """Start a patrol on a segment the caller stewards. With ``client_id`` a repeat answers 200
    with the same patrol."""
    segment = segment_access(user=request.auth, segment_id=payload.segment_id)
    patrol, created = services.patrol_start(user=request.auth, segment=segment, client_id=payload.client_id)
    return Status(201 if created else 200, _detail(patrol.pk, user=request.auth))


@router.post("/patrols:upload", response={200: PatrolDetailOut, 201: PatrolDetailOut, **errors(413)})
def patrol_upload(request, payload: PatrolUploadIn):
    """A whole patrol recorded offline, idempotent by ``client_id`` (a repeat answers 200 with
    the patrol created the first time; hours are credited once)."""
    segment = segment_access(user=request.auth, segment_id=payload.segment_id)
    patrol, created = services.patrol_upload(
        user=request.auth,
        segment=segment,
        client_id=payload.client_id,
        started_at=payload.started_at,
        finished_at=payload.finished_at,
        points=point_inputs(payload.points),
        datum=payload.datum,
    )
    return Status(201 if created else 200, _detail(patrol.pk, user=request.auth))


@router.get("/patrols", response={200: PatrolPageOut, **ERRORS})
def patrol_list(
    request, organisation_id: int | None = None, cursor: str | None = cursor_param(), limit: int = 20
):
    """The caller's patrols, or an organisation's for its coordinators."""
    organisation_patrols_check(user=request.auth, organisation_id=organisation_id)
    return selectors.patrol_list(
        user=request.auth, organisation_id=organisation_id, cursor=cursor, limit=limit
    )


@router.get("/patrols/{int:patrol_id}", response={200: PatrolDetailOut, **ERRORS})
def patrol_detail(request, patrol_id: int):
    """The patrol with its simplified track (GeoJSON) and the URL of its map image."""
    patrol = selectors.patrol_with_live_figures(patrol_access(user=request.auth, patrol_id=patrol_id))
    return patrol_detail_for_viewer(patrol, user=request.auth)


@router.get("/patrols/{int:patrol_id}/map.png", response={200: None, **ERRORS})
def patrol_map(request, patrol_id: int):
    patrol = patrol_access(user=request.auth, patrol_id=patrol_id)
    if not patrol.map_image:
        raise NotFound()
    with default_storage.open(patrol.map_image, "rb") as handle:
        response = HttpResponse(handle.read(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@router.post("/patrols/{int:patrol_id}/points", response={200: PatrolPointsOut, **errors(413)})
def patrol_points(request, patrol_id: int, payload: PatrolPointsIn):
    """Append a batch of GPS fixes (any order; repeats are ignored)."""
    patrol = patrol_access(user=request.auth, patrol_id=patrol_id, action=Action.PATROL_RECORD)
    return services.patrol_points_add(
        patrol=patrol, actor=request.auth, points=point_inputs(payload.points), datum=payload.datum
    )


@router.post("/patrols/{int:patrol_id}/finish", response={200: PatrolDetailOut, **ERRORS})
def patrol_finish(request, patrol_id: int):
    patrol = patrol_access(user=request.auth, patrol_id=patrol_id, action=Action.PATROL_RECORD)
    services.patrol_finish(patrol=patrol, actor=request.auth)
    return _detail(patrol.pk, user=request.auth)


@router.post("/patrols/{int:patrol_id}/photos", response={201: RiverPhotoOut, **errors(413, 415)})
def patrol_photo(request, patrol_id: int, photo: UploadedFile = File(...)):
    patrol = patrol_access(user=request.auth, patrol_id=patrol_id, action=Action.PATROL_RECORD)
    return Status(201, services.patrol_photo_add(patrol=patrol, actor=request.auth, data=read_photo(photo)))
