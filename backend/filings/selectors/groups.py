"""Reads of filed groups: the public directory, the representative's groups, one group's detail.

What the public may see of a group's people is decided here: the representative's and founders'
names leave masked (张*三).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_scope_ids
from backend.core.masking import mask_name
from backend.core.pagination import keyset_page
from backend.core.textsearch import matching_q
from backend.filings.models import AnnualReport, CreditListing, Filing, FilingPerson, Group, GroupSearchToken
from backend.filings.selectors._common import OPEN_STATUSES, prepared
from backend.filings.selectors.credit_lists import group_listings


def groups_shown() -> QuerySet[Group]:
    """Groups with their community and whether they stand on the abnormal or serious list now."""
    open_listing = CreditListing.objects.filter(group=OuterRef("pk"), removed_on__isnull=True)
    return Group.objects.select_related("community").annotate(
        on_abnormal_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.ABNORMAL)),
        on_serious_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.SERIOUS)),
    )


def _public(groups: list[Group]) -> list[Group]:
    for group in groups:
        prepared(group, rep_name_masked=mask_name(group.rep_name))
    return groups


def group_directory(
    *,
    q: str = "",
    division: str = "",
    category: str = "",
    cursor: str | None = None,
    limit: int = 20,
) -> tuple[list[Group], str | None]:
    """The public directory: one page of filed groups, people's names masked."""
    qs = groups_shown()
    # Substring of the name or filing number, Chinese from one character: the token table's
    # index picks the candidates, LIKE confirms them (backend.core.textsearch).
    found = matching_q(q, token_model=GroupSearchToken, fields=("name", "filing_number"))
    if found is not None:
        qs = qs.filter(found)
    if division:
        qs = qs.filter(community__code__startswith=division)
    if category:
        qs = qs.filter(category=category)
    items, next_cursor = keyset_page(qs, cursor=cursor, limit=limit)
    return _public(items), next_cursor


def group_list_for_rep(*, user: User) -> list[Group]:
    """Groups ``user`` represents: filed by them, or held through a group_rep grant."""
    scoped = [int(x) for x in user_scope_ids(user, Role.GROUP_REP, ScopeType.GROUP) if x.isdigit()]
    return _public(list(groups_shown().filter(Q(rep=user) | Q(pk__in=scoped)).order_by("-id")))


def group_get(*, group_id: int) -> Group | None:
    return groups_shown().select_related("current_filing").filter(pk=group_id).first()


def group_open_filing(group: Group) -> Filing | None:
    return group.filings.filter(status__in=OPEN_STATUSES).order_by("-id").first()


def group_founders(group: Group) -> list[FilingPerson]:
    if group.current_filing_id is None:
        return []
    return [
        p
        for p in FilingPerson.objects.filter(filing_id=group.current_filing_id, superseded_at__isnull=True)
        if p.role == FilingPerson.Role.FOUNDER
    ]


def group_annual_reports(group: Group) -> list[AnnualReport]:
    """The group's annual reports, latest year first."""
    return list(group.annual_reports.order_by("-year"))


def group_detail(group: Group) -> Group:
    """``group`` (from :func:`group_get`) prepared for its public page: masked names of the
    representative and founders, the years reported on, and its credit ``listings``."""
    _public([group])
    prepared(
        group,
        founders_masked=[mask_name(p.name) for p in group_founders(group)],
        annual_report_years=sorted(group.annual_reports.values_list("year", flat=True)),
        listings=group_listings(group),
    )
    return group
