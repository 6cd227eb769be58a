"""The check-in domain's part of a person's data rights: passes held and their scans.

Cancellation keeps the check-ins (the event's record, hours behind service records) under the
pseudonym: the holder's name on their passes is replaced."""

from __future__ import annotations

from typing import Any

from backend.accounts.hooks import DataSection, account_erasing, iso, personal_data
from backend.checkin.models import Checkin, Pass
from backend.core.i18n import T


@personal_data.register
def checkin_data(user: Any) -> list[DataSection]:
    passes = Pass.objects.filter(holder=user).select_related("event").order_by("pk")
    return [
        DataSection(
            key="checkin",
            title=T("活动凭证与签到", "Event passes and check-ins"),
            purpose=T(
                "让你入场，并记录签到签退（志愿者的服务时数由此计算）。",
                "Admits you and records check-in and check-out (volunteers' hours follow).",
            ),
            data={
                "passes": [
                    {"event": p.event.title, "holder_name": p.holder_name, "kind": p.kind, "status": p.status}
                    for p in passes
                ],
                "checkins": [
                    {
                        "event": c.event.title,
                        "kind": c.kind,
                        "status": c.status,
                        "reason": c.reason,
                        "scanned_at": iso(c.scanned_at),
                    }
                    for c in Checkin.objects.filter(pass_obj__holder=user)
                    .select_related("event")
                    .order_by("pk")
                ],
            },
            kept_after_cancellation=T(
                "签到记录保留，凭证上的姓名改为假名。",
                "Check-ins are kept; the name on passes becomes the pseudonym.",
            ),
        )
    ]


@account_erasing.register
def checkin_erasing(user: Any, pseudonym: str) -> None:
    Pass.objects.filter(holder=user).update(holder_name=pseudonym[:50])
