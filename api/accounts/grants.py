"""Roles managed in the open: who holds which role over which scope, granted and revoked by
platform admins (every role) and coordinators (scanners and coordinators of their
organisation's events)."""

from __future__ import annotations

from ninja import Query, Router, Status
from pydantic import Field

from api.accounts.schemas import RoleGrantIn, RoleGrantOut, RoleGrantPage
from api.auth import AuthedRequest
from api.schemas import ERRORS, OkOut, Schema
from backend.accounts import selectors, services
from backend.accounts.permissions import grant_access, grants_access
from backend.core.pagination import keyset_page

router = Router(tags=["grants"])


class GrantFilters(Schema):
    user_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    role: str | None = Field(default=None, max_length=30)
    scope_type: str | None = Field(default=None, max_length=20)
    scope_id: str | None = Field(default=None, max_length=40)
    cursor: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=50, ge=1, le=200)


@router.get("/grants", response={200: RoleGrantPage, **ERRORS})
def grant_list(request: AuthedRequest, filters: Query[GrantFilters]):
    """The grants the caller manages (all for platform admins), newest first: role, scope, who
    granted it, when, and until when (``null``: until revoked)."""
    qs = selectors.grant_list_filter(
        grants_access(user=request.auth),
        user_id=filters.user_id,
        role=filters.role,
        scope_type=filters.scope_type,
        scope_id=filters.scope_id,
    )
    rows, next_cursor = keyset_page(qs, cursor=filters.cursor, limit=filters.limit, max_limit=200)
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/grants", response={200: RoleGrantOut, 201: RoleGrantOut, **ERRORS})
def grant_create(request: AuthedRequest, payload: RoleGrantIn):
    """Grant a role (201). Granting a role the person already holds over that scope sets its new
    end and answers 200. Audited; the person's next request has the role."""
    user = selectors.grantee_get(user_id=payload.user_id, phone=payload.phone)
    grant, created = services.grant_create(
        by=request.auth,
        user=user,
        role=payload.role,
        scope_type=payload.scope_type,
        scope_id=payload.scope_id,
        valid_until=payload.valid_until,
    )
    return Status(201 if created else 200, grant)


@router.delete("/grants/{grant_id}", response={200: OkOut, **ERRORS})
def grant_revoke(request: AuthedRequest, grant_id: int):
    """Revoke a grant at once: the person's next request, and their open sockets, are refused
    what the role allowed. Audited. The last platform admin cannot be revoked (409)."""
    grant = grant_access(user=request.auth, grant_id=grant_id)
    services.grant_withdraw(grant=grant, by=request.auth)
    return {"ok": True}
