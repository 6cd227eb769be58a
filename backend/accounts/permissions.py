"""Who may do what with accounts and roles; platform admins pass every rule of every domain."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.http import HttpRequest

from backend.accounts.selectors import user_is_platform_admin
from backend.accounts.tokens import access_token_decode
from backend.core.middleware import request_owner
from backend.core.permissions import permission_bypass, rule


class Action(StrEnum):
    GRANT_ROLES = "accounts.grant_roles"


@rule(Action.GRANT_ROLES)
def grant_roles(user: Any, obj: Any) -> bool:
    return user_is_platform_admin(user)


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
