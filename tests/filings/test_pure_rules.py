"""The pure pieces of the filings domain, tested without the API: name form rules, calendar
arithmetic, roster counting and masking, policy attachment kinds, and the fetch-and-authorize
helpers' 404-versus-403 answers."""

from __future__ import annotations

from datetime import date

import pytest

from backend.core.errors import NotFound, PermissionDenied
from backend.filings import conf
from backend.filings.calendar import add_months, add_years
from backend.filings.models import FilingPerson
from backend.filings.permissions import Action, filing_access, group_access
from backend.filings.selectors import EffectivePolicy, RosterEntry, name_form_problems
from backend.filings.selectors.checks import check_roster_size
from backend.filings.services import unknown_attachment_kinds
from tests.factories import UserFactory
from tests.filings.factories import approved_group, submitted


def test_name_form_problems_lists_every_rule_broken_in_order():
    assert [p.code for p in name_form_problems("中国第一")] == [
        "forbidden_prefix",
        "forbidden_word",
        "missing_organisation_form",
    ]
    assert [p.code for p in name_form_problems("合唱团")] == ["name_too_short"]
    assert name_form_problems("民治社区夕阳红合唱团") == []


def test_add_years_moves_29_february_to_the_28th():
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert add_years(date(2024, 2, 29), -4) == date(2020, 2, 29)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert add_months(date(2025, 8, 20), -6) == date(2025, 2, 20)


def _policy(**overrides) -> EffectivePolicy:
    return EffectivePolicy(division_code="440309002001", **{**conf.DEFAULT_POLICY, **overrides})


def _person(index: str, role: str = "member") -> FilingPerson:
    return FilingPerson(position=0, name="成员", role=role, id_index=index, id_masked="4****1", phone="")


def test_roster_size_counts_each_person_once():
    persons = [_person("a", "founder"), _person("a", "founder"), *(_person(str(i)) for i in range(8))]
    problems = check_roster_size(persons, _policy(min_members=10, min_founders=2))
    assert [(p["code"], p["actual"]) for p in problems] == [("too_few_members", 9), ("too_few_founders", 1)]
    assert check_roster_size(persons, _policy(min_members=9, min_founders=1)) == []


def test_roster_entry_is_masked_unless_revealed():
    person = FilingPerson(
        position=2, name="张小三", role="founder", id_masked="4****************1", phone="13900000001"
    )
    masked = RosterEntry.of(person)
    assert (masked.id_number_masked, masked.phone_masked) == ("4****************1", "139****0001")
    assert (masked.id_number, masked.phone) == ("", "")
    revealed = RosterEntry.of(person, id_number="440309198001010011")
    assert (revealed.id_number, revealed.phone, revealed.phone_masked) == (
        "440309198001010011",
        "13900000001",
        "139****0001",
    )


def test_unknown_attachment_kinds():
    assert unknown_attachment_kinds(["charter", "venue_proof"]) is None
    assert unknown_attachment_kinds([]) is None
    assert unknown_attachment_kinds(["charter", "photo"]) == ["photo"]
    assert unknown_attachment_kinds("charter") == []


def test_filing_access_hides_what_the_user_may_not_know(divisions, rep, reviewer):
    filing = submitted(rep)
    assert filing_access(user=rep, filing_id=filing.pk).pk == filing.pk
    assert filing_access(user=reviewer, filing_id=filing.pk, action=Action.FILING_REVIEW).pk == filing.pk
    with pytest.raises(NotFound):
        filing_access(user=UserFactory(), filing_id=filing.pk)
    with pytest.raises(NotFound):
        filing_access(user=reviewer, filing_id=filing.pk, action=Action.FILING_EDIT)
    with pytest.raises(NotFound):
        filing_access(user=rep, filing_id=filing.pk + 1000)


def test_group_access_refuses_a_public_group_with_403(divisions, rep, reviewer, other_reviewer):
    group = approved_group(rep, reviewer)
    assert group_access(user=rep, group_id=group.pk).pk == group.pk
    assert group_access(user=reviewer, group_id=group.pk, action=Action.ORG_REPORTS_VIEW).pk == group.pk
    with pytest.raises(PermissionDenied):
        group_access(user=other_reviewer, group_id=group.pk, action=Action.ORG_REVIEW)
    with pytest.raises(PermissionDenied):
        group_access(user=UserFactory(), group_id=group.pk, action=Action.ORG_REPORTS_VIEW)
    with pytest.raises(NotFound):
        group_access(user=rep, group_id=group.pk + 1000)
