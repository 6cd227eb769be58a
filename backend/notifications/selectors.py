"""Reads of the notifications domain: the inbox, devices and preferences."""

from __future__ import annotations

from typing import Any

from backend.core.pagination import keyset_page
from backend.core.permissions import authorize
from backend.notifications import conf, delivery
from backend.notifications.errors import NotificationNotFound
from backend.notifications.kinds import all_kinds
from backend.notifications.models import Device, InboxCount, Notification, Preference
from backend.notifications.permissions import Action as NotificationAction


def notification_list(
    *, user: Any, cursor: str | None = None, limit: int = 20, unread_only: bool = False
) -> tuple[list[Notification], str | None]:
    """Newest first, one page after ``cursor``: the rows and the next page's cursor (or None)."""
    qs = Notification.objects.filter(user_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return keyset_page(qs, cursor=cursor, limit=limit)


def notification_unread_count(*, user: Any) -> int:
    """The kept count (``InboxCount``): one row, whatever the inbox holds."""
    return InboxCount.objects.filter(user_id=user.pk).values_list("unread", flat=True).first() or 0


def notification_get(*, user: Any, notification_id: int) -> Notification:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        raise NotificationNotFound()
    authorize(user, NotificationAction.OWN, notification)
    return notification


def device_list(*, user: Any) -> list[Device]:
    return list(Device.objects.filter(user_id=user.pk).order_by("-last_seen_at", "-pk"))


def preferences_get(*, user: Any) -> dict[str, Any]:
    """Effective preferences with every registered kind, muted or not, and whether it may be muted."""
    pref = Preference.objects.filter(user_id=user.pk).first()
    muted = set(pref.muted_kinds or []) if pref is not None else set()
    start, end = conf.quiet_hours()
    return {
        "quiet_hours": pref.quiet_hours if pref is not None else True,
        "quiet_start": start.strftime("%H:%M"),
        "quiet_end": end.strftime("%H:%M"),
        "time_zone": str(conf.SERVER_ZONE),
        "kinds": [
            {
                "kind": spec.name,
                "category": spec.category,
                "push": spec.name not in muted or spec.category in delivery.ALWAYS_ON,
                "locked": spec.category in delivery.ALWAYS_ON,
            }
            for spec in all_kinds()
        ],
    }
