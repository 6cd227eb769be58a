"""Periodic work of the filings domain. Every job is idempotent: a second run on the same day
changes nothing (state conditions and dedupe keys), so the scheduler may retry freely.

Run by hand: ``manage.py sweep_credit_lists [--date YYYY-MM-DD]`` (both jobs), or through the
scheduler (``JOBS``).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from backend.filings import calendar, conf, services
from backend.filings.calendar import add_months, add_years
from backend.filings.errors import ListingAlreadyRemoved
from backend.filings.models import AnnualReport, CreditListing, Filing, Group
from backend.filings.selectors import (
    CLOCK_RUNNING,
    EffectivePolicy,
    filing_policy_effective,
    reviewers_for,
    today_local,
)
from backend.notifications.scheduler import Job

L = CreditListing.ListKind
AUTO_REMOVAL_BASIS = conf.CREDIT_BASIS


def _missing_report_listings(today: date) -> int:
    groups = list(
        Group.objects.filter(
            status__in=(Group.Status.ACTIVE, Group.Status.EXPIRED), filed_on__year__lt=today.year
        )
    )
    if not groups:
        return 0
    reports = set(AnnualReport.objects.filter(group__in=groups).values_list("group_id", "year"))
    used_keys = set(
        CreditListing.objects.filter(dedupe_key__startswith="abnormal:annual_report:").values_list(
            "dedupe_key", flat=True
        )
    )
    policies: dict[str, EffectivePolicy] = {}
    listed = 0
    for group in groups:
        policy = policies.get(group.community_id)
        if policy is None:
            policy = policies[group.community_id] = filing_policy_effective(division_code=group.community_id)
        for year in range(group.filed_on.year, today.year):
            key = f"abnormal:annual_report:{group.pk}:{year}"
            if (
                (group.pk, year) in reports
                or key in used_keys
                or today <= policy.annual_report_deadline(year)
            ):
                continue
            listing = services.credit_listing_create(
                group=group,
                actor=None,
                list_kind=L.ABNORMAL,
                reason_code=CreditListing.Reason.ANNUAL_REPORT_MISSING,
                reason=f"未按规定报送{year}年度工作报告（截止{policy.annual_report_deadline(year).isoformat()}）",
                basis=conf.CREDIT_BASIS,
                fix_required=True,
                related_year=year,
                dedupe_key=key,
                today=today,
            )
            listed += listing is not None
    return listed


def _remove(listings, *, reason: str, today: date) -> int:
    removed = 0
    for listing in listings:
        try:
            services.credit_listing_remove(
                listing=listing, actor=None, reason=reason, basis=AUTO_REMOVAL_BASIS, today=today
            )
        except ListingAlreadyRemoved:
            continue
        removed += 1
    return removed


def _escalate(today: date) -> int:
    """Two years on the abnormal list with the duty unmet: the serious list."""
    cutoff = add_years(today, -conf.serious_after_years())
    listed = 0
    for abnormal in CreditListing.objects.select_related("group").filter(
        list_kind=L.ABNORMAL,
        removed_on__isnull=True,
        fix_required=True,
        fixed_on__isnull=True,
        listed_on__lte=cutoff,
    ):
        with transaction.atomic():
            try:
                services.credit_listing_remove(
                    listing=abnormal,
                    actor=None,
                    reason="列入活动异常名录满2年仍未履行相关义务，转入严重违法失信名单",
                    basis=AUTO_REMOVAL_BASIS,
                    today=today,
                )
            except ListingAlreadyRemoved:
                continue
            serious = services.credit_listing_create(
                group=abnormal.group,
                actor=None,
                list_kind=L.SERIOUS,
                reason_code=CreditListing.Reason.ABNORMAL_TWO_YEARS,
                reason=f"列入活动异常名录满2年（{abnormal.listed_on.isoformat()}起）：{abnormal.reason}",
                basis=conf.CREDIT_BASIS,
                fix_required=False,
                related_year=abnormal.related_year,
                source_listing=abnormal,
                dedupe_key=f"serious:from:{abnormal.pk}",
                today=today,
            )
            listed += serious is not None
    return listed


def _clean_serious(today: date):
    cutoff = add_years(today, -conf.serious_clean_years())
    for serious in CreditListing.objects.select_related("group").filter(
        list_kind=L.SERIOUS, removed_on__isnull=True, listed_on__lte=cutoff
    ):
        newer = CreditListing.objects.filter(group=serious.group, listed_on__gt=serious.listed_on).exclude(
            pk=serious.pk
        )
        if not newer.exists():
            yield serious


def credit_list_sweep(*, today: date | None = None) -> dict[str, int]:
    """Apply the time rules of the credit lists (民政部令60号) and of filing validity."""
    today = today or today_local()
    result = {"abnormal_listed": 0, "serious_listed": 0, "removed": 0, "expired": 0, "renewal_reminders": 0}
    result["abnormal_listed"] = _missing_report_listings(today)
    open_listings = CreditListing.objects.select_related("group").filter(removed_on__isnull=True)
    result["removed"] += _remove(
        open_listings.filter(removal_due__lte=today), reason="已履行相关义务，移出名录", today=today
    )
    result["removed"] += _remove(
        open_listings.filter(
            list_kind=L.ABNORMAL,
            fix_required=False,
            listed_on__lte=add_months(today, -conf.listing_auto_removal_months()),
        ),
        reason=f"列入活动异常名录满{conf.listing_auto_removal_months()}个月，自动移出",
        today=today,
    )
    result["serious_listed"] = _escalate(today)
    result["removed"] += _remove(
        list(_clean_serious(today)),
        reason=f"列入严重违法失信名单满{conf.serious_clean_years()}年且未再被列入，移出名单",
        today=today,
    )
    for group in Group.objects.filter(status=Group.Status.ACTIVE, valid_until__lt=today):
        result["expired"] += services.group_expire(group=group, today=today)
    for group in Group.objects.filter(status=Group.Status.ACTIVE, valid_until__gte=today):
        policy = filing_policy_effective(division_code=group.community_id)
        if (group.valid_until - today).days <= policy.renewal_window_days and not group.filings.filter(
            kind=Filing.Kind.RENEWAL,
            status__in=(*CLOCK_RUNNING, Filing.Status.SUBMITTED, Filing.Status.APPROVED),
            created_at__date__gte=add_years(group.valid_until, -1),
        ).exists():
            result["renewal_reminders"] += services.group_renewal_remind(group=group, today=today)
    return result


def filing_due_warnings(*, today: date | None = None) -> dict[str, int]:
    """Warn reviewers of filings due within a working day, and flag overdue ones (once each)."""
    today = today or today_local()
    soon = calendar.add_days(today, conf.due_soon_working_days(), working=True)
    reviewers: dict[str, list] = {}
    result = {"due_soon": 0, "overdue": 0}
    for filing in Filing.objects.filter(status__in=CLOCK_RUNNING, due_date__isnull=False, due_date__lte=soon):
        code = filing.reviewing_division_code
        if code not in reviewers:
            reviewers[code] = reviewers_for(code)
        sent = services.filing_due_notify(filing=filing, reviewers=reviewers[code], today=today)
        result["overdue" if filing.due_date and filing.due_date < today else "due_soon"] += sent
    return result


JOBS = [
    Job(
        name="filings.credit_list_sweep",
        every=timedelta(hours=6),
        func=credit_list_sweep,
        description="信用名单：未报年报列入异常名录、满2年转严重失信、到期移出；备案过期与延续提醒",
    ),
    Job(
        name="filings.due_warnings",
        every=timedelta(hours=1),
        func=filing_due_warnings,
        description="备案办理期限临近与超期提醒（审核员）",
    ),
]
