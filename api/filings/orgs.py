"""Filed groups: the public directory and pages, the representative's groups, and the group's
life after approval (change, renewal and deregistration filings; revocation by the reviewer)."""

from __future__ import annotations

from ninja import Query, Router, Status

from api.filings._common import choice, filing_fresh, public_throttle
from api.filings.schemas import (
    FilingOrgDetailOut,
    FilingOrgOut,
    FilingOrgPage,
    FilingOrgRevokeIn,
    FilingOut,
    GroupFilingIn,
)
from api.schemas import ERRORS, cursor_param
from api.wechat.content import CONTENT_CHECKED
from backend.core.errors import NotFound
from backend.filings import selectors, services
from backend.filings.models import Category, Group
from backend.filings.permissions import Action, group_access

router = Router()


@router.get(
    "/orgs",
    response={200: FilingOrgPage, **ERRORS},
    auth=None,
    throttle=[public_throttle()],
)
def org_directory(
    request,
    q: str = "",
    division: str = "",
    category: str = "",
    cursor: str | None = cursor_param(),
    limit: int = Query(20, ge=1, le=100),
):
    """The public directory of filed groups; names of people are masked."""
    items, next_cursor = selectors.group_directory(
        q=q.strip()[:50],
        division=division.strip()[:12],
        category=choice(category, field="category", allowed=Category.values),
        cursor=cursor,
        limit=limit,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/orgs/mine", response={200: list[FilingOrgOut], **ERRORS}, operation_id="api_filings_org_mine")
def org_mine(request):
    """Groups the signed-in user represents."""
    return selectors.group_list_for_rep(user=request.auth)


def _detail(group_id: int) -> Group:
    """The group as it is now, prepared for its public page."""
    group = selectors.group_get(group_id=group_id)
    if group is None:
        raise NotFound()
    return selectors.group_detail(group)


@router.get(
    "/orgs/{group_id}",
    response={200: FilingOrgDetailOut, **ERRORS},
    auth=None,
    throttle=[public_throttle()],
)
def org_detail(request, group_id: int):
    return _detail(group_id)


@router.post(
    "/orgs/{group_id}/filings",
    response={201: FilingOut, **ERRORS},
    openapi_extra=CONTENT_CHECKED,
)
def org_filing_create(request, group_id: int, payload: GroupFilingIn):
    """Start a change, renewal or deregistration (注销) filing; it goes through the same review."""
    group = group_access(user=request.auth, group_id=group_id, action=Action.ORG_MANAGE)
    filing = services.group_filing_create(
        group=group, actor=request.auth, kind=payload.kind, statement=payload.statement
    )
    return Status(201, selectors.filing_detail(filing_fresh(filing.pk)))


@router.post(
    "/review/orgs/{group_id}/revoke",
    response={200: FilingOrgDetailOut, **ERRORS},
)
def org_revoke(request, group_id: int, payload: FilingOrgRevokeIn):
    """撤销 a group's filing, with reasons."""
    group = group_access(user=request.auth, group_id=group_id, action=Action.ORG_REVIEW)
    services.group_revoke(group=group, actor=request.auth, reasons=[r.model_dump() for r in payload.reasons])
    return _detail(group_id)
