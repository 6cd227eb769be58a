"""Who may do what with filings, groups and credit listings, and the fetch-and-authorize helpers
the API and the admin use: one call gives "the filing this user may review", or the very error
the endpoint answered before (404 where the object must stay hidden, 403 where it is public)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.accounts.hooks import grant_scope_exists
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role, user_reviews_division
from backend.core.errors import NotFound
from backend.core.permissions import authorize, rule
from backend.filings import selectors
from backend.filings.models import CreditListing, Filing, FilingAttachment, Group


class Action(StrEnum):
    FILING_EDIT = "filing.edit"
    FILING_REVIEW = "filing.review"
    FILING_VIEW = "filing.view"
    ORG_MANAGE = "org.manage"
    ORG_REVIEW = "org.review"
    ORG_REPORTS_VIEW = "org.reports_view"
    LISTING_REVIEW = "listing.review"


@rule(Action.FILING_EDIT)
def filing_edit(user: Any, filing: Filing) -> bool:
    """Only the representative who created the filing edits, submits or withdraws it."""
    return filing.rep_id == user.pk


@rule(Action.FILING_REVIEW)
def filing_review(user: Any, filing: Filing) -> bool:
    """Reviewers of the reviewing division fixed at submission (street or district, by policy)."""
    return (
        filing.status != Filing.Status.DRAFT
        and bool(filing.reviewing_division_code)
        and user_reviews_division(user, filing.reviewing_division_code)
    )


@rule(Action.FILING_VIEW)
def filing_view(user: Any, filing: Filing) -> bool:
    return filing_edit(user, filing) or filing_review(user, filing)


@rule(Action.ORG_MANAGE)
def org_manage(user: Any, group: Group) -> bool:
    """The group's representative: the user who filed it, or whoever holds its group_rep grant."""
    return group.rep_id == user.pk or user_has_role(
        user, Role.GROUP_REP, scope_type=ScopeType.GROUP, scope_id=group.pk
    )


@rule(Action.ORG_REVIEW)
def org_review(user: Any, group: Group) -> bool:
    return user_reviews_division(user, group.issuing_division_code)


@rule(Action.ORG_REPORTS_VIEW)
def org_reports_view(user: Any, group: Group) -> bool:
    """Annual reports are read by the group's representative and by its issuing office."""
    return org_manage(user, group) or org_review(user, group)


@rule(Action.LISTING_REVIEW)
def listing_review(user: Any, listing: CreditListing) -> bool:
    return org_review(user, listing.group)


# --- fetch and authorize ------------------------------------------------------------------------


def filing_access(
    *, user: Any, filing_id: int, action: Action = Action.FILING_VIEW, hide: bool = True
) -> Filing:
    """The filing ``user`` may ``action``; 404 when it does not exist or (``hide``) may not be known."""
    filing = selectors.filing_get(filing_id=filing_id)
    if filing is None:
        raise NotFound()
    authorize(user, action, filing, hide=hide)
    return filing


def filing_attachment_access(*, user: Any, filing_id: int, attachment_id: int) -> FilingAttachment:
    """A stored file of a filing ``user`` may view (removed ones included: they stay on record)."""
    filing = filing_access(user=user, filing_id=filing_id, action=Action.FILING_VIEW)
    attachment = selectors.filing_attachment_get(filing=filing, attachment_id=attachment_id)
    if attachment is None:
        raise NotFound()
    return attachment


def group_access(
    *, user: Any, group_id: int, action: Action = Action.ORG_MANAGE, hide: bool = False
) -> Group:
    """The group ``user`` may ``action``. Filed groups are public, so a refusal is a 403."""
    group = selectors.group_get(group_id=group_id)
    if group is None:
        raise NotFound()
    authorize(user, action, group, hide=hide)
    return group


def listing_access(
    *, user: Any, listing_id: int, action: Action = Action.LISTING_REVIEW, hide: bool = False
) -> CreditListing:
    """The credit listing ``user`` may ``action`` (listings are public too: a refusal is a 403)."""
    listing = selectors.listing_get(listing_id=listing_id)
    if listing is None:
        raise NotFound()
    authorize(user, action, listing, hide=hide)
    return listing


@grant_scope_exists.register
def group_scope_exists(scope_type: str, scope_id: str) -> bool | None:
    """Group representatives' grants name a filed group by id."""
    if scope_type != ScopeType.GROUP:
        return None
    return scope_id.isdigit() and Group.objects.filter(pk=int(scope_id)).exists()
