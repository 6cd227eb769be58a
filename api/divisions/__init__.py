"""Divisions: browse the tree; staff add communities under their street."""

from __future__ import annotations

from ninja import Router, Status

from api.divisions.schemas import CommunityIn, DivisionOut
from api.schemas import ERRORS
from backend.core.errors import NotFound
from backend.core.permissions import authorize
from backend.divisions import selectors, services
from backend.divisions.permissions import Action as DivisionAction

router = Router(tags=["divisions"])


@router.get("/divisions", response={200: list[DivisionOut], **ERRORS}, auth=None)
def division_children(request, parent: str | None = None):
    """Children of ``parent`` (provinces when omitted)."""
    return selectors.division_children(parent or None)


@router.get("/divisions/{code}", response={200: DivisionOut, **ERRORS}, auth=None)
def division_detail(request, code: str):
    division = selectors.division_get(code)
    if division is None:
        raise NotFound()
    return division


@router.post("/divisions/{street_code}/communities", response={201: DivisionOut, **ERRORS})
def community_create(request, street_code: str, payload: CommunityIn):
    """Reviewers of the street (or above) add its communities."""
    authorize(request.auth, DivisionAction.MANAGE, street_code, hide=False)
    division = services.community_create(
        street_code=street_code, code=payload.code, name=payload.name, actor=request.auth
    )
    return Status(201, division)
