"""The whole life of a group through the HTTP API, with frozen time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from backend.accounts.models import Grant
from backend.core.models import AuditLog
from backend.filings import jobs
from backend.notifications.models import Notification
from tests.filings.conftest import filing_payload, roster, upload_all
from tests.helpers import assert_error

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, 9, 0, tzinfo=TZ) if len(args) == 3 else datetime(*args, tzinfo=TZ)


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def test_life_of_a_group(api, rep, reviewer):
    # Friday 13 February 2026: Spring Festival runs 15-23 February, the 14th and 28th are make-up workdays.
    with time_machine.travel(at(2026, 2, 12), tick=False):
        rep_api, rev_api = api.as_user(rep), api.as_user(reviewer)
        bad = roster(members=9, founders=1)
        good = bad[3]["id_number"]
        bad[3]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")  # wrong check character
        bad.append(dict(bad[5]))  # the same person twice
        r = rep_api.post("/filings", filing_payload(name="中国民治第一合唱团", persons=bad))
        assert r.status_code == 201, r.json()
        filing = r.json()
        assert filing["status"] == "draft"
        assert (
            filing["persons"][0]["id_number_masked"].startswith("4")
            and "*" in filing["persons"][0]["id_number_masked"]
        )
        fid = filing["id"]
        upload_all(rep_api, fid, kinds=("application_form", "charter"))

        # Submit with errors: every problem at once, each with code and field.
        body = assert_error(rep_api.post(f"/filings/{fid}/submit"), 422, "filing_incomplete")
        problems = {(e["field"], e["code"]) for e in body["details"]["errors"]}
        assert ("name", "name_not_acceptable") in problems
        assert ("persons[3].id_number", "invalid_id_number") in problems
        assert ("persons[9].id_number", "duplicate_member") in problems
        assert ("persons", "too_few_members") in problems
        assert ("persons", "too_few_founders") in problems
        assert ("attachments.member_roster", "missing_attachment") in problems
        assert ("attachments.venue_proof", "missing_attachment") in problems
        name_reasons = next(e for e in body["details"]["errors"] if e["code"] == "name_not_acceptable")[
            "reasons"
        ]
        assert {r["code"] for r in name_reasons} >= {"forbidden_prefix", "forbidden_word"}
        assert rep_api.get(f"/filings/{fid}").json()["status"] == "draft"

        # Reviewers do not see drafts.
        assert_error(rev_api.get(f"/review/filings/{fid}"), 404, "not_found")

        # Fix and submit.
        r = rep_api.patch(f"/filings/{fid}", {"name": "民治社区夕阳红合唱团", "persons": roster()})
        assert r.status_code == 200, r.json()
        upload_all(rep_api, fid, kinds=("member_roster", "venue_proof"))
        r = rep_api.post(f"/filings/{fid}/submit")
        assert r.status_code == 200, r.json()
        assert r.json()["status"] == "submitted"
        assert r.json()["reviewing_division_code"] == "440309002"
        assert "filing.submitted" in kinds_for(reviewer)
        assert_error(rep_api.patch(f"/filings/{fid}", {"address": "别处"}), 409, "invalid_transition")

    with time_machine.travel(at(2026, 2, 13), tick=False):
        rep_api, rev_api = api.as_user(rep), api.as_user(reviewer)
        listing = rev_api.get("/review/filings", {"status": "submitted"}).json()["items"]
        assert [f["id"] for f in listing] == [fid]
        detail = rev_api.get(f"/review/filings/{fid}").json()
        assert detail["persons"][0]["id_number"] == roster()[0]["id_number"]  # unmasked for the reviewer
        assert AuditLog.objects.filter(
            action="filing.roster_viewed", object_id=str(fid), actor=reviewer
        ).exists()

        r = rev_api.post(f"/review/filings/{fid}/accept")
        assert r.status_code == 200, r.json()
        # 7 working days after Fri 13 Feb: Sat 14 (make-up), 24, 25, 26, 27, Sat 28 (make-up), Mon 2 Mar.
        assert r.json()["due_date"] == "2026-03-02"
        assert "filing.accepted" in kinds_for(rep)

    with time_machine.travel(at(2026, 2, 25), tick=False):
        rep_api, rev_api = api.as_user(rep), api.as_user(reviewer)
        # A correction needs a reason per field.
        assert_error(
            rev_api.post(f"/review/filings/{fid}/request-correction", {"reasons": []}),
            422,
            "validation_error",
        )
        r = rev_api.post(
            f"/review/filings/{fid}/request-correction",
            {"reasons": [{"field": "address", "reason": "请填写具体门牌号"}]},
        )
        assert r.status_code == 200, r.json()
        detail = r.json()
        assert detail["status"] == "correction_requested"
        assert detail["clock_paused"] is True and detail["due_date"] is None
        # Left on Wed 25 Feb: 26, 27, Sat 28, Mon 2 Mar = 4 working days.
        assert detail["paused_days_left"] == 4
        mine = rep_api.get(f"/filings/{fid}").json()
        assert mine["reasons"] == [{"field": "address", "reason": "请填写具体门牌号"}]
        assert "filing.correction_requested" in kinds_for(rep)

    with time_machine.travel(at(2026, 3, 4), tick=False):
        rep_api, rev_api = api.as_user(rep), api.as_user(reviewer)
        r = rep_api.patch(f"/filings/{fid}", {"address": "深圳市龙华区民治街道民治大道100号"})
        assert r.status_code == 200, r.json()
        r = rep_api.post(f"/filings/{fid}/submit")
        assert r.status_code == 200, r.json()
        assert r.json()["status"] == "resubmitted"
        # The clock resumes with 4 working days from Wed 4 March: 5, 6, 9, 10.
        assert r.json()["due_date"] == "2026-03-10"

        r = rev_api.post(f"/review/filings/{fid}/approve")
        assert r.status_code == 200, r.json()
        approved = r.json()
        assert approved["status"] == "approved"
        assert approved["filing_number"] == "440309002-2026-00001"
        assert approved["valid_until"] == "2029-03-03"
        group_id = approved["group_id"]
        assert Grant.objects.filter(
            user=rep, role="group_rep", scope_type="group", scope_id=str(group_id)
        ).exists()
        assert "filing.approved" in kinds_for(rep)
        history = rep_api.get(f"/filings/{fid}").json()["history"]
        assert [e["action"] for e in history] == [
            "created",
            "attachment_added",
            "attachment_added",
            "updated",
            "attachment_added",
            "attachment_added",
            "submit",
            "accept",
            "request_correction",
            "updated",
            "submit",
            "approve",
        ]
        correction = history[8]
        assert correction["reasons"] == [{"field": "address", "reason": "请填写具体门牌号"}]
        assert (correction["from_status"], correction["to_status"]) == ("accepted", "correction_requested")
        assert AuditLog.objects.filter(action="filing.approve", object_id=str(fid), actor=reviewer).exists()
        # Deciding again is not in the state machine.
        assert_error(
            rev_api.post(f"/review/filings/{fid}/reject", {"reasons": [{"reason": "x"}]}),
            409,
            "invalid_transition",
        )

        public = api.get(f"/orgs/{group_id}").json()
        assert public["filing_number"] == "440309002-2026-00001"
        assert public["rep_name_masked"] == "张*三"
        assert all("*" in n for n in public["founders_masked"])
        assert public["on_abnormal_list"] is False

    # Annual report for 2026, filed in time in 2027.
    with time_machine.travel(at(2027, 3, 1), tick=False):
        rep_api = api.as_user(rep)
        r = rep_api.post(
            f"/orgs/{group_id}/annual-reports",
            {"year": 2026, "member_count": 12, "activities_held": 8, "summary": "开展合唱活动 8 次"},
        )
        assert r.status_code == 201, r.json()
        assert_error(
            rep_api.post(
                f"/orgs/{group_id}/annual-reports",
                {"year": 2026, "member_count": 12, "activities_held": 8, "summary": "again"},
            ),
            409,
            "annual_report_exists",
        )

    # The 2027 report is missed: after 31 May 2028 the sweep lists the group as abnormal.
    with time_machine.travel(at(2028, 5, 31), tick=False):
        jobs.credit_list_sweep()
        assert api.get(f"/orgs/{group_id}").json()["on_abnormal_list"] is False
    with time_machine.travel(at(2028, 6, 1), tick=False):
        result = jobs.credit_list_sweep()
        assert result["abnormal_listed"] == 1
        assert jobs.credit_list_sweep()["abnormal_listed"] == 0  # idempotent
        org = api.get(f"/orgs/{group_id}").json()
        assert org["on_abnormal_list"] is True
        listing = org["credit_listings"][0]
        assert listing["reason_code"] == "annual_report_missing" and listing["related_year"] == 2027
        assert "民政部令第60号" in listing["basis"]
        assert kinds_for(rep).count("org.abnormal_listed") == 1
        directory = api.get("/orgs", {"q": "夕阳红"}).json()["items"]
        assert directory[0]["on_abnormal_list"] is True

    # The report is filed late (Mon 5 June 2028); removal follows within 5 working days.
    with time_machine.travel(at(2028, 6, 5), tick=False):
        rep_api = api.as_user(rep)
        r = rep_api.post(
            f"/orgs/{group_id}/annual-reports",
            {"year": 2027, "member_count": 11, "activities_held": 5, "summary": "补报"},
        )
        assert r.status_code == 201, r.json()
        listing = api.get(f"/orgs/{group_id}").json()["credit_listings"][0]
        assert listing["fixed_on"] == "2028-06-05"
        assert listing["removal_due"] == "2028-06-12"
        jobs.credit_list_sweep()
        assert api.get(f"/orgs/{group_id}").json()["on_abnormal_list"] is True
    with time_machine.travel(at(2028, 6, 12), tick=False):
        assert jobs.credit_list_sweep()["removed"] == 1
        org = api.get(f"/orgs/{group_id}").json()
        assert org["on_abnormal_list"] is False
        assert org["credit_listings"][0]["removed_on"] == "2028-06-12"
        assert "org.listing_removed" in kinds_for(rep)
