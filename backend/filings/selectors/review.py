"""Reads of the reviewers' side: whose filings a reviewer sees, the queue, who decides a division."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from backend.accounts.models import Grant, Role, ScopeType, User
from backend.accounts.selectors import user_is_platform_admin, user_scope_ids
from backend.core.pagination import keyset_page
from backend.divisions.selectors import division_ancestor_codes
from backend.filings.models import Filing
from backend.filings.selectors._common import clock_flags, overdue_q, today_local


def reviewer_scope_q(user: User, column: str = "reviewing_division_code") -> Q | None:
    """Rows a reviewer may see: ``None`` means everything (platform admin), an empty Q none."""
    if user_is_platform_admin(user):
        return None
    scopes = user_scope_ids(user, Role.REVIEWER, ScopeType.DIVISION)
    q = Q(pk__in=[])
    for scope in scopes:
        q |= Q(**{f"{column}__startswith": scope})
    return q


def filing_review_queryset(*, user: User) -> QuerySet[Filing]:
    qs = Filing.objects.exclude(status=Filing.Status.DRAFT).exclude(reviewing_division_code="")
    scope = reviewer_scope_q(user)
    return qs if scope is None else qs.filter(scope)


def filing_review_list(
    *,
    user: User,
    status: str | None = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    limit: int = 20,
    today: date | None = None,
) -> tuple[list[Filing], str | None]:
    """The reviewer's queue, newest first; ``overdue`` narrows it to filings past (or within)
    their time limit. Rows carry the clock's flags."""
    today = today or today_local()
    qs = (
        filing_review_queryset(user=user)
        .select_related("community", "group", "rep")
        .annotate(**clock_flags(today))
    )
    if status:
        qs = qs.filter(status=status)
    if overdue is True:
        qs = qs.filter(overdue_q(today))
    elif overdue is False:
        qs = qs.exclude(overdue_q(today))
    return keyset_page(qs, cursor=cursor, limit=limit)


def reviewers_for(division_code: str) -> list[User]:
    """Reviewers who may decide filings of ``division_code`` (its own and every division above)."""
    codes = division_ancestor_codes(division_code)
    ids = (
        Grant.objects.filter(role=Role.REVIEWER, scope_type=ScopeType.DIVISION, scope_id__in=codes)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=ids, is_active=True))
