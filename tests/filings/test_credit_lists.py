"""Credit lists as dated records: abnormal, serious after 2 years, removals; the sweep on frozen time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command

from backend.filings import jobs, services
from backend.filings.models import CreditListing, FilingPolicy
from backend.notifications.models import Notification
from tests.filings.factories import approved_group
from tests.helpers import assert_error

TZ = ZoneInfo("Asia/Shanghai")


def travel(y, m, d):
    return time_machine.travel(datetime(y, m, d, 9, tzinfo=TZ), tick=False)


def group_filed_on(rep, reviewer, day: date):
    with travel(day.year, day.month, day.day):
        return approved_group(rep, reviewer)


def test_no_listing_before_the_deadline(rep, reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    with travel(2027, 5, 31):
        assert jobs.credit_list_sweep()["abnormal_listed"] == 0
    with travel(2027, 6, 1):
        assert jobs.credit_list_sweep()["abnormal_listed"] == 1
    assert CreditListing.objects.get(group=group).related_year == 2026


def test_policy_sets_the_report_deadline(rep, reviewer):
    FilingPolicy.objects.create(division_id="440309", annual_report_due_month=3, annual_report_due_day=31)
    group_filed_on(rep, reviewer, date(2026, 3, 2))
    with travel(2027, 4, 1):
        assert jobs.credit_list_sweep()["abnormal_listed"] == 1


def test_two_years_abnormal_moves_to_the_serious_list(rep, reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    with travel(2027, 6, 1):
        jobs.credit_list_sweep()
    abnormal = CreditListing.objects.get(group=group, related_year=2026)
    with travel(2029, 5, 31):
        assert jobs.credit_list_sweep()["serious_listed"] == 0
    with travel(2029, 6, 1):
        result = jobs.credit_list_sweep()
        assert result["serious_listed"] == 1
        assert jobs.credit_list_sweep()["serious_listed"] == 0
    abnormal.refresh_from_db()
    assert abnormal.removed_on == date(2029, 6, 1) and "严重违法失信名单" in abnormal.removal_reason
    serious = CreditListing.objects.get(group=group, list_kind="serious")
    assert serious.source_listing_id == abnormal.pk and serious.listed_on == date(2029, 6, 1)
    assert Notification.objects.filter(user=rep, kind="org.serious_listed").count() == 1


def test_serious_listing_is_removed_after_two_clean_years(rep, reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    listing = services.credit_listing_create(
        group=group,
        actor=reviewer,
        list_kind="serious",
        reason_code="other",
        reason="弄虚作假骗取备案",
        basis="",
        fix_required=False,
        today=date(2026, 4, 1),
    )
    # Reports are filed every year, so nothing else lists the group.
    for year in (2026, 2027):
        services.annual_report_submit(
            group=group,
            actor=rep,
            year=year,
            member_count=10,
            activities_held=1,
            summary="ok",
            today=date(year + 1, 3, 1),
        )
    with travel(2028, 3, 31):
        jobs.credit_list_sweep()
        listing.refresh_from_db()
        assert listing.removed_on is None
    with travel(2028, 4, 1):
        jobs.credit_list_sweep()
        listing.refresh_from_db()
        assert listing.removed_on == date(2028, 4, 1)


def test_serious_listing_stays_while_newer_listings_exist(rep, reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    serious = services.credit_listing_create(
        group=group,
        actor=reviewer,
        list_kind="serious",
        reason_code="other",
        reason="x",
        basis="",
        fix_required=False,
        today=date(2026, 4, 1),
    )
    with travel(2028, 4, 1):
        jobs.credit_list_sweep()  # the missing 2026 and 2027 reports are newer listings
    serious.refresh_from_db()
    assert serious.removed_on is None


def test_listing_with_nothing_to_fix_is_removed_after_six_months(api, rep, reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    with travel(2026, 4, 15):
        r = api.as_user(reviewer).post(
            f"/review/orgs/{group.pk}/credit-listings",
            {"reason_code": "unreachable", "reason": "通过登记的住所无法取得联系", "fix_required": False},
        )
        assert r.status_code == 201, r.json()
        assert api.get(f"/orgs/{group.pk}").json()["on_abnormal_list"] is True
        assert Notification.objects.filter(user=rep, kind="org.abnormal_listed").count() == 1
    with travel(2026, 10, 14):
        assert jobs.credit_list_sweep()["removed"] == 0
    with travel(2026, 10, 15):
        assert jobs.credit_list_sweep()["removed"] == 1
        assert api.get(f"/orgs/{group.pk}").json()["on_abnormal_list"] is False


def test_reviewer_removes_a_listing_once(api, rep, reviewer, other_reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    listing = services.credit_listing_create(
        group=group,
        actor=reviewer,
        list_kind="abnormal",
        reason_code="unreachable",
        reason="无法联系",
        basis="",
    )
    assert_error(
        api.as_user(other_reviewer).post(f"/review/credit-listings/{listing.pk}/remove", {"reason": "x"}),
        403,
        "permission_denied",
    )
    r = api.as_user(reviewer).post(f"/review/credit-listings/{listing.pk}/remove", {"reason": "已恢复联系"})
    assert r.status_code == 200 and r.json()["removal_reason"] == "已恢复联系"
    assert_error(
        api.as_user(reviewer).post(f"/review/credit-listings/{listing.pk}/remove", {"reason": "again"}),
        409,
        "listing_already_removed",
    )
    assert CreditListing.objects.filter(pk=listing.pk).exists()  # dated, never deleted


def test_deregistered_groups_are_not_listed(rep, reviewer):
    group = group_filed_on(rep, reviewer, date(2026, 3, 2))
    group.status = "deregistered"
    group.save()
    with travel(2027, 6, 1):
        assert jobs.credit_list_sweep()["abnormal_listed"] == 0


def test_management_command_runs_the_sweep_for_a_date(rep, reviewer, capsys):
    group_filed_on(rep, reviewer, date(2026, 3, 2))
    call_command("sweep_credit_lists", "--date", "2027-06-01")
    assert "abnormal_listed=1" in capsys.readouterr().out
    call_command("sweep_credit_lists", "--date", "2027-06-01")
    assert "abnormal_listed=0" in capsys.readouterr().out


def test_scheduler_runs_the_sweep_by_name(rep, reviewer, capsys):
    group_filed_on(rep, reviewer, date(2026, 3, 2))
    call_command("run_job", "--list")
    listed = capsys.readouterr().out
    assert "filings.credit_list_sweep" in listed and "filings.due_warnings" in listed
    with travel(2027, 6, 1):
        call_command("run_job", "filings.credit_list_sweep")
    assert CreditListing.objects.filter(reason_code="annual_report_missing", related_year=2026).count() == 1
