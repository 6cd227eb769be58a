"""The notifications domain's part of a person's data rights: inbox, push devices, preferences."""

from __future__ import annotations

from typing import Any

from backend.accounts.hooks import DataSection, account_cancelling, account_erasing, iso, personal_data
from backend.core.i18n import T
from backend.notifications.models import Device, InboxCount, Notification, Preference


@personal_data.register
def notifications_data(user: Any) -> list[DataSection]:
    preference = Preference.objects.filter(user=user).first()
    return [
        DataSection(
            key="notifications",
            title=T("通知", "Notifications"),
            purpose=T(
                "把与你有关的决定、提醒送到应用内和手机上。",
                "Brings decisions and reminders about you to the app and your phone.",
            ),
            data={
                "inbox": [
                    {
                        "kind": n.kind,
                        "title": n.title,
                        "body": n.body,
                        "created_at": iso(n.created_at),
                        "read_at": iso(n.read_at),
                    }
                    for n in Notification.objects.filter(user=user).order_by("-pk")
                ],
                "devices": [
                    {
                        "platform": d.platform,
                        "registered_at": iso(d.created_at),
                        "last_seen_at": iso(d.last_seen_at),
                    }
                    for d in Device.objects.filter(user=user).order_by("pk")
                ],
                "preferences": {"quiet_hours": preference.quiet_hours, "muted_kinds": preference.muted_kinds}
                if preference
                else None,
            },
            kept_after_cancellation=T(
                "不保留：推送设备在申请时删除，通知与偏好在注销生效时删除。",
                "Nothing: push devices go at the request, the inbox and preferences when it takes effect.",
            ),
        )
    ]


@account_cancelling.register
def notifications_cancelling(user: Any) -> None:
    Device.objects.filter(user=user).delete()  # no more pushes to the phone at once


@account_erasing.register
def notifications_erasing(user: Any, pseudonym: str) -> None:
    Notification.objects.filter(user=user).delete()
    InboxCount.objects.filter(user=user).delete()
    Device.objects.filter(user=user).delete()
    Preference.objects.filter(user=user).delete()
