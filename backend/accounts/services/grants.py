"""Roles managed in the open: grant, revoke and let lapse, for the grants API and the admin.

``grant_role`` and ``grant_revoke`` (``services/roles.py``) are the primitives every
domain uses; this module adds what a person granting through the API or the admin needs:
the permission check, that the scope exists, an end date, and that the last platform admin
stays. Every revocation goes through ``grant_revoke``, so whoever listens to it (open sockets
of the person) hears it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.accounts.errors import LastPlatformAdmin
from backend.accounts.models import ROLE_SCOPES, Grant, Role, User
from backend.accounts.permissions import GrantSpec, grant_spec_authorize
from backend.accounts.selectors import grant_in_force_q, grant_scope_known
from backend.accounts.services.roles import grant_revoke, grant_role
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T


def grant_create(
    *,
    by: User,
    user: User,
    role: str,
    scope_type: str = "",
    scope_id: str = "",
    valid_until: datetime | None = None,
) -> tuple[Grant, bool]:
    """Grant ``role`` over a scope to ``user`` on behalf of ``by``. Returns the grant and whether
    it is new; granting what the user already holds sets the new end date instead."""
    spec = grant_create_check(
        by=by, role=role, scope_type=scope_type, scope_id=scope_id, valid_until=valid_until
    )
    with transaction.atomic():
        existing = (
            Grant.objects.select_for_update()
            .filter(user=user, role=spec.role, scope_type=spec.scope_type, scope_id=spec.scope_id)
            .first()
        )
        if existing is None:
            grant = grant_role(
                user=user,
                role=spec.role,
                scope_type=spec.scope_type,
                scope_id=spec.scope_id,
                by=by,
                valid_until=valid_until,
            )
            return grant, True
        existing.valid_until = valid_until
        existing.save(update_fields=["valid_until"])
        audit_record(
            actor=by,
            action="grant.extended",
            target=existing,
            data={"valid_until": valid_until.isoformat() if valid_until else None},
        )
        return existing, False


def grant_create_check(
    *, by: User, role: str, scope_type: str, scope_id: str, valid_until: datetime | None
) -> GrantSpec:
    """What ``grant_create`` refuses, checked without writing (the admin's form asks first):
    the role and scope as given, ``by``'s right to grant them, and that the scope exists."""
    spec = GrantSpec(role=role, scope_type=scope_type or "", scope_id=str(scope_id or ""))
    _grant_spec_check(spec=spec, valid_until=valid_until)
    grant_spec_authorize(user=by, spec=spec)
    if not grant_scope_known(scope_type=spec.scope_type, scope_id=spec.scope_id):
        raise ValidationFailed(
            errors=[field_error("scope_id", "unknown_scope", T("找不到该范围。", "No such scope."))]
        )
    return spec


def _grant_spec_check(*, spec: GrantSpec, valid_until: datetime | None) -> None:
    errors = []
    if spec.role not in Role.values:
        errors.append(field_error("role", "invalid_choice", T("不是允许的角色。", "Not a known role.")))
    elif spec.scope_type not in ROLE_SCOPES[spec.role]:
        errors.append(
            field_error(
                "scope_type",
                "invalid_scope",
                T("该角色不能使用此范围。", "This role cannot take that scope."),
            )
        )
    elif spec.scope_type and not spec.scope_id:
        errors.append(field_error("scope_id", "required", T("请填写范围。", "A scope id is required.")))
    elif not spec.scope_type and spec.scope_id:
        errors.append(
            field_error("scope_id", "not_allowed", T("该角色没有范围。", "This role takes no scope."))
        )
    if valid_until is not None and valid_until <= timezone.now():
        errors.append(
            field_error(
                "valid_until", "in_the_past", T("结束时间须晚于现在。", "The end must be in the future.")
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)


def grant_withdraw(*, grant: Grant, by: User | None) -> None:
    """Revoke a grant (API, admin, expiry): at once, audited, through ``grant_revoke``.

    The last platform admin in force keeps the role, so someone can still manage roles."""
    with transaction.atomic():
        if grant.role == Role.PLATFORM_ADMIN:
            admins = (
                Grant.objects.select_for_update()
                .filter(role=Role.PLATFORM_ADMIN, user__is_active=True)
                .filter(grant_in_force_q())
            )
            if not admins.exclude(pk=grant.pk).exists():
                raise LastPlatformAdmin()
        grant_revoke(grant=grant, by=by)


def grants_expire(*, now: datetime | None = None) -> int:
    """Revoke every grant whose end has passed (the ``accounts.grants_expire`` job). The role
    already counted for nothing from its end; revoking ends what listens (open sockets)."""
    now = now or timezone.now()
    done = 0
    for grant in Grant.objects.filter(valid_until__lte=now).select_related("user").iterator():
        grant_revoke(grant=grant, by=None)
        done += 1
    return done
