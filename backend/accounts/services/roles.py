"""Roles: the primitives every domain uses to give and take a role over a scope."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from backend.accounts.models import ROLE_SCOPES, Grant, Role, User
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed
from backend.core.i18n import T
from backend.runtime.sockets import sockets_recheck_after_commit, user_group


def grant_role(
    *,
    user: User,
    role: str,
    scope_type: str = "",
    scope_id: str = "",
    by: User | None = None,
    valid_until: datetime | None = None,
) -> Grant:
    """Give ``user`` the ``role`` over a scope (idempotent: an existing grant is returned)."""
    if scope_type not in ROLE_SCOPES.get(role, set()):
        raise ValidationFailed(
            T("该角色不能使用此范围。", "This role cannot take that scope."),
            errors=[{"field": "scope_type", "code": "invalid_scope"}],
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                grant = Grant.objects.create(
                    user=user,
                    role=role,
                    scope_type=scope_type,
                    scope_id=str(scope_id),
                    granted_by=by,
                    valid_until=valid_until,
                )
        except IntegrityError:
            return Grant.objects.get(user=user, role=role, scope_type=scope_type, scope_id=str(scope_id))
        audit_record(
            actor=by,
            action="grant.created",
            target=grant,
            data={
                "user": user.pk,
                "role": role,
                "scope": scope_id,
                "valid_until": valid_until.isoformat() if valid_until else None,
            },
        )
        _sync_staff(user)
    return grant


# Roles whose holders work in the Django admin, each within its scope (backend.accounts.adminsite).
ADMIN_ROLES = frozenset({Role.REVIEWER, Role.COORDINATOR, Role.ASSOCIATION_ADMIN, Role.PLATFORM_ADMIN})


def _sync_staff(user: User) -> None:
    """``is_staff`` (the admin's door) follows the user's grants: set while they hold a role that
    works in the admin, cleared when the last one goes. Superusers keep theirs."""
    staff = user.is_superuser or Grant.objects.filter(user=user, role__in=ADMIN_ROLES).exists()
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def grant_revoke(*, grant: Grant, by: User | None = None) -> None:
    """Take a role away, audited. After commit the user's open sockets check their role again
    and those that depended on this one close with 4403 (``backend.runtime.sockets``)."""
    with transaction.atomic():
        audit_record(
            actor=by,
            action="grant.revoked",
            target=grant,
            data={
                "user": grant.user_id,
                "role": grant.role,
                "scope_type": grant.scope_type,
                "scope": grant.scope_id,
            },
        )
        grant.delete()
        _sync_staff(grant.user)
        sockets_recheck_after_commit(user_group(grant.user_id))
