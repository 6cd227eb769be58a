"""Annual reports of filed groups. A report that was missing (and had put the group on the
abnormal list) starts the listing's removal: within 5 working days (民政部令60号)."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings import calendar, conf
from backend.filings.errors import AnnualReportExists, OrgNotActive
from backend.filings.models import AnnualReport, CreditListing, Group
from backend.filings.selectors import today_local
from backend.filings.services._common import iso
from backend.wechat.services.security import Scene, text_check


def _check_report(*, group: Group, year: int, summary: str, today: date) -> None:
    if group.status not in (Group.Status.ACTIVE, Group.Status.EXPIRED):
        raise OrgNotActive(status=group.status)
    if not group.filed_on.year <= year <= today.year - 1:
        raise ValidationFailed(
            errors=[
                field_error(
                    "year",
                    "invalid_year",
                    T(
                        "只能报送备案后已结束年度的报告。",
                        "Report on a finished year since the group was filed.",
                    ),
                )
            ]
        )
    if not summary.strip():
        raise ValidationFailed(
            errors=[field_error("summary", "required", T("此项必填。", "This field is required."))]
        )


def _fix_missing_report_listings(*, group: Group, year: int, actor: User, today: date) -> None:
    """The duty is met: open abnormal listings for this year's missing report are due for removal."""
    due = calendar.add_days(today, conf.listing_fix_removal_working_days(), working=True)
    for listing in CreditListing.objects.filter(
        group=group,
        list_kind=CreditListing.ListKind.ABNORMAL,
        reason_code=CreditListing.Reason.ANNUAL_REPORT_MISSING,
        related_year=year,
        removed_on__isnull=True,
        fixed_on__isnull=True,
    ):
        CreditListing.objects.filter(pk=listing.pk, fixed_on__isnull=True).update(
            fixed_on=today, removal_due=due
        )
        audit_record(
            actor=actor,
            action="credit_listing.fixed",
            target=listing,
            data={"group": group.pk, "removal_due": iso(due)},
        )


def annual_report_submit(
    *,
    group: Group,
    actor: User,
    year: int,
    member_count: int,
    activities_held: int,
    summary: str,
    today: date | None = None,
) -> AnnualReport:
    """The report for a finished year. A report that was missing starts the listing's removal."""
    today = today or today_local()
    _check_report(group=group, year=year, summary=summary, today=today)
    checked = text_check(author=actor, texts={"summary": summary}, scene=Scene.FORUM)
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = AnnualReport.objects.create(
                    group=group,
                    year=year,
                    member_count=member_count,
                    activities_held=activities_held,
                    summary=summary.strip(),
                    submitted_by=actor,
                )
        except IntegrityError:
            raise AnnualReportExists(year=year) from None
        checked.attach(report)
        audit_record(actor=actor, action="group.annual_report_submitted", target=group, data={"year": year})
        _fix_missing_report_listings(group=group, year=year, actor=actor, today=today)
    return report
