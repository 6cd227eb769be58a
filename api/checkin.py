"""API routes of the checkin domain: events, lists, passes, offline bundle, uploads and stats.

The scanner and dashboard websockets live in ``realtime.checkin``; ``POST /events/{id}/checkins``
is their HTTP twin (offline upload and fallback) and goes through the same service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from api.auth import AuthedRequest
from api.schemas import ERRORS
from backend.checkin import selectors, services
from backend.checkin.models import CheckinList, Event, Pass
from backend.checkin.permissions import (
    Action,
    event_access,
    event_pass_access,
    holder_pass_access,
    organisation_access,
)
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_name
from backend.core.pagination import keyset_page

router = Router(tags=["checkin"])

PAGE_MAX = 100


# --- schemas ---------------------------------------------------------------------------------------


class EventIn(Schema):
    organisation_id: int
    title: str = Field(..., min_length=1, max_length=200)
    venue: str = Field("", max_length=200)
    venue_post_id: int | None = None
    division_code: str = Field("", max_length=12)
    starts_at: datetime
    ends_at: datetime
    checkin_opens_at: datetime | None = None
    checkin_closes_at: datetime | None = None


class EventPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    venue: str | None = Field(None, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    checkin_opens_at: datetime | None = None
    checkin_closes_at: datetime | None = None


class ListOut(Schema):
    id: int
    name: str
    include_volunteers: bool
    include_attendees: bool
    shift_ids: list[int]
    allow_multiple_entries: bool
    allow_entry_after_exit: bool
    checked_in: int
    inside: int


class ListIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    include_volunteers: bool = True
    include_attendees: bool = True
    shift_ids: list[int] = Field(default_factory=list, max_length=200)
    allow_multiple_entries: bool = False
    allow_entry_after_exit: bool = True


class EventOut(Schema):
    id: int
    organisation_id: int
    title: str
    venue: str
    venue_post_id: int | None
    division_code: str
    starts_at: datetime
    ends_at: datetime
    checkin_opens_at: datetime
    checkin_closes_at: datetime
    closed_at: datetime | None
    live_url: str
    scan_socket: str
    live_socket: str


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class ShiftsIn(Schema):
    shift_ids: list[int] = Field(..., min_length=1, max_length=200)


class StaffIn(Schema):
    user_id: int
    role: Literal["scanner", "coordinator"]


class AttendeeIn(Schema):
    holder_name: str = Field(..., min_length=1, max_length=50)
    holder_phone: str | None = Field(None, max_length=20)


class PassOut(Schema):
    """A pass as coordinators see it: masked name, never the secret."""

    id: int
    kind: str
    status: str
    name: str
    blocked: bool
    shift_id: int | None
    entered: bool
    inside: bool


class PassPage(Schema):
    items: list[PassOut]
    next_cursor: str | None


class MyPassOut(Schema):
    id: int
    event_id: int
    event_title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    kind: str
    secret: str
    qr_png: str
    qr_svg: str


class ReasonIn(Schema):
    reason: str = Field("", max_length=200)


class UploadIn(Schema):
    device: str = Field("", max_length=64)
    items: list[dict[str, Any]] = Field(..., min_length=1)


class UploadOut(Schema):
    results: list[dict[str, Any]]


class CheckinPage(Schema):
    items: list[dict[str, Any]]
    next_cursor: str | None


# --- helpers ---------------------------------------------------------------------------------------


def _event(request: AuthedRequest, event_id: int, action: Action) -> Event:
    return event_access(user=request.auth, event_id=event_id, action=action)


def _cursor(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationFailed(errors=[field_error("cursor", "invalid", T("格式不正确。", "Invalid value."))])
    return int(value)


def _seq_page(qs: QuerySet, *, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """The check-in feed pages by ``seq`` in ascending order; its cursor is the plain last ``seq``
    (the same number the live socket sends), so it keeps its own format rather than the opaque
    shared one used for the id-keyed lists."""
    after = _cursor(cursor)
    limit = max(1, min(limit, PAGE_MAX))
    if after is not None:
        qs = qs.filter(seq__gt=after)
    rows = list(qs.order_by("seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].seq) if more and rows else None)


def _event_out(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "organisation_id": event.organisation_id,
        "title": event.title,
        "venue": event.venue,
        "venue_post_id": event.venue_post_id,
        "division_code": event.division_code,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "checkin_opens_at": event.checkin_opens_at,
        "checkin_closes_at": event.checkin_closes_at,
        "closed_at": event.closed_at,
        "live_url": f"/events/{event.pk}/live",
        "scan_socket": f"/ws/v1/events/{event.pk}/scan",
        "live_socket": f"/ws/v1/events/{event.pk}/live",
    }


def _list_out(lst: CheckinList) -> dict[str, Any]:
    return {
        "id": lst.pk,
        "name": lst.name,
        "include_volunteers": lst.include_volunteers,
        "include_attendees": lst.include_attendees,
        "shift_ids": sorted(s.pk for s in lst.shifts.all()),
        "allow_multiple_entries": lst.allow_multiple_entries,
        "allow_entry_after_exit": lst.allow_entry_after_exit,
        "checked_in": lst.checked_in,
        "inside": lst.inside,
    }


def _pass_out(p: Pass) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind,
        "status": p.status,
        "name": mask_name(p.holder_name),
        "blocked": p.blocked,
        "shift_id": p.shift_id,
        "entered": p.first_entry_at is not None,
        "inside": p.inside_lists > 0,
    }


# --- events ----------------------------------------------------------------------------------------


@router.post(
    "/events", response={201: EventOut, **ERRORS}, summary="Create an event (coordinator of the organisation)"
)
def event_create(request: AuthedRequest, payload: EventIn):
    from backend.volunteers.models import ServicePost

    organisation = organisation_access(user=request.auth, organisation_id=payload.organisation_id)
    post = None
    if payload.venue_post_id is not None:
        post = ServicePost.objects.filter(pk=payload.venue_post_id).first()
        if post is None:
            raise ValidationFailed(
                errors=[field_error("venue_post_id", "not_found", T("找不到该服务岗。", "No such post."))]
            )
    event = services.event_create(
        organisation=organisation,
        title=payload.title,
        venue=payload.venue,
        venue_post=post,
        division_code=payload.division_code,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        checkin_opens_at=payload.checkin_opens_at,
        checkin_closes_at=payload.checkin_closes_at,
        by=request.auth,
    )
    return Status(201, _event_out(event))


@router.get("/events", response={200: EventPage, **ERRORS}, summary="Events I coordinate or scan for")
def event_list(request: AuthedRequest, cursor: str | None = None, limit: int = 50):
    rows, next_cursor = keyset_page(
        selectors.events_for_user(user=request.auth), cursor=cursor, limit=limit, max_limit=PAGE_MAX
    )
    return {"items": [_event_out(e) for e in rows], "next_cursor": next_cursor}


@router.get("/events/{event_id}", response={200: EventOut, **ERRORS})
def event_detail(request: AuthedRequest, event_id: int):
    return _event_out(_event(request, event_id, Action.EVENT_VIEW))


@router.patch("/events/{event_id}", response={200: EventOut, **ERRORS})
def event_patch(request: AuthedRequest, event_id: int, payload: EventPatch):
    event = _event(request, event_id, Action.EVENT_MANAGE)
    event = services.event_update(event=event, by=request.auth, **payload.dict(exclude_unset=True))
    return _event_out(event)


@router.get("/events/{event_id}/lists", response={200: list[ListOut], **ERRORS})
def list_index(request: AuthedRequest, event_id: int):
    event = _event(request, event_id, Action.EVENT_VIEW)
    return [_list_out(lst) for lst in event.lists.prefetch_related("shifts").order_by("id")]


@router.post("/events/{event_id}/lists", response={201: ListOut, **ERRORS})
def list_create(request: AuthedRequest, event_id: int, payload: ListIn):
    event = _event(request, event_id, Action.EVENT_MANAGE)
    lst = services.checkin_list_create(event=event, by=request.auth, **payload.dict())
    return Status(201, _list_out(lst))


@router.post(
    "/events/{event_id}/shifts",
    response={200: dict[str, Any], **ERRORS},
    summary="Link shifts: their confirmed volunteers get passes",
)
def event_shifts(request: AuthedRequest, event_id: int, payload: ShiftsIn):
    from backend.volunteers.models import Shift

    event = _event(request, event_id, Action.EVENT_MANAGE)
    shifts = list(Shift.objects.select_related("activity").filter(pk__in=payload.shift_ids))
    if len(shifts) != len(set(payload.shift_ids)):
        raise ValidationFailed(
            errors=[field_error("shift_ids", "not_found", T("找不到该班次。", "No such shift."))]
        )
    issued = services.event_shifts_link(event=event, shifts=shifts, by=request.auth)
    return {"linked": sorted(s.pk for s in shifts), "passes_issued": len(issued)}


@router.post(
    "/events/{event_id}/staff",
    response={201: dict[str, Any], **ERRORS},
    summary="Make a user scanner or coordinator of the event",
)
def event_staff(request: AuthedRequest, event_id: int, payload: StaffIn):
    from backend.accounts.models import User

    event = _event(request, event_id, Action.EVENT_MANAGE)
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed(
            errors=[field_error("user_id", "not_found", T("找不到该用户。", "No such user."))]
        )
    grant = services.event_staff_grant(event=event, user=user, role=payload.role, by=request.auth)
    return Status(201, {"grant_id": grant.pk, "user_id": user.pk, "role": grant.role})


# --- passes ----------------------------------------------------------------------------------------


@router.get("/events/{event_id}/passes", response={200: PassPage, **ERRORS})
def pass_index(request: AuthedRequest, event_id: int, cursor: str | None = None, limit: int = 50):
    event = _event(request, event_id, Action.EVENT_MANAGE)
    rows, next_cursor = keyset_page(
        selectors.passes_of_event(event=event),
        cursor=cursor,
        limit=limit,
        max_limit=PAGE_MAX,
        descending=False,
    )
    return {"items": [_pass_out(p) for p in rows], "next_cursor": next_cursor}


@router.post("/events/{event_id}/passes", response={201: PassOut, **ERRORS}, summary="Add an attendee")
def pass_create(request: AuthedRequest, event_id: int, payload: AttendeeIn):
    event = _event(request, event_id, Action.EVENT_MANAGE)
    holder = None
    if payload.holder_phone:
        from backend.accounts.services import user_get_or_create

        holder = user_get_or_create(phone=payload.holder_phone)
    pass_obj = services.pass_add_attendee(
        event=event, holder_name=payload.holder_name, holder=holder, by=request.auth
    )
    return Status(201, _pass_out(pass_obj))


def _event_pass(request: AuthedRequest, event_id: int, pass_id: int) -> Pass:
    return event_pass_access(user=request.auth, event_id=event_id, pass_id=pass_id)


@router.post("/events/{event_id}/passes/{pass_id}/void", response={200: PassOut, **ERRORS})
def pass_void(request: AuthedRequest, event_id: int, pass_id: int, payload: ReasonIn | None = None):
    pass_obj = services.pass_void(
        pass_obj=_event_pass(request, event_id, pass_id),
        by=request.auth,
        reason=payload.reason if payload else "",
    )
    return _pass_out(pass_obj)


@router.post("/events/{event_id}/passes/{pass_id}/reissue", response={200: PassOut, **ERRORS})
def pass_reissue(request: AuthedRequest, event_id: int, pass_id: int):
    return _pass_out(services.pass_reissue(pass_obj=_event_pass(request, event_id, pass_id), by=request.auth))


@router.post("/events/{event_id}/passes/{pass_id}/block", response={200: PassOut, **ERRORS})
def pass_block(request: AuthedRequest, event_id: int, pass_id: int, payload: ReasonIn | None = None):
    pass_obj = services.pass_block(
        pass_obj=_event_pass(request, event_id, pass_id),
        blocked=True,
        by=request.auth,
        reason=payload.reason if payload else "",
    )
    return _pass_out(pass_obj)


@router.post("/events/{event_id}/passes/{pass_id}/unblock", response={200: PassOut, **ERRORS})
def pass_unblock(request: AuthedRequest, event_id: int, pass_id: int):
    pass_obj = services.pass_block(
        pass_obj=_event_pass(request, event_id, pass_id), blocked=False, by=request.auth
    )
    return _pass_out(pass_obj)


@router.get(
    "/me/passes", response={200: list[MyPassOut], **ERRORS}, summary="My valid passes, with their QR codes"
)
def my_passes(request: AuthedRequest):
    return [
        {
            "id": p.pk,
            "event_id": p.event_id,
            "event_title": p.event.title,
            "starts_at": p.event.starts_at,
            "ends_at": p.event.ends_at,
            "venue": p.event.venue,
            "kind": p.kind,
            "secret": p.secret,
            "qr_png": f"/api/v1/me/passes/{p.pk}/qr.png",
            "qr_svg": f"/api/v1/me/passes/{p.pk}/qr.svg",
        }
        for p in selectors.passes_for_holder(user=request.auth)[:PAGE_MAX]
    ]


@router.get(
    "/me/passes/{pass_id}/qr.{fmt}", response={200: None, **ERRORS}, summary="QR code of my pass (png or svg)"
)
def my_pass_qr(request: AuthedRequest, pass_id: int, fmt: str):
    from media import qr_for_url, qr_png, qr_svg

    if fmt not in ("png", "svg"):
        raise NotFound()
    pass_obj = holder_pass_access(user=request.auth, pass_id=pass_id)
    qr = qr_for_url("", pass_obj.secret.upper())
    body, content_type = (qr_png(qr), "image/png") if fmt == "png" else (qr_svg(qr), "image/svg+xml")
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store, private"
    return response


# --- scanning over HTTP, offline, stats --------------------------------------------------------------


@router.get(
    "/events/{event_id}/offline-bundle",
    response={200: dict[str, Any], **ERRORS},
    summary="What a scanner needs to decide offline",
)
def offline_bundle(request: AuthedRequest, event_id: int, response: HttpResponse):
    event = _event(request, event_id, Action.SCAN)
    response["Cache-Control"] = "no-store, private"
    return selectors.offline_bundle(event=event)


@router.post(
    "/events/{event_id}/checkins",
    response={200: UploadOut, **ERRORS},
    summary="Upload a queue of redeems (offline sync, or the HTTP fallback of the scanner socket)",
)
def checkin_upload(request: AuthedRequest, event_id: int, payload: UploadIn):
    event = _event(request, event_id, Action.SCAN)
    session = getattr(request, "auth_session", None)
    device = payload.device or (f"session:{session.pk}" if session is not None else "")
    results = services.checkin_upload(
        event_id=event.pk, items=payload.items, scanner=request.auth, device=device
    )
    return {"results": results}


@router.get(
    "/events/{event_id}/checkins", response={200: CheckinPage, **ERRORS}, summary="The event's scans, by seq"
)
def checkin_index(request: AuthedRequest, event_id: int, cursor: str | None = None, limit: int = 50):
    event = _event(request, event_id, Action.LIVE)
    rows, next_cursor = _seq_page(selectors.checkins_of_event(event=event), cursor=cursor, limit=limit)
    return {"items": [selectors.checkin_feed_message(row) for row in rows], "next_cursor": next_cursor}


@router.get(
    "/events/{event_id}/stats",
    response={200: dict[str, Any], **ERRORS},
    summary="Live counts (as the dashboard's snapshot)",
)
def event_stats(request: AuthedRequest, event_id: int):
    return selectors.event_stats(event=_event(request, event_id, Action.LIVE))
