"""Geofenced self check-in: the post's rotating QR (``/shifts/{id}/checkin-qr``, for the
coordinator's screen) and the volunteer's scan (``/shifts/{id}/self-checkin``)."""

from __future__ import annotations

from ninja import Router, Status

from api.schemas import ERRORS
from api.volunteers.participation_schemas import SelfCheckinIn, SelfCheckinOut, SelfCheckinQrOut
from backend.volunteers import services
from backend.volunteers.permissions import Action, shift_access

router = Router()


@router.get("/shifts/{shift_id}/checkin-qr", response={200: SelfCheckinQrOut, **ERRORS})
def checkin_qr(request, shift_id: int):
    """The QR the post's screen shows (coordinators of the activity): render ``payload`` as a QR
    code and ask again at ``expires_at`` (every 30-60 s; the previous code is still taken)."""
    shift = shift_access(user=request.auth, shift_id=shift_id, action=Action.SHIFT_ROSTER)
    return services.checkin_qr(shift=shift)


@router.post("/shifts/{shift_id}/self-checkin", response={201: SelfCheckinOut, **ERRORS})
def self_checkin(request, shift_id: int, payload: SelfCheckinIn):
    """A volunteer with a confirmed place checks in (``kind=in``) or out (``kind=out``) with the
    scanned QR and their location (GCJ-02 by default, as ``wx.getLocation`` gives it). 409 with
    ``outside_geofence`` (``details.distance_m``, ``radius_m``), ``outside_window``, ``qr_expired``,
    ``qr_invalid``, ``self_checkin_disabled`` (the activity's ``hours_mode``), ``not_signed_up``
    or ``not_checked_in``. A check-out in ``self_checkin_checkout`` activities records the hours
    (``record_id``, ``hours``), as the scanner's check-out does; a repeat answers the first."""
    entry = services.self_checkin_record(
        shift_id=shift_id,
        user=request.auth,
        payload=payload.payload,
        latitude=payload.latitude,
        longitude=payload.longitude,
        coord=payload.coord,
        kind=payload.kind,
    )
    return Status(201, entry)
