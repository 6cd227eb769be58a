"""The append-only audit log: services call ``audit_record`` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from backend.core.context import current_meta
from backend.core.db import PreparedInsert
from backend.core.models import AuditLog

_insert = PreparedInsert(AuditLog)
"""Every service writes its audit row inside its transaction, often while it holds a lock (the
sign-up's shift row): the INSERT is compiled once."""


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    """Write one audit row in the caller's transaction (nothing reads it back)."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    meta = current_meta()
    actor_id = (
        getattr(actor, "pk", None)
        if actor is not None and getattr(actor, "is_authenticated", False)
        else None
    )
    _insert.add(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=data or {},
        reason=reason,
        ip=meta.ip,
        user_agent=meta.user_agent[:300],
        request_id=meta.request_id,
    )
