"""Divisions: browse the tree; staff add communities under their street."""

from __future__ import annotations

from ninja import Router, Schema, Status
from pydantic import Field

from api.schemas import ERRORS
from backend.core.errors import NotFound
from backend.core.permissions import authorize
from backend.divisions import selectors, services
from backend.divisions.permissions import Action as DivisionAction

router = Router(tags=["divisions"])


class DivisionOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None


class CommunityIn(Schema):
    code: str = Field(min_length=12, max_length=12)
    name: str = Field(min_length=1, max_length=80)


def division_out(d) -> dict:
    return {"code": d.code, "name": d.name, "level": d.level, "parent_code": d.parent_id}


@router.get("/divisions", response={200: list[DivisionOut], **ERRORS}, auth=None)
def division_children(request, parent: str | None = None):
    """Children of ``parent`` (provinces when omitted)."""
    return [division_out(d) for d in selectors.division_children(parent or None)]


@router.get("/divisions/{code}", response={200: DivisionOut, **ERRORS}, auth=None)
def division_detail(request, code: str):
    division = selectors.division_get(code)
    if division is None:
        raise NotFound()
    return division_out(division)


@router.post("/divisions/{street_code}/communities", response={201: DivisionOut, **ERRORS})
def community_create(request, street_code: str, payload: CommunityIn):
    """Reviewers of the street (or above) add its communities."""
    authorize(request.auth, DivisionAction.MANAGE, street_code, hide=False)
    division = services.community_create(
        street_code=street_code, code=payload.code, name=payload.name, actor=request.auth
    )
    return Status(201, division_out(division))
