"""Schemas of devices, the inbox and push preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from api.schemas import Schema
from backend.core.i18n import request_lang
from backend.notifications.kinds import localized_text


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

    @staticmethod
    def resolve_token_hint(device: Any) -> str:
        return device.token[:6] + "…"


def _localized(n: Any, context: Any) -> tuple[str, str] | None:
    request = (context or {}).get("request")
    return localized_text(
        kind=n.kind,
        params=n.params or {},
        object_id=(n.data or {}).get("object_id", ""),
        lang=request_lang(request) if request is not None else "zh",
    )


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

    @staticmethod
    def resolve_title(n: Any, context: Any) -> str:
        text = _localized(n, context)
        return text[0] if text else n.title

    @staticmethod
    def resolve_body(n: Any, context: Any) -> str:
        text = _localized(n, context)
        return text[1] if text else n.body

    @staticmethod
    def resolve_object_type(n: Any) -> str:
        return (n.data or {}).get("object_type", "")

    @staticmethod
    def resolve_object_id(n: Any) -> str:
        return (n.data or {}).get("object_id", "")

    @staticmethod
    def resolve_link(n: Any) -> str:
        return (n.data or {}).get("link", "")

    @staticmethod
    def resolve_read(n: Any) -> bool:
        return n.read_at is not None


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
