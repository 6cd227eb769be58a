"""Writes of the notifications domain: the outbox (``notify``), devices, read marks, preferences."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.errors import field_error
from backend.core.i18n import T
from backend.notifications import conf, delivery
from backend.notifications.errors import InvalidDeviceToken, InvalidPreferences
from backend.notifications.kinds import get_kind
from backend.notifications.models import Device, InboxCount, Notification, Preference


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    """The template values as stored: JSON scalars as they are, anything else as its text."""
    return {
        str(key): value if value is None or isinstance(value, str | int | float | bool) else str(value)
        for key, value in params.items()
    }


def notify(
    *,
    user: Any,
    kind: str,
    params: dict[str, Any] | None = None,
    target: models.Model | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Write a notification for ``user`` inside the caller's transaction (the outbox).

    Call it from the service that caused it, in the same transaction, so a rollback takes the
    notification with it. Returns ``None`` when ``dedupe_key`` was already used for this user.
    Push to the user's devices follows after commit (preferences and quiet hours permitting).
    """
    spec = get_kind(kind)
    values = _SafeDict(params or {})
    object_type = target._meta.label_lower if target is not None else ""
    object_id = str(target.pk) if target is not None else ""
    values.setdefault("object_id", object_id)
    data = {
        "kind": kind,
        "object_type": object_type,
        "object_id": object_id,
        "link": spec.link.format_map(values) if spec.link else "",
    }
    user_id = getattr(user, "pk", user)
    push = delivery.plan(user_id=user_id, spec=spec, urgent=urgent)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user_id=user_id,
                kind=kind,
                category=spec.category,
                title=spec.title.format_map(values)[:120],
                body=spec.body.format_map(values),
                data=data,
                params=_json_params(params or {}),
                urgent=urgent,
                dedupe_key=dedupe_key,
                push_state=push.state,
                push_after=push.push_after,
                push_note=push.note,
            )
            unread_add(user_id=user_id, delta=1)
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None
    delivery.schedule(notification)
    return notification


# --- devices -----------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[A-Za-z0-9_:\-.]{8,4096}")


def device_register(
    *,
    user: Any,
    token: str,
    platform: str,
    token_type: str = Device.TokenType.REGISTRATION,
    session: Any = None,
) -> Device:
    """Register (or refresh) this phone's push address for ``user``. Idempotent; an address that
    belonged to someone else moves to ``user`` (they signed in on that phone)."""
    token = (token or "").strip()
    if not _TOKEN_RE.fullmatch(token):
        raise InvalidDeviceToken(
            errors=[field_error("token", "invalid_device_token", InvalidDeviceToken.message)]
        )
    if platform not in Device.Platform.values:
        raise InvalidDeviceToken(
            T("不支持的平台。", "Unsupported platform."),
            errors=[
                field_error("platform", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
            ],
        )
    if token_type not in Device.TokenType.values:
        raise InvalidDeviceToken(
            T("不支持的推送地址类型。", "Unsupported token type."),
            errors=[
                field_error("token_type", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
            ],
        )
    digest = delivery.token_hash(token)
    now = timezone.now()
    session_id = getattr(session, "pk", session)
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(token_hash=digest).first()
        if device is None:
            try:
                with transaction.atomic():
                    device = Device.objects.create(
                        user_id=user.pk,
                        token=token,
                        token_hash=digest,
                        token_type=token_type,
                        platform=platform,
                        session_id=session_id,
                        last_seen_at=now,
                    )
            except IntegrityError:
                device = Device.objects.select_for_update().get(token_hash=digest)
            else:
                audit_record(
                    actor=user, action="device.registered", target=device, data={"platform": platform}
                )
                _trim_devices(user_id=user.pk)
                return device
        previous_user = device.user_id
        device.user_id = user.pk
        device.platform = platform
        device.token_type = token_type
        device.session_id = session_id
        device.last_seen_at = now
        device.save(update_fields=["user", "platform", "token_type", "session", "last_seen_at"])
        if previous_user != user.pk:
            audit_record(
                actor=user,
                action="device.moved",
                target=device,
                data={"from_user": previous_user, "to_user": user.pk, "platform": platform},
            )
            _trim_devices(user_id=user.pk)
    return device


def _trim_devices(*, user_id: int) -> None:
    keep = conf.max_devices_per_user()
    stale = list(
        Device.objects.filter(user_id=user_id)
        .order_by("-last_seen_at", "-pk")
        .values_list("pk", flat=True)[keep:]
    )
    if stale:
        Device.objects.filter(pk__in=stale).delete()


def device_unregister(*, user: Any, token: str) -> bool:
    """Forget this phone's address (logout). Idempotent; someone else's address is left alone."""
    digest = delivery.token_hash((token or "").strip())
    with transaction.atomic():
        device = Device.objects.filter(token_hash=digest, user_id=user.pk).first()
        if device is None:
            return False
        audit_record(
            actor=user, action="device.unregistered", target=device, data={"platform": device.platform}
        )
        device.delete()
    return True


# --- inbox -------------------------------------------------------------------------------------


def unread_add(*, user_id: int, delta: int) -> None:
    """Move ``user_id``'s kept unread count by ``delta``, inside the caller's transaction (the one
    that wrote or read the notifications). The row is created by the first notification."""
    if not delta:
        return
    if InboxCount.objects.filter(user_id=user_id).update(unread=F("unread") + delta):
        return
    if delta < 0:  # no row yet: nothing was counted, so nothing to take off
        return
    try:
        with transaction.atomic():
            InboxCount.objects.create(user_id=user_id, unread=delta)
    except IntegrityError:  # another transaction created it first
        InboxCount.objects.filter(user_id=user_id).update(unread=F("unread") + delta)


def notification_mark_read(*, user: Any, notification: Notification) -> Notification:
    if notification.read_at is None:
        now = timezone.now()
        with transaction.atomic():
            changed = Notification.objects.filter(
                pk=notification.pk, user_id=user.pk, read_at__isnull=True
            ).update(read_at=now)
            unread_add(user_id=user.pk, delta=-changed)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed."""
    with transaction.atomic():
        changed = Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        unread_add(user_id=user.pk, delta=-changed)
    return changed


# --- preferences -------------------------------------------------------------------------------


def preferences_update(
    *, user: Any, quiet_hours: bool | None = None, kinds: dict[str, bool] | None = None
) -> Preference:
    """Change push preferences. Decision and assignment kinds cannot be muted; unknown kinds are
    refused. The inbox keeps every notification whatever the preferences."""
    errors = []
    for name, on in (kinds or {}).items():
        try:
            spec = get_kind(name)
        except KeyError:
            errors.append(
                field_error(
                    f"kinds.{name}", "unknown_kind", T("没有这种通知。", "Unknown notification kind.")
                )
            )
            continue
        if spec.category in delivery.ALWAYS_ON and not on:
            errors.append(
                field_error(
                    f"kinds.{name}",
                    "always_on",
                    T("审批结果和任务指派通知不能关闭。", "Decisions and assignments cannot be turned off."),
                )
            )
    if errors:
        raise InvalidPreferences(errors=errors)
    with transaction.atomic():
        pref, _ = Preference.objects.select_for_update().get_or_create(user_id=user.pk)
        before = {"quiet_hours": pref.quiet_hours, "muted_kinds": sorted(pref.muted_kinds or [])}
        muted = set(pref.muted_kinds or [])
        for name, on in (kinds or {}).items():
            if on:
                muted.discard(name)
            else:
                muted.add(name)
        pref.muted_kinds = sorted(muted)
        if quiet_hours is not None:
            pref.quiet_hours = quiet_hours
        pref.save()
        after = {"quiet_hours": pref.quiet_hours, "muted_kinds": pref.muted_kinds}
        if after != before:
            audit_record(
                actor=user,
                action="notification.preferences_updated",
                target=pref,
                data={"before": before, "after": after},
            )
    return pref
