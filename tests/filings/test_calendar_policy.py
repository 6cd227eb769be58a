"""Working-day calendar (holidays and 调休) and per-division policy inheritance."""

from __future__ import annotations

from datetime import date

from backend.filings import calendar
from backend.filings.models import FilingPolicy, WorkCalendarDay
from backend.filings.selectors import filing_policy_effective
from tests.filings.conftest import COMMUNITY, STREET


def test_migration_seeds_holidays_and_make_up_workdays(db):
    assert WorkCalendarDay.objects.get(day=date(2026, 2, 14)).is_workday is True  # Saturday, 春节调休
    assert WorkCalendarDay.objects.get(day=date(2026, 10, 1)).is_workday is False
    assert WorkCalendarDay.objects.get(day=date(2025, 1, 26)).is_workday is True
    assert WorkCalendarDay.objects.filter(day__year=2027, is_workday=False).exists()


def test_working_days_skip_national_day_and_count_the_make_up_saturday(db):
    # Wed 30 Sep 2026: 1-7 October off, Sat 10 October is a workday.
    assert calendar.add_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert calendar.add_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert calendar.add_days(date(2026, 9, 30), 1, working=False) == date(2026, 10, 1)
    assert calendar.days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3  # 8, 9, 10


def test_a_holiday_added_by_staff_changes_deadlines(db):
    monday = date(2026, 11, 23)
    assert calendar.add_days(date(2026, 11, 20), 1) == monday
    WorkCalendarDay.objects.create(day=monday, is_workday=False, name="测试假日")
    assert calendar.add_days(date(2026, 11, 20), 1) == date(2026, 11, 24)


def test_policy_defaults_without_any_row(divisions):
    policy = filing_policy_effective(division_code=COMMUNITY)
    assert (policy.min_founders, policy.min_members, policy.review_days) == (2, 10, 7)
    assert policy.reviewing_division_code() == STREET


def test_policy_fields_inherit_down_the_tree_and_are_overridden_below(divisions):
    FilingPolicy.objects.create(
        division_id="440309", min_members=5, review_days=10, reviewing_level="district"
    )
    FilingPolicy.objects.create(division_id=STREET, review_days=5)
    policy = filing_policy_effective(division_code=COMMUNITY)
    assert policy.min_members == 5 and policy.sources["min_members"] == "440309"
    assert policy.review_days == 5 and policy.sources["review_days"] == STREET
    assert policy.min_founders == 2 and policy.sources["min_founders"] == ""
    assert policy.reviewing_division_code() == "440309"


def test_policy_endpoint_shows_the_policy_in_force(api, divisions):
    FilingPolicy.objects.create(division_id="440309", required_attachments=["charter"])
    body = api.get("/filings/policy", {"division": COMMUNITY}).json()
    assert body["required_attachments"] == ["charter"]
    assert body["reviewing_division_code"] == STREET
    assert api.get("/filings/policy", {"division": "abc"}).status_code == 422
