"""Passes: coordinators list, add, void, re-issue and block them; holders get theirs with a QR."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router, Status
from ninja.errors import Throttled

from api.auth import AuthedRequest
from api.checkin.schemas import (
    CheckinAttendeeIn,
    CheckinMyPassOut,
    CheckinPassOut,
    CheckinPassPage,
    CheckinReasonIn,
)
from api.schemas import ERRORS
from api.throttles import door_search_throttle
from backend.checkin import selectors, services
from backend.checkin.pass_images import pass_qr_png, pass_qr_svg
from backend.checkin.permissions import Action, event_access, event_pass_access, holder_pass_access
from backend.core.errors import NotFound
from backend.core.pagination import keyset_page

router = Router()


_search_throttle = door_search_throttle()


@router.get("/events/{event_id}/passes", response={200: CheckinPassPage, **ERRORS})
def pass_index(
    request: AuthedRequest,
    event_id: int,
    cursor: str | None = None,
    limit: int = 50,
    search: str | None = None,
):
    """The event's passes, for its coordinators, by id. With ``search`` (the door search, for
    scanners too): valid passes whose holder's name contains it (2 characters or more) or whose
    holder's mobile number ends with it (exactly 4 digits); masked names, at most
    ``LINLI_CHECKIN_SEARCH_MAX`` of them, no next page; each search is audited and rate-limited
    per user (``LINLI_CHECKIN_SEARCH_RATE``). Redeem a found pass with ``{"pass_id": id}``
    instead of ``secret``."""
    if search is not None:
        event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
        if not _search_throttle.allow_request(request):
            raise Throttled(int(_search_throttle.wait() or 1))
        return {
            "items": services.pass_door_search(event=event, query=search, by=request.auth),
            "next_cursor": None,
        }
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_MANAGE)
    rows, next_cursor = keyset_page(
        selectors.passes_of_event(event=event),
        cursor=cursor,
        limit=limit,
        max_limit=selectors.PAGE_MAX,
        descending=False,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/events/{event_id}/passes", response={201: CheckinPassOut, **ERRORS}, summary="Add an attendee")
def pass_create(request: AuthedRequest, event_id: int, payload: CheckinAttendeeIn):
    event = event_access(user=request.auth, event_id=event_id, action=Action.EVENT_MANAGE)
    pass_obj = services.pass_add_attendee(
        event=event, holder_name=payload.holder_name, holder_phone=payload.holder_phone, by=request.auth
    )
    return Status(201, pass_obj)


@router.post("/events/{event_id}/passes/{pass_id}/void", response={200: CheckinPassOut, **ERRORS})
def pass_void(request: AuthedRequest, event_id: int, pass_id: int, payload: CheckinReasonIn | None = None):
    return services.pass_void(
        pass_obj=event_pass_access(user=request.auth, event_id=event_id, pass_id=pass_id),
        by=request.auth,
        reason=payload.reason if payload else "",
    )


@router.post("/events/{event_id}/passes/{pass_id}/reissue", response={200: CheckinPassOut, **ERRORS})
def pass_reissue(request: AuthedRequest, event_id: int, pass_id: int):
    return services.pass_reissue(
        pass_obj=event_pass_access(user=request.auth, event_id=event_id, pass_id=pass_id), by=request.auth
    )


@router.post("/events/{event_id}/passes/{pass_id}/block", response={200: CheckinPassOut, **ERRORS})
def pass_block(request: AuthedRequest, event_id: int, pass_id: int, payload: CheckinReasonIn | None = None):
    return services.pass_block(
        pass_obj=event_pass_access(user=request.auth, event_id=event_id, pass_id=pass_id),
        blocked=True,
        by=request.auth,
        reason=payload.reason if payload else "",
    )


@router.post("/events/{event_id}/passes/{pass_id}/unblock", response={200: CheckinPassOut, **ERRORS})
def pass_unblock(request: AuthedRequest, event_id: int, pass_id: int):
    return services.pass_block(
        pass_obj=event_pass_access(user=request.auth, event_id=event_id, pass_id=pass_id),
        blocked=False,
        by=request.auth,
    )


@router.get(
    "/me/passes",
    response={200: list[CheckinMyPassOut], **ERRORS},
    summary="My valid passes, with their QR codes",
)
def my_passes(request: AuthedRequest):
    return selectors.passes_for_holder(user=request.auth)[: selectors.PAGE_MAX]


@router.get(
    "/me/passes/{pass_id}/qr.{fmt}", response={200: None, **ERRORS}, summary="QR code of my pass (png or svg)"
)
def my_pass_qr(request: AuthedRequest, pass_id: int, fmt: str):
    if fmt not in ("png", "svg"):
        raise NotFound()
    pass_obj = holder_pass_access(user=request.auth, pass_id=pass_id)
    body, content_type = (
        (pass_qr_png(pass_obj), "image/png") if fmt == "png" else (pass_qr_svg(pass_obj), "image/svg+xml")
    )
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store, private"
    return response
