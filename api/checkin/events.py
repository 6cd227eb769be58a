"""Events: create, list, read, edit; link volunteer shifts; make users staff."""

from __future__ import annotations

from ninja import Router, Status

from api.auth import AuthedRequest
from api.checkin.schemas import (
    CheckinEventIn,
    CheckinEventOut,
    CheckinEventPage,
    CheckinEventPatch,
    CheckinShiftsIn,
    CheckinShiftsLinkedOut,
    CheckinStaffIn,
    CheckinStaffOut,
)
from api.schemas import ERRORS, cursor_param
from backend.checkin import selectors, services
from backend.checkin.permissions import Action, event_access, organisation_access
from backend.core.pagination import keyset_page

router = Router()


@router.post(
    "/events",
    response={201: CheckinEventOut, **ERRORS},
    summary="Create an event (coordinator of the organisation)",
)
def event_create(request: AuthedRequest, payload: CheckinEventIn):
    organisation = organisation_access(user=request.auth, organisation_id=payload.organisation_id)
    event = services.event_create(
        organisation=organisation,
        title=payload.title,
        venue=payload.venue,
        venue_post=selectors.venue_post_get(venue_post_id=payload.venue_post_id),
        division_code=payload.division_code,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        checkin_opens_at=payload.checkin_opens_at,
        checkin_closes_at=payload.checkin_closes_at,
        by=request.auth,
    )
    return Status(201, event)


@router.get("/events", response={200: CheckinEventPage, **ERRORS}, summary="Events I coordinate or scan for")
def event_list(request: AuthedRequest, cursor: str | None = cursor_param(), limit: int = 50):
    rows, next_cursor = keyset_page(
        selectors.events_for_user(user=request.auth), cursor=cursor, limit=limit, max_limit=selectors.PAGE_MAX
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/events/{event_id}", response={200: CheckinEventOut, **ERRORS})
def event_detail(request: AuthedRequest, event_id: int):
    return event_access(user=request.auth, event_id=event_id, action=Action.EVENT_VIEW)


@router.patch("/events/{event_id}", response={200: CheckinEventOut, **ERRORS})
def event_patch(request: AuthedRequest, event_id: int, payload: CheckinEventPatch):
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_MANAGE)
    return services.event_update(event=event, by=request.auth, **payload.dict(exclude_unset=True))


@router.post(
    "/events/{event_id}/shifts",
    response={200: CheckinShiftsLinkedOut, **ERRORS},
    summary="Link shifts: their confirmed volunteers get passes",
)
def event_shifts(request: AuthedRequest, event_id: int, payload: CheckinShiftsIn):
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_MANAGE)
    shifts = selectors.shifts_get(shift_ids=payload.shift_ids)
    issued = services.event_shifts_link(event=event, shifts=shifts, by=request.auth)
    return CheckinShiftsLinkedOut(linked=sorted(s.pk for s in shifts), passes_issued=len(issued))


@router.post(
    "/events/{event_id}/staff",
    response={201: CheckinStaffOut, **ERRORS},
    summary="Make a user scanner or coordinator of the event",
)
def event_staff(request: AuthedRequest, event_id: int, payload: CheckinStaffIn):
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_MANAGE)
    user = selectors.staff_candidate_get(user_id=payload.user_id)
    grant = services.event_staff_grant(event=event, user=user, role=payload.role, by=request.auth)
    return Status(201, grant)
