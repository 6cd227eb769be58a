"""Check-in lists of an event."""

from __future__ import annotations

from ninja import Router, Status

from api.auth import AuthedRequest
from api.checkin.schemas import CheckinListIn, CheckinListOut, CheckinListPatch
from api.schemas import ERRORS
from backend.checkin import selectors, services
from backend.checkin.permissions import Action, event_access, event_list_access

router = Router()


@router.get("/events/{event_id}/lists", response={200: list[CheckinListOut], **ERRORS})
def list_index(request: AuthedRequest, event_id: int):
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_VIEW)
    return selectors.lists_of_event(event=event)


@router.post("/events/{event_id}/lists", response={201: CheckinListOut, **ERRORS})
def list_create(request: AuthedRequest, event_id: int, payload: CheckinListIn):
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_MANAGE)
    return Status(201, services.checkin_list_create(event=event, by=request.auth, **payload.dict()))


@router.patch("/events/{event_id}/lists/{list_id}", response={200: CheckinListOut, **ERRORS})
def list_patch(request: AuthedRequest, event_id: int, list_id: int, payload: CheckinListPatch):
    """Set (``"HH:MM"``, local time) or clear (``null``) the list's daily automatic check-out."""
    lst = event_list_access(user=request.auth, event_id=event_id, list_id=list_id)
    return services.checkin_list_update(lst=lst, auto_checkout_at=payload.auto_checkout_at, by=request.auth)
