"""Volunteer organisations, their coordinators, and red-vest service posts (U站)."""

from __future__ import annotations

from ninja import Router, Status

from api.schemas import ERRORS, cursor_param
from api.volunteers.schemas import (
    ServicePostIn,
    ServicePostOut,
    ServicePostPage,
    VolunteerCoordinatorIn,
    VolunteerOrganisationIn,
    VolunteerOrganisationOut,
)
from backend.core.permissions import authorize
from backend.volunteers import selectors, services
from backend.volunteers.permissions import Action, organisation_access, post_organisation_access

router = Router()


@router.post("/volunteer/organisations", response={201: VolunteerOrganisationOut, **ERRORS})
def organisation_create(request, payload: VolunteerOrganisationIn):
    """Platform admins create volunteer organisations (志愿服务组织)."""
    authorize(request.auth, Action.ORGANISATION_CREATE, hide=False)
    return Status(201, services.organisation_create(by=request.auth, **payload.dict()))


@router.get("/volunteer/organisations", response={200: list[VolunteerOrganisationOut], **ERRORS})
def organisation_mine(request):
    """Organisations the caller coordinates."""
    return selectors.organisations_coordinated(user=request.auth)


@router.post(
    "/volunteer/organisations/{organisation_id}/coordinators",
    response={201: VolunteerOrganisationOut, **ERRORS},
)
def coordinator_add(request, organisation_id: int, payload: VolunteerCoordinatorIn):
    org = organisation_access(
        user=request.auth, organisation_id=organisation_id, action=Action.COORDINATORS_MANAGE, hide=False
    )
    services.organisation_coordinator_add_by_phone(organisation=org, phone=payload.phone, by=request.auth)
    return Status(201, org)


@router.post("/service-posts", response={201: ServicePostOut, **ERRORS})
def post_create(request, payload: ServicePostIn):
    """A red-vest service post (U站); coordinators create posts of their organisation."""
    org = post_organisation_access(user=request.auth, organisation_id=payload.organisation_id)
    data = payload.dict(exclude={"organisation_id"})
    return Status(201, services.service_post_create(by=request.auth, organisation=org, **data))


@router.get("/service-posts", response={200: ServicePostPage, **ERRORS})
def post_list(request, division: str | None = None, cursor: str | None = cursor_param(), limit: int = 20):
    return selectors.service_post_list(division=division, cursor=cursor, limit=limit)
