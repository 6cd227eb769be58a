"""Who may do what with filings, groups and credit listings."""

from __future__ import annotations

from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role, user_reviews_division
from backend.core.permissions import rule
from backend.filings.models import CreditListing, Filing, Group


@rule("filing.edit")
def filing_edit(user, filing: Filing) -> bool:
    """Only the representative who created the filing edits, submits or withdraws it."""
    return filing.rep_id == user.pk


@rule("filing.review")
def filing_review(user, filing: Filing) -> bool:
    """Reviewers of the reviewing division fixed at submission (street or district, by policy)."""
    return (
        filing.status != Filing.Status.DRAFT
        and bool(filing.reviewing_division_code)
        and user_reviews_division(user, filing.reviewing_division_code)
    )


@rule("filing.view")
def filing_view(user, filing: Filing) -> bool:
    return filing_edit(user, filing) or filing_review(user, filing)


@rule("org.manage")
def org_manage(user, group: Group) -> bool:
    """The group's representative: the user who filed it, or whoever holds its group_rep grant."""
    return group.rep_id == user.pk or user_has_role(
        user, Role.GROUP_REP, scope_type=ScopeType.GROUP, scope_id=group.pk
    )


@rule("org.review")
def org_review(user, group: Group) -> bool:
    return user_reviews_division(user, group.issuing_division_code)


@rule("listing.review")
def listing_review(user, listing: CreditListing) -> bool:
    return org_review(user, listing.group)
