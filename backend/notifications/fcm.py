"""Firebase Cloud Messaging through firebase-admin: the one place the messaging app is set up.

Credentials come from ``settings.FIREBASE_CREDENTIALS`` (a service-account JSON file) and the
project from ``settings.FIREBASE_PROJECT_ID``. Tests point the SDK at a local stand-in server by
writing a service account whose ``token_uri`` is the stand-in's and setting
``messaging._MessagingService.FCM_URL`` before the first send; the app cache is keyed by all
three, so a changed setting gets a fresh app.

Addresses: firebase-admin 7 deprecates ``Message(token=...)`` in favour of ``Message(fid=...)``
(Firebase installation IDs). Devices say which kind of address they registered; registration
tokens (what today's client SDKs hand out) still go out as ``token`` with the deprecation
warning silenced here, installation IDs as ``fid``.
"""

from __future__ import annotations

import threading
import warnings
from datetime import timedelta

import firebase_admin
from django.conf import settings
from firebase_admin import credentials, exceptions, messaging

from backend.notifications import conf
from backend.notifications.channels import Address, SendResult
from backend.notifications.models import DeliveryAttempt, Device, Notification

_lock = threading.Lock()
_apps: dict[tuple[str, str, str, int], firebase_admin.App] = {}

# High priority wakes the phone: used for what people must act on.
_HIGH_PRIORITY_CATEGORIES = {"decision", "assignment"}


def messaging_app() -> firebase_admin.App:
    """The firebase-admin app used for messaging (created once per configuration)."""
    key = (
        settings.FIREBASE_PROJECT_ID,
        settings.FIREBASE_CREDENTIALS,
        messaging._MessagingService.FCM_URL,
        conf.http_timeout(),
    )
    with _lock:
        app = _apps.get(key)
        if app is None:
            cred = credentials.Certificate(settings.FIREBASE_CREDENTIALS)
            app = firebase_admin.initialize_app(
                cred,
                options={"projectId": settings.FIREBASE_PROJECT_ID, "httpTimeout": conf.http_timeout()},
                name=f"linli-messaging-{len(_apps)}",
            )
            _apps[key] = app
        return app


def build_message(notification: Notification, device: Device) -> messaging.Message:
    data = {key: str(value) for key, value in (notification.data or {}).items() if value is not None}
    data["notification_id"] = str(notification.pk)
    data.setdefault("kind", notification.kind)
    high = notification.urgent or notification.category in _HIGH_PRIORITY_CATEGORIES
    kwargs = {
        "notification": messaging.Notification(title=notification.title, body=notification.body),
        "data": data,
        "android": messaging.AndroidConfig(
            priority="high" if high else "normal",
            ttl=timedelta(days=1),
        ),
        "apns": messaging.APNSConfig(
            headers={"apns-priority": "10" if high else "5"},
            payload=messaging.APNSPayload(aps=messaging.Aps(sound="default", thread_id=notification.kind)),
        ),
    }
    if device.token_type == Device.TokenType.FID:
        return messaging.Message(fid=device.token, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(token=device.token, **kwargs)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def classify(exc: BaseException) -> SendResult:
    """Per-token error → outcome. Unregistered, malformed and foreign-project addresses are dead;
    everything else (quota, 500, unavailable, timeouts, auth hiccups) is worth another try."""
    code = getattr(exc, "code", "") or type(exc).__name__
    if isinstance(exc, messaging.UnregisteredError):
        return SendResult("unregistered", error_code="UNREGISTERED")
    if isinstance(exc, messaging.SenderIdMismatchError):
        return SendResult("invalid", error_code="SENDER_ID_MISMATCH")
    if isinstance(exc, exceptions.InvalidArgumentError):
        return SendResult("invalid", error_code=str(code))
    if isinstance(exc, messaging.QuotaExceededError):
        return SendResult("transient", error_code="QUOTA_EXCEEDED", retry_after=_retry_after(exc))
    return SendResult("transient", error_code=str(code)[:40], retry_after=_retry_after(exc))


def send_batch(messages: list[messaging.Message]) -> list[SendResult]:
    """Send up to 500 messages with ``send_each``; one result per message, in order."""
    if not messages:
        return []
    if len(messages) > 500:
        raise ValueError("FCM takes at most 500 messages per send_each call.")
    try:
        response = messaging.send_each(messages, app=messaging_app())
    except (exceptions.FirebaseError, OSError, ValueError) as exc:
        failed = (
            classify(exc)
            if isinstance(exc, exceptions.FirebaseError)
            else SendResult("transient", error_code=type(exc).__name__[:40])
        )
        if failed.outcome != "transient":
            failed = SendResult("transient", error_code=failed.error_code)
        return [failed] * len(messages)
    results = []
    for item in response.responses:
        if item.success:
            results.append(SendResult("sent", message_id=item.message_id or ""))
        else:
            results.append(classify(item.exception))
    return results


class FcmChannel:
    """The mobile apps' devices, through FCM."""

    name = "fcm"

    def configured(self) -> bool:
        return bool(getattr(settings, "FIREBASE_CREDENTIALS", ""))

    def batch_size(self) -> int:
        return conf.batch_size()

    def addresses(self, notifications: list[Notification]) -> dict[int, list[Address]]:
        user_ids = {n.user_id for n in notifications}
        # Phones whose sign-in session has ended get nothing more (and are forgotten).
        Device.objects.filter(user_id__in=user_ids, session__revoked_at__isnull=False).delete()
        by_user: dict[int, list[Address]] = {}
        for device in Device.objects.filter(user_id__in=user_ids).order_by("pk"):
            by_user.setdefault(device.user_id, []).append(Address(key=device.token_hash, device_id=device.pk))
        return {n.pk: by_user.get(n.user_id, []) for n in notifications}

    def send(self, attempts: list[DeliveryAttempt], by_id: dict[int, Notification]) -> list[SendResult]:
        return send_batch([build_message(by_id[a.notification_id], a.device) for a in attempts])  # type: ignore[arg-type]

    def forget(self, attempts: list[DeliveryAttempt]) -> int:
        dead = {a.device_id for a in attempts if a.outcome in ("unregistered", "invalid") and a.device_id}
        return Device.objects.filter(pk__in=dead).delete()[0] if dead else 0
