"""名称预核准: forbidden words, duplicates in the jurisdiction, recently released names."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.filings.models import FormerName, RegisteredOrganisation
from backend.filings.selectors import name_key
from tests.filings.conftest import COMMUNITY, OTHER_COMMUNITY
from tests.filings.factories import bare_group


def codes(api, name, division=COMMUNITY) -> set[str]:
    r = api.get("/filings/name-check", {"name": name, "division": division})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["acceptable"] is (not body["reasons"])
    return {x["code"] for x in body["reasons"]}


def test_a_good_name_is_acceptable(api, divisions):
    assert codes(api, "民治社区夕阳红合唱团") == set()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("中国民治合唱团", "forbidden_prefix"),
        ("全国民治志愿服务队", "forbidden_prefix"),
        ("世界民治书法协会", "forbidden_prefix"),
        ("民治第一合唱团", "forbidden_word"),
        ("民治最高合唱团", "forbidden_word"),
        ("民治国家级舞蹈队", "forbidden_word"),
        ("民治社区合唱", "missing_organisation_form"),
        ("合唱团", "name_too_short"),
    ],
)
def test_rule_breaking_names_are_refused_with_a_reason(api, divisions, name, code):
    assert code in codes(api, name)


def test_reasons_come_in_english_when_asked(api, divisions):
    body = api.get(
        "/filings/name-check",
        {"name": "中国民治合唱团", "division": COMMUNITY},
        headers={"Accept-Language": "en"},
    ).json()
    assert "may not start" in body["reasons"][0]["message"]


def test_duplicate_in_the_same_street_only(api, rep):
    bare_group(rep, name="民治社区夕阳红合唱团")
    assert "duplicate_name" in codes(api, "民治社区 夕阳红合唱团")  # whitespace does not make a new name
    assert "duplicate_name" not in codes(api, "民治社区夕阳红合唱团", OTHER_COMMUNITY)


def test_deregistered_name_is_blocked_for_a_year(api, rep):
    today = date.today()
    bare_group(rep, name="民治社区甲合唱团", status="deregistered", changed_on=today - timedelta(days=100))
    bare_group(rep, name="民治社区乙合唱团", status="deregistered", changed_on=today - timedelta(days=400))
    assert "name_recently_deregistered" in codes(api, "民治社区甲合唱团")
    assert codes(api, "民治社区乙合唱团") == set()


def test_revoked_name_is_blocked_for_three_years(api, rep):
    today = date.today()
    bare_group(rep, name="民治社区丙合唱团", status="revoked", changed_on=today - timedelta(days=2 * 365))
    bare_group(rep, name="民治社区丁合唱团", status="revoked", changed_on=today - timedelta(days=3 * 365 + 5))
    assert "name_recently_revoked" in codes(api, "民治社区丙合唱团")
    assert codes(api, "民治社区丁合唱团") == set()


def test_changed_name_is_blocked_for_a_year(api, rep):
    group = bare_group(rep, name="民治社区新名合唱团")
    FormerName.objects.create(
        group=group,
        name="民治社区旧名合唱团",
        name_key=name_key("民治社区旧名合唱团"),
        community_code=COMMUNITY,
        released_on=date.today() - timedelta(days=30),
    )
    assert "name_recently_changed" in codes(api, "民治社区旧名合唱团")


def test_registered_organisation_names_are_taken(api, divisions):
    RegisteredOrganisation.objects.create(
        name="龙华区民治书法协会",
        name_key=name_key("龙华区民治书法协会"),
        uscc="51440309MJL000001X",
        division_code="440309",
    )
    assert "duplicate_registered_name" in codes(api, "龙华区民治书法协会")


def test_bad_division_is_a_validation_error(api, divisions):
    r = api.get("/filings/name-check", {"name": "民治社区合唱团", "division": "x"})
    assert r.status_code == 422
