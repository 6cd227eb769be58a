from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction

from backend.notifications.kinds import get_kind
from backend.notifications.models import Notification


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


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
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user_id=getattr(user, "pk", user),
                kind=kind,
                category=spec.category,
                title=spec.title.format_map(values)[:120],
                body=spec.body.format_map(values),
                data=data,
                urgent=urgent,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None
    from backend.notifications import delivery

    delivery.schedule(notification)
    return notification
