"""Scanning over HTTP (offline upload and the fallback of the scanner socket), the offline
bundle, the scan log and the live counts. The sockets themselves live in ``realtime.checkin``."""

from __future__ import annotations

from typing import Any

from ninja import Router

from api.auth import AuthedRequest
from api.checkin.schemas import (
    CheckinAnnulIn,
    CheckinOfflineBundleOut,
    CheckinPage,
    CheckinUploadIn,
    CheckinUploadOut,
)
from api.schemas import ERRORS, cursor_param, errors
from backend.checkin import offline, selectors, services
from backend.checkin.permissions import Action, event_access
from backend.checkin.redeem.messages import scanner_device
from backend.core.i18n import request_lang
from backend.runtime.streaming import accepts_gzip, streamed_response

router = Router()


@router.get(
    "/events/{event_id}/offline-bundle",
    response={200: CheckinOfflineBundleOut, **errors(410)},
    summary="What a scanner needs to decide offline: the full bundle, or what changed since a cursor",
)
def offline_bundle(request: AuthedRequest, event_id: int, since: str | None = None):
    """Without ``since``: the full bundle, streamed (gzip when the client accepts it). With
    ``since`` (the ``cursor`` of an earlier answer): only the passes a change or a scan touched
    since then (upsert them by ``id``), the token ids revoked since then (drop them from the
    passes), and the lists; ``full`` is true when a list's rules changed and the answer is the
    whole bundle instead. Keep the new ``cursor`` for the next sync. A cursor that is not this
    event's answers 422 ``invalid_cursor``; one too old or unknown 410 ``cursor_expired``: fetch
    the full bundle."""
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    response = streamed_response(
        request, offline.bundle_stream(event=event, since=since), gzip=accepts_gzip(request)
    )
    response["Cache-Control"] = "no-store, private"
    return response


@router.post(
    "/events/{event_id}/checkins",
    response={200: CheckinUploadOut, **errors(413)},
    summary="Upload a queue of redeems (offline sync, or the HTTP fallback of the scanner socket)",
)
def checkin_upload(request: AuthedRequest, event_id: int, payload: CheckinUploadIn):
    """Items are redeem messages (``forced: true`` for an entry the device admitted offline: kept
    as it happened, with ``conflict`` when we would have refused it). Errors: ``upload_too_large``
    (413); ``device_revoked`` (403) and ``unknown_device`` (422) for the body's ``device_id``,
    before any item is recorded (an item naming such a device gets that code as its result)."""
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    results = services.checkin_upload(
        event_id=event.pk,
        items=payload.items,
        scanner=request.auth,
        device=scanner_device(sent=payload.device, session=getattr(request, "auth_session", None)),
        lang=request_lang(request),
        device_id=payload.device_id,
    )
    return {"results": results}


@router.post(
    "/events/{event_id}/checkins/annul",
    response={200: dict[str, Any], **ERRORS},
    summary="Annul an admitted scan (its device within the annul window, or a coordinator)",
)
def checkin_annul(request: AuthedRequest, event_id: int, payload: CheckinAnnulIn):
    """Annuls the scan with this ``nonce``: a new row (the dashboards' ``annulled`` message, which
    this returns); counts, ``inside`` and a volunteer's attendance follow. Errors:
    ``unknown_nonce`` (404), ``not_annullable`` (409: a refused scan or an annulment),
    ``already_annulled`` (409), ``annul_too_late`` (409), ``annul_not_allowed`` (403: another
    device), ``device_revoked`` (403), ``unknown_device`` (422)."""
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    row = services.checkin_annul(
        event=event,
        nonce=payload.nonce,
        reason=payload.reason,
        by=services.AnnulBy(
            user=request.auth,
            device_id=payload.device_id,
            device=scanner_device(sent=payload.device, session=getattr(request, "auth_session", None)),
        ),
    )
    return selectors.checkin_feed_message(row)


@router.get(
    "/events/{event_id}/conflicts",
    response={200: CheckinPage, **ERRORS},
    summary="Forced offline scans we would have refused, by seq (coordinators)",
)
def conflict_index(
    request: AuthedRequest, event_id: int, cursor: str | None = cursor_param(), limit: int = 50
):
    """Each item is the dashboard's ``conflict`` message: ``conflict`` is the reason we would have
    refused the scan for, ``entry_at``/``entry_gate`` the earlier entry it collides with."""
    event = event_access(user=request.auth, event_id=event_id, action=Action.LIVE)
    rows, next_cursor = selectors.conflicts_page(event=event, cursor=cursor, limit=limit)
    return {"items": [selectors.checkin_feed_message(row) for row in rows], "next_cursor": next_cursor}


@router.get(
    "/events/{event_id}/checkins",
    response={200: CheckinPage, **ERRORS},
    summary="The event's scans, by seq",
)
def checkin_index(
    request: AuthedRequest, event_id: int, cursor: str | None = cursor_param(), limit: int = 50
):
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
