"""Rivers and their segments (public to read; division staff write), and a river's closed issues."""

from __future__ import annotations

from ninja import Router, Status

from api.rivers.schemas import (
    PublicRiverIssuePageOut,
    RiverDetailOut,
    RiverIn,
    RiverOut,
    RiverPageOut,
    RiverSegmentIn,
    RiverSegmentOut,
    RiverSegmentPatch,
)
from api.schemas import ERRORS, cursor_param
from backend.rivers import selectors, services
from backend.rivers.permissions import Action, division_manage_check, river_access, segment_access

router = Router()


@router.get("/rivers", response={200: RiverPageOut, **ERRORS}, auth=None)
def river_list(request, division: str | None = None, cursor: str | None = cursor_param(), limit: int = 50):
    """Rivers, optionally those touching a division (by code prefix). Public."""
    return selectors.river_list(division=division, cursor=cursor, limit=limit)


@router.post("/rivers", response={201: RiverOut, **ERRORS})
def river_create(request, payload: RiverIn):
    """Division staff (reviewers) add a river flowing through their divisions."""
    division_manage_check(user=request.auth, division_codes=payload.division_codes)
    river = services.river_create(
        actor=request.auth,
        name=payload.name,
        code=payload.code,
        description=payload.description,
        division_codes=payload.division_codes,
    )
    return Status(201, river)


@router.get("/rivers/{int:river_id}", response={200: RiverDetailOut, **ERRORS}, auth=None)
def river_detail(request, river_id: int):
    return river_access(river_id=river_id, detail=True)


@router.get("/rivers/{int:river_id}/issues", response={200: PublicRiverIssuePageOut, **ERRORS}, auth=None)
def river_issues_public(request, river_id: int, cursor: str | None = cursor_param(), limit: int = 50):
    """Closed issues of a river for the public: type, dates and a rounded location only."""
    river = river_access(river_id=river_id)
    return selectors.river_issues_public(river=river, cursor=cursor, limit=limit)


@router.post("/rivers/{int:river_id}/segments", response={201: RiverSegmentOut, **ERRORS})
def segment_create(request, river_id: int, payload: RiverSegmentIn):
    river = river_access(river_id=river_id)
    division_manage_check(user=request.auth, division_codes=payload.division_code)
    segment = services.segment_create(
        actor=request.auth,
        river=river,
        name=payload.name,
        division_code=payload.division_code,
        geometry=payload.geometry,
        datum=payload.datum,
        patrol_every_days=payload.patrol_every_days,
    )
    return Status(201, segment)


@router.patch("/rivers/segments/{int:segment_id}", response={200: RiverSegmentOut, **ERRORS})
def segment_update(request, segment_id: int, payload: RiverSegmentPatch):
    segment = segment_access(user=request.auth, segment_id=segment_id, action=Action.RIVER_MANAGE)
    return services.segment_update(
        actor=request.auth,
        segment=segment,
        name=payload.name,
        geometry=payload.geometry,
        datum=payload.datum,
        patrol_every_days=payload.patrol_every_days,
    )
