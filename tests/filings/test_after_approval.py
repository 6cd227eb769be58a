"""Changes, renewal, deregistration and revocation of a filed group, through the same review."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from backend.filings import jobs
from backend.filings.models import Group
from backend.notifications.models import Notification
from tests.factories import UserFactory
from tests.filings.factories import approved_group
from tests.helpers import assert_error

TZ = ZoneInfo("Asia/Shanghai")


def review_through(api, reviewer, fid):
    rev = api.as_user(reviewer)
    assert rev.post(f"/review/filings/{fid}/accept").status_code == 200
    r = rev.post(f"/review/filings/{fid}/approve")
    assert r.status_code == 200, r.json()
    return r.json()


def test_change_filing_renames_the_group_and_blocks_the_old_name(api, rep, reviewer):
    group = approved_group(rep, reviewer)
    client = api.as_user(rep)
    r = client.post(f"/orgs/{group.pk}/filings", {"kind": "change"})
    assert r.status_code == 201, r.json()
    change = r.json()
    assert change["kind"] == "change" and len(change["persons"]) == 10 and len(change["attachments"]) == 4
    assert_error(client.post(f"/orgs/{group.pk}/filings", {"kind": "change"}), 409, "filing_in_progress")
    assert client.patch(f"/filings/{change['id']}", {"name": "民治社区金色年华合唱团"}).status_code == 200
    assert client.post(f"/filings/{change['id']}/submit").status_code == 200
    approved = review_through(api, reviewer, change["id"])
    assert approved["filing_number"] == group.filing_number
    org = api.get(f"/orgs/{group.pk}").json()
    assert org["name"] == "民治社区金色年华合唱团"
    reasons = api.get(
        "/filings/name-check", {"name": "民治社区夕阳红合唱团", "division": group.community_id}
    ).json()
    assert "name_recently_changed" in {x["code"] for x in reasons["reasons"]}


def test_only_the_representative_starts_group_filings(api, rep, reviewer):
    group = approved_group(rep, reviewer)
    assert_error(
        api.as_user(UserFactory()).post(f"/orgs/{group.pk}/filings", {"kind": "change"}),
        403,
        "permission_denied",
    )


def test_renewal_opens_in_the_window_before_expiry_and_extends_validity(api, rep, reviewer):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=TZ), tick=False):
        group = approved_group(rep, reviewer)
    assert group.valid_until == date(2029, 3, 1)
    with time_machine.travel(datetime(2029, 2, 1, 9, tzinfo=TZ), tick=False):
        body = assert_error(
            api.as_user(rep).post(f"/orgs/{group.pk}/filings", {"kind": "renewal"}), 409, "renewal_not_open"
        )
        assert body["details"]["opens_on"] == "2029-02-14"
    with time_machine.travel(datetime(2029, 2, 20, 9, tzinfo=TZ), tick=False):
        assert jobs.credit_list_sweep()["renewal_reminders"] == 1
        assert jobs.credit_list_sweep()["renewal_reminders"] == 0
        client = api.as_user(rep)
        fid = client.post(f"/orgs/{group.pk}/filings", {"kind": "renewal"}).json()["id"]
        assert client.post(f"/filings/{fid}/submit").status_code == 200
        approved = review_through(api, reviewer, fid)
    assert approved["valid_until"] == "2032-03-01"
    assert Notification.objects.filter(user=rep, kind="org.renewal_due").count() == 1


def test_renewal_that_renames_the_group_blocks_the_old_name(api, rep, reviewer):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=TZ), tick=False):
        group = approved_group(rep, reviewer)
    with time_machine.travel(datetime(2029, 2, 20, 9, tzinfo=TZ), tick=False):
        client = api.as_user(rep)
        fid = client.post(f"/orgs/{group.pk}/filings", {"kind": "renewal"}).json()["id"]
        assert client.patch(f"/filings/{fid}", {"name": "民治社区金色年华合唱团"}).status_code == 200
        assert client.post(f"/filings/{fid}/submit").status_code == 200
        review_through(api, reviewer, fid)
        assert api.get(f"/orgs/{group.pk}").json()["name"] == "民治社区金色年华合唱团"
        reasons = api.get(
            "/filings/name-check", {"name": "民治社区夕阳红合唱团", "division": group.community_id}
        ).json()
    assert "name_recently_changed" in {x["code"] for x in reasons["reasons"]}


def test_a_group_past_its_validity_expires_in_the_sweep(api, rep, reviewer):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=TZ), tick=False):
        group = approved_group(rep, reviewer)
    with time_machine.travel(datetime(2029, 3, 2, 9, tzinfo=TZ), tick=False):
        assert jobs.credit_list_sweep()["expired"] == 1
        assert api.get(f"/orgs/{group.pk}").json()["status"] == "expired"
        assert_error(
            api.as_user(rep).post(f"/orgs/{group.pk}/filings", {"kind": "renewal"}), 409, "org_not_active"
        )


def test_deregistration_needs_a_statement_and_goes_through_review(api, rep, reviewer):
    group = approved_group(rep, reviewer)
    client = api.as_user(rep)
    fid = client.post(f"/orgs/{group.pk}/filings", {"kind": "deregistration"}).json()["id"]
    body = assert_error(client.post(f"/filings/{fid}/submit"), 422, "filing_incomplete")
    assert body["details"]["errors"][0]["field"] == "statement"
    assert client.patch(f"/filings/{fid}", {"statement": "成员搬迁，活动终止"}).status_code == 200
    assert client.post(f"/filings/{fid}/submit").status_code == 200
    review_through(api, reviewer, fid)
    org = api.get(f"/orgs/{group.pk}").json()
    assert org["status"] == "deregistered"
    names = api.get("/filings/name-check", {"name": group.name, "division": group.community_id}).json()
    assert "name_recently_deregistered" in {x["code"] for x in names["reasons"]}


def test_revocation_by_the_reviewer_with_reasons(api, rep, reviewer, other_reviewer):
    group = approved_group(rep, reviewer)
    open_change = api.as_user(rep).post(f"/orgs/{group.pk}/filings", {"kind": "change"}).json()["id"]
    assert_error(
        api.as_user(other_reviewer).post(f"/review/orgs/{group.pk}/revoke", {"reasons": [{"reason": "x"}]}),
        403,
        "permission_denied",
    )
    assert_error(
        api.as_user(reviewer).post(f"/review/orgs/{group.pk}/revoke", {"reasons": []}),
        422,
        "validation_error",
    )
    r = api.as_user(reviewer).post(
        f"/review/orgs/{group.pk}/revoke", {"reasons": [{"reason": "以备案名义从事经营性收费活动"}]}
    )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "revoked"
    assert Group.objects.get(pk=group.pk).status_reason == "以备案名义从事经营性收费活动"
    assert api.as_user(rep).get(f"/filings/{open_change}").json()["status"] == "withdrawn"
    assert Notification.objects.filter(user=rep, kind="org.revoked").exists()
    assert_error(
        api.as_user(reviewer).post(f"/review/orgs/{group.pk}/revoke", {"reasons": [{"reason": "again"}]}),
        409,
        "invalid_transition",
    )
    names = api.get("/filings/name-check", {"name": group.name, "division": group.community_id}).json()
    assert "name_recently_revoked" in {x["code"] for x in names["reasons"]}


def test_annual_report_rules(api, rep, reviewer):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=TZ), tick=False):
        group = approved_group(rep, reviewer)
    with time_machine.travel(datetime(2027, 1, 10, 9, tzinfo=TZ), tick=False):
        payload = {"year": 2027, "member_count": 10, "activities_held": 1, "summary": "x"}
        body = assert_error(
            api.as_user(rep).post(f"/orgs/{group.pk}/annual-reports", payload), 422, "validation_error"
        )
        assert body["details"]["errors"][0]["code"] == "invalid_year"
        payload["year"] = 2026
        assert_error(
            api.as_user(UserFactory()).post(f"/orgs/{group.pk}/annual-reports", payload),
            403,
            "permission_denied",
        )
        assert api.as_user(rep).post(f"/orgs/{group.pk}/annual-reports", payload).status_code == 201
        assert [x["year"] for x in api.as_user(reviewer).get(f"/orgs/{group.pk}/annual-reports").json()] == [
            2026
        ]
        assert api.get(f"/orgs/{group.pk}").json()["annual_report_years"] == [2026]
