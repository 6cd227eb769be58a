"""Delivery channels: where a notification goes besides the in-app inbox (which always has it).

A channel says which addresses a user has for a notification (``addresses``), sends reserved
attempts (``send``), and forgets addresses its service declared dead (``forget``). The delivery
engine (``backend.notifications.delivery``) reserves one attempt row per notification, channel
and address before anything leaves, so no address ever gets a notification twice.

FCM (the mobile apps) is built in; higher layers add theirs through the ``delivery_channels``
hook (the WeChat mini-program's subscription messages: ``backend.wechat.channel``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from backend.core.hooks import Hook

if TYPE_CHECKING:
    from backend.notifications.models import DeliveryAttempt, Notification


@dataclass(frozen=True)
class Address:
    """One place to send to: ``key`` is unique per address and channel (the attempt's token hash)."""

    key: str
    device_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    """What became of one message: ``sent``, ``unregistered`` (dead address), ``invalid``,
    ``refused`` (the user withdrew consent) or ``transient`` (worth another try)."""

    outcome: str
    message_id: str = ""
    error_code: str = ""
    retry_after: float | None = None


class Channel(Protocol):
    name: str

    def configured(self) -> bool: ...

    def batch_size(self) -> int: ...

    def addresses(self, notifications: list[Notification]) -> dict[int, list[Address]]: ...

    def send(self, attempts: list[DeliveryAttempt], by_id: dict[int, Notification]) -> list[SendResult]: ...

    def forget(self, attempts: list[DeliveryAttempt]) -> int: ...


#: ``() -> Channel``: channels of higher layers.
delivery_channels: Hook[Callable[[], Channel]] = Hook("notifications.delivery_channels")


def all_channels() -> list[Channel]:
    from backend.notifications.fcm import FcmChannel

    return [FcmChannel(), *(make() for make in delivery_channels)]


def configured_channels() -> list[Channel]:
    return [channel for channel in all_channels() if channel.configured()]
