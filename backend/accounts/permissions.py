"""Who may do what with accounts and roles; platform admins pass every rule of every domain."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.http import HttpRequest

from backend.accounts.models import Grant
from backend.accounts.selectors import grants_managed_by, user_delegations, user_is_platform_admin
from backend.accounts.tokens import access_token_decode
from backend.core.errors import NotFound, PermissionDenied
from backend.core.middleware import request_owner
from backend.core.permissions import authorize, permission_bypass, rule


class Action(StrEnum):
    GRANT_ROLES = "accounts.grant_roles"
    GRANT_MANAGE = "accounts.grant_manage"


@dataclass(frozen=True)
class GrantSpec:
    """A role over a scope, as someone asks to grant it."""

    role: str
    scope_type: str
    scope_id: str


@rule(Action.GRANT_ROLES)
def grant_roles(user: Any, obj: Any) -> bool:
    return user_is_platform_admin(user)


@rule(Action.GRANT_MANAGE)
def grant_manage(user: Any, grant: Grant | GrantSpec) -> bool:
    """Platform admins grant and revoke every role (the bypass); others what a domain delegates
    to them (coordinators: scanners and coordinators of their organisation's events)."""
    return any(d.covers(grant.role, grant.scope_type, grant.scope_id) for d in user_delegations(user))


def grant_spec_authorize(*, user: Any, spec: GrantSpec) -> None:
    """403 unless ``user`` may hand out this role over this scope."""
    authorize(user, Action.GRANT_MANAGE, spec, hide=False)


def grants_access(*, user: Any) -> Any:
    """The grants ``user`` may list (a queryset), or 403 for someone who manages none."""
    qs = grants_managed_by(user)
    if qs is None:
        raise PermissionDenied()
    return qs


def grant_access(*, user: Any, grant_id: int) -> Grant:
    """A grant ``user`` may revoke, or 404: grants outside their reach do not exist for them."""
    grant = grants_access(user=user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    return grant


@permission_bypass.register
def platform_admin_passes(user: Any) -> bool:
    return user_is_platform_admin(user)


@request_owner.register
def bearer_owner(request: HttpRequest) -> str | None:
    """The idempotency records' owner: the user named by a valid bearer token."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        claims = access_token_decode(header[7:].strip())
        if claims is not None:
            return f"u{claims.user_id}"
    return None
