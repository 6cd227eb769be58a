"""Scanning over HTTP (offline upload and the fallback of the scanner socket), the offline
bundle, the scan log and the live counts. The sockets themselves live in ``realtime.checkin``."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router

from api.auth import AuthedRequest
from api.checkin.schemas import CheckinPage, CheckinUploadIn, CheckinUploadOut
from api.schemas import ERRORS, errors
from backend.checkin import selectors, services
from backend.checkin.permissions import Action, event_access
from backend.checkin.redeem.messages import scanner_device
from backend.core.i18n import request_lang

router = Router()


@router.get(
    "/events/{event_id}/offline-bundle",
    response={200: dict[str, Any], **ERRORS},
    summary="What a scanner needs to decide offline",
)
def offline_bundle(request: AuthedRequest, event_id: int, response: HttpResponse):
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    response["Cache-Control"] = "no-store, private"
    return selectors.offline_bundle(event=event)


@router.post(
    "/events/{event_id}/checkins",
    response={200: CheckinUploadOut, **errors(413)},
    summary="Upload a queue of redeems (offline sync, or the HTTP fallback of the scanner socket)",
)
def checkin_upload(request: AuthedRequest, event_id: int, payload: CheckinUploadIn):
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    results = services.checkin_upload(
        event_id=event.pk,
        items=payload.items,
        scanner=request.auth,
        device=scanner_device(sent=payload.device, session=getattr(request, "auth_session", None)),
        lang=request_lang(request),
    )
    return {"results": results}


@router.get(
    "/events/{event_id}/checkins",
    response={200: CheckinPage, **ERRORS},
    summary="The event's scans, by seq",
)
def checkin_index(request: AuthedRequest, event_id: int, cursor: str | None = None, limit: int = 50):
    event = event_access(user=request.auth, event_id=event_id, action=Action.LIVE)
    rows, next_cursor = selectors.checkins_page(event=event, cursor=cursor, limit=limit)
    return {"items": [selectors.checkin_feed_message(row) for row in rows], "next_cursor": next_cursor}


@router.get(
    "/events/{event_id}/stats",
    response={200: dict[str, Any], **ERRORS},
    summary="Live counts (as the dashboard's snapshot)",
)
def event_stats(request: AuthedRequest, event_id: int):
    event = event_access(user=request.auth, event_id=event_id, action=Action.LIVE)
    return selectors.event_stats(event=event)
