"""Scanner devices of an event: register (the app keeps the id), list, revoke."""

from __future__ import annotations

from ninja import Router, Status

from api.auth import AuthedRequest
from api.checkin.schemas import CheckinDeviceIn, CheckinDeviceOut, CheckinReasonIn
from api.schemas import ERRORS
from backend.checkin import selectors, services
from backend.checkin.permissions import Action, event_access, event_device_access

router = Router()


@router.post(
    "/events/{event_id}/devices",
    response={201: CheckinDeviceOut, **ERRORS},
    summary="Register a scanner device at a gate (scanners and coordinators)",
)
def device_create(request: AuthedRequest, event_id: int, payload: CheckinDeviceIn):
    """The app stores the returned ``id`` and sends it with its scans (``device_id``)."""
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    device = services.device_register(event=event, name=payload.name, gate=payload.gate, by=request.auth)
    return Status(201, device)


@router.get(
    "/events/{event_id}/devices",
    response={200: list[CheckinDeviceOut], **ERRORS},
    summary="The event's scanner devices",
)
def device_index(request: AuthedRequest, event_id: int):
    event = event_access(user=request.auth, event_id=event_id, action=Action.SCAN)
    return list(selectors.devices_of_event(event=event))


@router.post(
    "/events/{event_id}/devices/{device_id}/revoke",
    response={200: CheckinDeviceOut, **ERRORS},
    summary="Revoke a device: its sockets close (4403), its scans are refused (coordinators)",
)
def device_revoke(
    request: AuthedRequest, event_id: int, device_id: int, payload: CheckinReasonIn | None = None
):
    device = event_device_access(user=request.auth, event_id=event_id, device_id=device_id)
    return services.device_revoke(device=device, by=request.auth, reason=payload.reason if payload else "")
