"""End-to-end notification hooks of filings: cause through the API or a job, outbox, stand-in FCM."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.filings import services as filing_services
from backend.filings.models import CreditListing, Filing, Group
from tests.filings.conftest import filing_payload, upload_all
from tests.filings.factories import approved_group, submitted
from tests.helpers import ApiClient
from tests.notifications.hooks.support import (
    Boom,
    at,
    expect_nothing,
    expect_push,
    phone,
    raw_client,
    run_job,
    travel,
)

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


# === filings (issue 3) ===========================================================================


def accepted(group_rep, street_reviewer) -> Filing:
    filing = submitted(group_rep)
    return filing_services.filing_accept(filing=filing, actor=street_reviewer)


def test_submitted_filing_reaches_the_reviewers_phone(
    api, group_rep, street_reviewer, fcm_standin, committed
):
    rep_api, reviewing = ApiClient(group_rep), phone(fcm_standin, street_reviewer)
    fid = rep_api.post("/filings", filing_payload()).json()["id"]
    upload_all(rep_api, fid)
    with committed():
        r = rep_api.post(f"/filings/{fid}/submit")
    assert r.status_code == 200, r.json()
    note = expect_push(reviewing, "filing.submitted", Filing.objects.get(pk=fid))
    assert "民治社区夕阳红合唱团" in note.body
    assert reviewing.new_kinds() == ["filing.submitted"]


def test_resubmitted_filing_reaches_the_reviewers_phone(group_rep, street_reviewer, fcm_standin, committed):
    filing = accepted(group_rep, street_reviewer)
    filing_services.filing_request_correction(
        filing=filing, actor=street_reviewer, reasons=[{"field": "address", "reason": "请填写门牌号"}]
    )
    reviewing = phone(fcm_standin, street_reviewer)
    with committed():
        r = ApiClient(group_rep).post(f"/filings/{filing.pk}/submit")
    assert r.status_code == 200 and r.json()["status"] == "resubmitted", r.json()
    note = expect_push(reviewing, "filing.resubmitted", filing)
    assert r.json()["due_date"] in note.body
    assert reviewing.new_kinds() == ["filing.resubmitted"]


def test_accepted_filing_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    filing = submitted(group_rep)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(f"/review/filings/{filing.pk}/accept")
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.accepted", filing)
    assert r.json()["due_date"] in note.body
    assert representative.new_kinds() == ["filing.accepted"]


def test_correction_request_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    filing = accepted(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/filings/{filing.pk}/request-correction",
            {"reasons": [{"field": "address", "reason": "请填写具体门牌号"}]},
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.correction_requested", filing)
    assert "请填写具体门牌号" in note.body
    assert representative.new_kinds() == ["filing.correction_requested"]


@pytest.mark.django_db(transaction=True)
def test_approval_reaches_the_representative_after_the_real_commit(group_rep, street_reviewer, fcm_standin):
    filing = accepted(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    r = ApiClient(street_reviewer).post(f"/review/filings/{filing.pk}/approve")
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.approved", filing)
    assert r.json()["filing_number"] in note.body and r.json()["valid_until"] in note.body
    assert representative.new_kinds() == ["filing.approved"]


def test_rejection_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    filing = accepted(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/filings/{filing.pk}/reject", {"reasons": [{"reason": "活动内容超出社区范围"}]}
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.rejected", filing)
    assert "活动内容超出社区范围" in note.body
    assert representative.new_kinds() == ["filing.rejected"]


def test_due_date_warning_reaches_the_reviewer_on_the_due_day(
    group_rep, street_reviewer, fcm_standin, committed
):
    filing = accepted(group_rep, street_reviewer)
    reviewing = phone(fcm_standin, street_reviewer)
    with travel(at(filing.due_date)), committed():
        run_job("filings.due_warnings")
        run_job("filings.due_warnings")  # idempotent: one warning per due date
    note = expect_push(reviewing, "filing.due_soon", filing)
    assert filing.due_date.isoformat() in note.body
    assert reviewing.new_kinds() == ["filing.due_soon"]


def test_overdue_filing_is_pushed_urgently_to_the_reviewer(
    group_rep, street_reviewer, fcm_standin, committed
):
    filing = accepted(group_rep, street_reviewer)
    reviewing = phone(fcm_standin, street_reviewer)
    with travel(at(filing.due_date + timedelta(days=1))), committed():
        run_job("filings.due_warnings")
    expect_push(reviewing, "filing.overdue", filing, urgent=True)
    assert reviewing.new_kinds() == ["filing.overdue"]


def test_revocation_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/orgs/{group.pk}/revoke", {"reasons": [{"reason": "以备案名义从事经营性收费活动"}]}
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "org.revoked", group)
    assert "经营性收费" in note.body
    assert representative.new_kinds() == ["org.revoked"]


def test_abnormal_listing_by_a_reviewer_reaches_the_representative(
    group_rep, street_reviewer, fcm_standin, committed
):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/orgs/{group.pk}/credit-listings",
            {"reason_code": "unreachable", "reason": "通过登记的住所无法联系"},
        )
    assert r.status_code == 201, r.json()
    note = expect_push(representative, "org.abnormal_listed", group)
    assert "通过登记的住所无法联系" in note.body
    assert representative.new_kinds() == ["org.abnormal_listed"]


def test_listing_removal_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    listing = filing_services.credit_listing_create(
        group=group,
        actor=street_reviewer,
        list_kind="abnormal",
        reason_code="unreachable",
        reason="无法联系",
        basis="",
    )
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/credit-listings/{listing.pk}/remove", {"reason": "已恢复联系"}
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "org.listing_removed", group)
    assert "已恢复联系" in note.body
    assert representative.new_kinds() == ["org.listing_removed"]


def test_two_years_on_the_abnormal_list_pushes_the_serious_listing(
    group_rep, street_reviewer, fcm_standin, committed
):
    group = approved_group(group_rep, street_reviewer)
    filing_services.credit_listing_create(
        group=group,
        actor=street_reviewer,
        list_kind="abnormal",
        reason_code="unreachable",
        reason="无法联系",
        basis="",
    )
    representative = phone(fcm_standin, group_rep)
    with travel(at(date(2028, 11, 17))), committed():
        run_job("filings.credit_list_sweep")
    assert CreditListing.objects.filter(group=group, list_kind="serious").count() == 1
    expect_push(representative, "org.serious_listed", group)
    expect_push(representative, "org.listing_removed", group)  # off the abnormal list, onto the serious one
    # The same run also lists the missing annual reports of 2026 and 2027.
    assert representative.new_kinds() == [
        "org.abnormal_listed",
        "org.abnormal_listed",
        "org.listing_removed",
        "org.serious_listed",
    ]


def test_renewal_reminder_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with travel(at(group.valid_until - timedelta(days=10))), committed():
        run_job("filings.credit_list_sweep")
        run_job("filings.credit_list_sweep")  # once per validity period
    note = expect_push(representative, "org.renewal_due", group)
    assert group.valid_until.isoformat() in note.body
    assert representative.new_kinds().count("org.renewal_due") == 1


def test_expiry_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with travel(at(group.valid_until + timedelta(days=1))), committed():
        run_job("filings.credit_list_sweep")
    assert Group.objects.get(pk=group.pk).status == "expired"
    expect_push(representative, "org.expired", group)
    assert representative.new_kinds().count("org.expired") == 1


@pytest.mark.django_db(transaction=True)
def test_decision_on_a_stale_version_writes_and_sends_nothing(group_rep, street_reviewer, fcm_standin):
    filing = accepted(group_rep, street_reviewer)
    stale = filing.version
    filing_services.filing_request_correction(
        filing=filing, actor=street_reviewer, reasons=[{"field": "address", "reason": "请填写门牌号"}]
    )
    representative = phone(fcm_standin, group_rep)
    r = ApiClient(street_reviewer).post(f"/review/filings/{filing.pk}/approve?version={stale}")
    assert r.status_code == 409, r.json()
    assert Filing.objects.get(pk=filing.pk).status == "correction_requested"
    expect_nothing("filing.approved", representative)


@pytest.mark.django_db(transaction=True)
def test_submission_that_fails_after_notifying_rolls_back_its_notifications(
    group_rep, street_reviewer, street_reviewer2, fcm_standin, monkeypatch
):
    """The outbox rows live in the cause's transaction: a failure after the first reviewer's
    notification was written takes it back, and nothing reaches any phone."""
    from backend.filings.services import submission as services

    rep_api = ApiClient(group_rep)
    fid = rep_api.post("/filings", filing_payload()).json()["id"]
    upload_all(rep_api, fid)
    phones = [phone(fcm_standin, street_reviewer), phone(fcm_standin, street_reviewer2)]
    real_notify, written = services.notify, []

    def notify_then_fail(**kwargs):
        written.append(real_notify(**kwargs))
        if len(written) == 2:
            raise Boom("after the second notification")
        return written[-1]

    monkeypatch.setattr(services, "notify", notify_then_fail)
    r = raw_client(rep_api).post(f"/filings/{fid}/submit")
    assert r.status_code == 500
    assert len(written) == 2 and all(n is not None for n in written)  # rows were written…
    assert Filing.objects.get(pk=fid).status == "draft"  # …and went with the cause
    expect_nothing("filing.submitted", *phones)
