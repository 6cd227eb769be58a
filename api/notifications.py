"""Devices, the notification inbox and push preferences of the signed-in user."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Query, Router, Schema
from pydantic import Field

from api.schemas import ERRORS, OkOut
from backend.notifications import selectors, services
from backend.notifications.models import Device, Notification

router = Router(tags=["notifications"])


# --- schemas -----------------------------------------------------------------------------------


class DeviceIn(Schema):
    token: str = Field(min_length=1, max_length=4096, description="FCM registration token or installation ID")
    platform: Literal["android", "ios", "harmony", "web"]
    token_type: Literal["registration", "fid"] = Field(
        "registration", description="`registration` (FCM getToken()) or `fid` (Firebase installation ID)"
    )


class DeviceDeleteIn(Schema):
    token: str = Field(min_length=1, max_length=4096)


class DeviceOut(Schema):
    id: int
    platform: str
    token_type: str
    token_hint: str  # the first characters only: enough to recognise, useless to send
    created_at: datetime
    last_seen_at: datetime


class NotificationOut(Schema):
    id: int
    kind: str
    category: str
    title: str
    body: str
    object_type: str
    object_id: str
    link: str
    urgent: bool
    created_at: datetime
    read_at: datetime | None
    read: bool


class InboxOut(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class InboxQuery(Schema):
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(20, ge=1, le=100)
    unread: bool = False


class ReadAllOut(Schema):
    updated: int
    unread_count: int


class KindPreferenceOut(Schema):
    kind: str
    category: str
    push: bool
    locked: bool


class PreferencesOut(Schema):
    quiet_hours: bool
    quiet_start: str
    quiet_end: str
    time_zone: str
    kinds: list[KindPreferenceOut]


class PreferencesIn(Schema):
    quiet_hours: bool | None = None
    kinds: dict[str, bool] | None = Field(None, description='e.g. {"volunteers.shift_reminder": false}')


# --- shaping -----------------------------------------------------------------------------------


def device_out(device: Device) -> dict[str, Any]:
    return {
        "id": device.pk,
        "platform": device.platform,
        "token_type": device.token_type,
        "token_hint": device.token[:6] + "…",
        "created_at": device.created_at,
        "last_seen_at": device.last_seen_at,
    }


def notification_out(n: Notification) -> dict[str, Any]:
    data = n.data or {}
    return {
        "id": n.pk,
        "kind": n.kind,
        "category": n.category,
        "title": n.title,
        "body": n.body,
        "object_type": data.get("object_type", ""),
        "object_id": data.get("object_id", ""),
        "link": data.get("link", ""),
        "urgent": n.urgent,
        "created_at": n.created_at,
        "read_at": n.read_at,
        "read": n.read_at is not None,
    }


# --- devices -----------------------------------------------------------------------------------


@router.post("/me/devices", response={200: DeviceOut, **ERRORS})
def device_register(request, payload: DeviceIn):
    """Register this phone's push address for the signed-in user. Idempotent: the same token
    again updates its row; a token registered by another user moves to this one."""
    device = services.device_register(
        user=request.auth,
        token=payload.token,
        platform=payload.platform,
        token_type=payload.token_type,
        session=getattr(request, "auth_session", None),
    )
    return device_out(device)


@router.get("/me/devices", response={200: list[DeviceOut], **ERRORS})
def device_list(request):
    """The signed-in user's registered phones."""
    return [device_out(d) for d in selectors.device_list(user=request.auth)]


@router.delete("/me/devices", response={200: OkOut, **ERRORS})
def device_unregister(request, payload: DeviceDeleteIn):
    """Forget this phone's push address (call it on logout). Idempotent."""
    services.device_unregister(user=request.auth, token=payload.token)
    return {"ok": True}


# --- inbox -------------------------------------------------------------------------------------


@router.get("/me/notifications", response={200: InboxOut, **ERRORS})
def inbox(request, filters: Query[InboxQuery]):
    """The inbox, newest first, with the number of unread notifications. Pass ``next_cursor`` back
    as ``cursor`` for the next page; ``unread=true`` lists unread ones only."""
    rows, next_cursor = selectors.notification_list(
        user=request.auth,
        cursor=filters.cursor,
        limit=filters.limit,
        unread_only=filters.unread,
    )
    return {
        "items": [notification_out(n) for n in rows],
        "next_cursor": next_cursor,
        "unread_count": selectors.notification_unread_count(user=request.auth),
    }


@router.post("/me/notifications/read-all", response={200: ReadAllOut, **ERRORS})
def read_all(request):
    """Mark every notification read."""
    updated = services.notifications_mark_all_read(user=request.auth)
    return {"updated": updated, "unread_count": selectors.notification_unread_count(user=request.auth)}


@router.post("/me/notifications/{int:notification_id}/read", response={200: NotificationOut, **ERRORS})
def read_one(request, notification_id: int):
    """Mark one notification read (404 for anyone else's)."""
    notification = selectors.notification_get(user=request.auth, notification_id=notification_id)
    return notification_out(services.notification_mark_read(user=request.auth, notification=notification))


# --- preferences -------------------------------------------------------------------------------


@router.get("/me/notification-preferences", response={200: PreferencesOut, **ERRORS})
def preferences(request):
    """Push preferences: every notification kind, whether it is pushed, whether it may be muted
    (decisions and assignments may not), and quiet hours (reminders wait until they end)."""
    return selectors.preferences_get(user=request.auth)


@router.put("/me/notification-preferences", response={200: PreferencesOut, **ERRORS})
def preferences_update(request, payload: PreferencesIn):
    """Change push preferences; only the fields given change. The inbox always keeps everything."""
    services.preferences_update(user=request.auth, quiet_hours=payload.quiet_hours, kinds=payload.kinds)
    return selectors.preferences_get(user=request.auth)
