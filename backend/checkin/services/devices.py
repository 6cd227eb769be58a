"""Scanner devices: registered for an event at a gate, revoked when lost or retired.

A device's id travels with its scans (websocket: ``?device_id=`` at connect or ``device_id`` in
a frame; HTTP upload: the ``device_id`` field), so scans, stats and dashboards count per gate and
``already_redeemed`` answers say at which gate a pass was used. Revoking a device refuses its
scans (``device_revoked``) and closes its open sockets (4403) after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.checkin.errors import DeviceRevoked, UnknownDevice
from backend.checkin.models import Device, Event, GateCount
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.runtime.sockets import CLOSE_ACCESS_REVOKED, device_group, sockets_close_after_commit


def device_check(*, event_id: int, device_id: int) -> Device:
    """The event's device ``device_id`` if it may scan: ``UnknownDevice`` or ``DeviceRevoked``."""
    device = Device.objects.filter(pk=device_id, event_id=event_id).first()
    if device is None:
        raise UnknownDevice(device_id=device_id)
    if device.revoked_at is not None:
        raise DeviceRevoked(device_id=device_id)
    return device


def device_register(*, event: Event, name: str, gate: str, by: Any = None) -> Device:
    """A new scanner device of the event at ``gate`` (the gate's counts start at zero)."""
    name, gate = (name or "").strip()[:64], (gate or "").strip()[:50]
    errors = [
        field_error(field, "required", T("此项必填。", "This field is required."))
        for field, value in (("name", name), ("gate", gate))
        if not value
    ]
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        device = Device.objects.create(event=event, name=name, gate=gate, created_by=by)
        GateCount.objects.get_or_create(event=event, gate=gate)
        audit_record(
            actor=by,
            action="checkin.device_registered",
            target=device,
            data={"event": event.pk, "gate": gate},
        )
    return device


def device_revoke(*, device: Device, by: Any = None, reason: str = "") -> Device:
    """Revoke a device: its scans are refused from now on and its sockets close. Idempotent."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        if device.revoked_at is not None:
            return device
        device.revoked_at, device.revoked_by = timezone.now(), by
        device.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=by,
            action="checkin.device_revoked",
            target=device,
            data={"event": device.event_id, "gate": device.gate},
            reason=reason,
        )
        device_id = device.pk
        sockets_close_after_commit(device_group(device_id), code=CLOSE_ACCESS_REVOKED)
    return device
