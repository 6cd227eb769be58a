"""Who may do what with notifications: only the addressee reads or marks one."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.core.permissions import rule


class Action(StrEnum):
    OWN = "notification.own"


@rule(Action.OWN)
def notification_own(user: Any, notification: Any) -> bool:
    return notification is not None and notification.user_id == user.pk
