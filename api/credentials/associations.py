"""Associations: platform admins register them; their admins see and edit them and their scan
statistics."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from api.auth import AuthedRequest
from api.credentials.schemas import AssociationIn, AssociationOut, AssociationPatch, ScanStatsOut
from api.schemas import ERRORS
from backend.core.permissions import authorize
from backend.credentials import selectors, services
from backend.credentials.models import Association
from backend.credentials.permissions import Action, association_access

router = Router()


@router.get("/associations", response={200: list[AssociationOut], **ERRORS})
def association_list(request: AuthedRequest) -> Any:
    """Associations the caller administers (all for a platform admin)."""
    return selectors.association_list(user=request.auth)


@router.post("/associations", response={201: AssociationOut, **ERRORS})
def association_create(request: AuthedRequest, payload: AssociationIn) -> Status:
    """Platform admins register an association; they then grant ``association_admin`` roles."""
    authorize(request.auth, Action.ASSOCIATION_CREATE, hide=False)
    return Status(201, services.association_create(actor=request.auth, **payload.dict()))


@router.get("/associations/{association_id}", response={200: AssociationOut, **ERRORS})
def association_detail(request: AuthedRequest, association_id: int) -> Association:
    return association_access(
        user=request.auth, association_id=association_id, action=Action.ASSOCIATION_VIEW
    )


@router.patch("/associations/{association_id}", response={200: AssociationOut, **ERRORS})
def association_update(request: AuthedRequest, association_id: int, payload: AssociationPatch) -> Association:
    association = association_access(user=request.auth, association_id=association_id)
    return services.association_update(
        actor=request.auth, association=association, **payload.dict(exclude_unset=True)
    )


@router.get("/associations/{association_id}/scan-stats", response={200: ScanStatsOut, **ERRORS})
def scan_stats(request: AuthedRequest, association_id: int, days: int = Query(30, ge=1, le=366)) -> Any:
    """How often the association's badges were looked up, with which outcome, from which clients."""
    association = association_access(
        user=request.auth, association_id=association_id, action=Action.ASSOCIATION_VIEW
    )
    return selectors.scan_stats(association=association, days=days)
