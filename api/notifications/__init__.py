"""Devices, the notification inbox and push preferences of the signed-in user."""

from __future__ import annotations

from ninja import Query, Router

from api.notifications.schemas import (
    DeviceDeleteIn,
    DeviceIn,
    DeviceOut,
    InboxOut,
    InboxQuery,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
)
from api.schemas import ERRORS, OkOut
from backend.notifications import selectors, services

router = Router(tags=["notifications"])


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
    return device


@router.get("/me/devices", response={200: list[DeviceOut], **ERRORS})
def device_list(request):
    """The signed-in user's registered phones."""
    return selectors.device_list(user=request.auth)


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
        "items": rows,
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
    return services.notification_mark_read(user=request.auth, notification=notification)


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
