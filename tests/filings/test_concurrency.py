"""Two reviewers deciding at once: exactly one decision wins. Filing numbers per division."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from backend.filings import services
from backend.filings.models import Filing, FilingEvent
from tests.filings.conftest import OTHER_COMMUNITY
from tests.filings.factories import approved_group, submitted
from tests.helpers import ApiClient, assert_error


def test_a_decision_on_a_stale_version_is_refused(api, reviewer, reviewer2, submitted_filing):
    seen = api.as_user(reviewer).get(f"/review/filings/{submitted_filing}").json()["version"]
    assert api.as_user(reviewer2).post(f"/review/filings/{submitted_filing}/accept", {}).status_code == 200
    r = api.as_user(reviewer).post(
        f"/review/filings/{submitted_filing}/request-correction",
        {"version": seen, "reasons": [{"field": "name", "reason": "名称需修改"}]},
    )
    assert_error(r, 409, "filing_changed")
    assert Filing.objects.get(pk=submitted_filing).status == "accepted"


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_exactly_one_wins(divisions, rep, reviewer, reviewer2):
    filing = submitted(rep)
    services.filing_accept(filing=filing, actor=reviewer)
    clients = [ApiClient(reviewer), ApiClient(reviewer2)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def decide(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            if i == 0:
                results[i] = clients[i].post(f"/review/filings/{filing.pk}/approve")
            else:
                results[i] = clients[i].post(
                    f"/review/filings/{filing.pk}/reject", {"reasons": [{"reason": "不符合条件"}]}
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.json() for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json()["code"] in {"invalid_transition", "filing_changed"}
    filing.refresh_from_db()
    assert filing.status in {"approved", "rejected"}
    decisions = FilingEvent.objects.filter(filing=filing, action__in=["approve", "reject"]).count()
    assert decisions == 1


def test_filing_numbers_are_unique_and_sequential_per_issuing_division(
    divisions, rep, reviewer, other_reviewer
):
    first = approved_group(rep, reviewer, name="民治社区甲合唱团", start=1)
    second = approved_group(rep, reviewer, name="民治社区乙合唱团", start=100)
    other = approved_group(rep, other_reviewer, name="观城社区甲合唱团", community=OTHER_COMMUNITY, start=200)
    year = first.filed_on.year
    assert first.filing_number == f"440309002-{year}-00001"
    assert second.filing_number == f"440309002-{year}-00002"
    assert other.filing_number == f"440309003-{year}-00001"


def test_second_approval_of_the_same_name_is_refused_and_rolled_back(api, divisions, rep, reviewer):
    first = submitted(rep, start=1)
    second = submitted(rep, start=100)  # same name, submitted before the first was approved
    for filing in (first, second):
        services.filing_accept(filing=filing, actor=reviewer)
    services.filing_approve(filing=first, actor=reviewer)
    body = assert_error(
        api.as_user(reviewer).post(f"/review/filings/{second.pk}/approve"), 409, "name_not_acceptable"
    )
    assert body["details"]["reasons"][0]["code"] == "duplicate_name"
    second.refresh_from_db()
    assert second.status == "accepted" and second.group_id is None
    assert not FilingEvent.objects.filter(filing=second, action="approve").exists()
