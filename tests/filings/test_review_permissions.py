"""Who may see and decide what; transitions outside the state machine."""

from __future__ import annotations

from backend.divisions.models import Division
from backend.filings.models import FilingPolicy
from tests.factories import UserFactory
from tests.filings.conftest import OTHER_COMMUNITY, STREET, filing_payload
from tests.filings.factories import approved_group
from tests.helpers import assert_error


def test_only_the_representative_sees_and_edits_a_draft(api, rep):
    fid = api.as_user(rep).post("/filings", filing_payload()).json()["id"]
    stranger = api.as_user(UserFactory())
    assert_error(stranger.get(f"/filings/{fid}"), 404, "not_found")
    assert_error(stranger.patch(f"/filings/{fid}", {"address": "x"}), 404, "not_found")
    assert_error(stranger.post(f"/filings/{fid}/submit"), 404, "not_found")
    assert_error(api.get(f"/filings/{fid}"), 401, "not_authenticated")


def test_reviewers_of_another_street_get_404(api, submitted_filing, other_reviewer):
    client = api.as_user(other_reviewer)
    assert_error(client.get(f"/review/filings/{submitted_filing}"), 404, "not_found")
    assert_error(client.post(f"/review/filings/{submitted_filing}/accept"), 404, "not_found")
    assert client.get("/review/filings").json()["items"] == []


def test_the_representative_cannot_decide(api, rep, submitted_filing):
    assert_error(api.as_user(rep).post(f"/review/filings/{submitted_filing}/accept"), 404, "not_found")


def test_reviewer_cannot_edit_the_filing(api, reviewer, submitted_filing):
    assert_error(
        api.as_user(reviewer).patch(f"/filings/{submitted_filing}", {"address": "x"}), 404, "not_found"
    )


def test_a_district_reviewer_may_decide_street_level_filings(api, submitted_filing, district_reviewer):
    r = api.as_user(district_reviewer).post(f"/review/filings/{submitted_filing}/accept")
    assert r.status_code == 200, r.json()


def test_district_level_policy_keeps_street_reviewers_out(api, rep, reviewer, district_reviewer):
    FilingPolicy.objects.create(division_id="440309", reviewing_level="district")
    from tests.filings.conftest import upload_all

    rep_api = api.as_user(rep)
    fid = rep_api.post("/filings", filing_payload()).json()["id"]
    upload_all(rep_api, fid)
    assert rep_api.post(f"/filings/{fid}/submit").json()["reviewing_division_code"] == "440309"
    assert_error(api.as_user(reviewer).post(f"/review/filings/{fid}/accept"), 404, "not_found")
    assert api.as_user(district_reviewer).post(f"/review/filings/{fid}/accept").status_code == 200


def test_a_submitted_filing_cannot_move_to_another_offices_area(
    api, rep, reviewer, other_reviewer, submitted_filing
):
    Division.objects.create(code="440309002002", name="民乐社区", level=5, parent_id=STREET)
    correction = {"reasons": [{"field": "address", "reason": "地址不全"}]}
    assert (
        api.as_user(reviewer)
        .post(f"/review/filings/{submitted_filing}/request-correction", correction)
        .status_code
        == 200
    )
    rep_api = api.as_user(rep)
    body = assert_error(
        rep_api.patch(f"/filings/{submitted_filing}", {"community": OTHER_COMMUNITY}), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["field"] == "community"
    assert body["details"]["errors"][0]["code"] == "community_outside_jurisdiction"
    # Within the same street it may move; the street's reviewers keep deciding, the other street's never see it.
    r = rep_api.patch(f"/filings/{submitted_filing}", {"community": "440309002002"})
    assert r.status_code == 200 and r.json()["community"] == "440309002002"
    assert rep_api.post(f"/filings/{submitted_filing}/submit").json()["reviewing_division_code"] == STREET
    assert_error(api.as_user(other_reviewer).get(f"/review/filings/{submitted_filing}"), 404, "not_found")


def test_a_draft_moves_freely_and_a_group_filing_stays_in_its_issuing_area(api, rep, reviewer):
    rep_api = api.as_user(rep)
    fid = rep_api.post("/filings", filing_payload()).json()["id"]
    assert (
        rep_api.patch(f"/filings/{fid}", {"community": OTHER_COMMUNITY}).json()["community"]
        == OTHER_COMMUNITY
    )
    group = approved_group(rep, reviewer, name="民治社区晨光舞蹈队")
    change = rep_api.post(f"/orgs/{group.pk}/filings", {"kind": "change"}).json()["id"]
    body = assert_error(
        rep_api.patch(f"/filings/{change}", {"community": OTHER_COMMUNITY}), 422, "validation_error"
    )
    error = body["details"]["errors"][0]
    assert (error["code"], error["jurisdiction"]) == ("community_outside_jurisdiction", STREET)


def test_transitions_outside_the_state_machine_are_409(api, rep, reviewer, submitted_filing):
    rev = api.as_user(reviewer)
    assert_error(
        rev.post(f"/review/filings/{submitted_filing}/approve"), 409, "invalid_transition"
    )  # not accepted yet
    assert rev.post(f"/review/filings/{submitted_filing}/accept").status_code == 200
    assert_error(rev.post(f"/review/filings/{submitted_filing}/accept"), 409, "invalid_transition")
    assert_error(api.as_user(rep).post(f"/filings/{submitted_filing}/submit"), 409, "invalid_transition")
    assert rev.post(f"/review/filings/{submitted_filing}/approve").status_code == 200
    assert_error(api.as_user(rep).post(f"/filings/{submitted_filing}/withdraw"), 409, "invalid_transition")


def test_rejection_needs_reasons_and_is_final(api, rep, reviewer, submitted_filing):
    rev = api.as_user(reviewer)
    body = assert_error(
        rev.post(f"/review/filings/{submitted_filing}/reject", {"reasons": []}), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["code"] == "reasons_required"
    r = rev.post(
        f"/review/filings/{submitted_filing}/reject", {"reasons": [{"reason": "活动内容涉及经营性收费"}]}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    mine = api.as_user(rep).get(f"/filings/{submitted_filing}").json()
    assert mine["reasons"] == [{"field": "", "reason": "活动内容涉及经营性收费"}]
    assert_error(
        api.as_user(rep).patch(f"/filings/{submitted_filing}", {"address": "x"}), 409, "invalid_transition"
    )


def test_withdraw_before_a_decision(api, rep, submitted_filing):
    r = api.as_user(rep).post(f"/filings/{submitted_filing}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def test_bad_inputs_are_clear_errors(api, rep):
    client = api.as_user(rep)
    body = assert_error(client.post("/filings", filing_payload(category="casino")), 422, "validation_error")
    assert body["details"]["errors"][0]["field"] == "category"
    body = assert_error(
        client.post("/filings", filing_payload(community="440309002999")), 422, "invalid_division"
    )
    assert body["details"]["errors"][0]["field"] == "community"
    assert_error(
        client.post("/filings", filing_payload(persons=[{"name": "x", "id_number": "1", "role": "boss"}])),
        422,
        "validation_error",
    )
    assert_error(client.get("/filings/999999"), 404, "not_found")


def test_invalid_phone_is_reported_at_submission(api, rep):
    from tests.filings.conftest import roster, upload_all

    people = roster()
    people[2]["phone"] = "12345"
    client = api.as_user(rep)
    fid = client.post("/filings", filing_payload(persons=people)).json()["id"]
    upload_all(client, fid)
    check = client.get(f"/filings/{fid}/check").json()
    assert check["ok"] is False and check["problems"][0]["field"] == "persons[2].phone"
    body = assert_error(client.post(f"/filings/{fid}/submit"), 422, "filing_incomplete")
    assert [(e["field"], e["code"]) for e in body["details"]["errors"]] == [
        ("persons[2].phone", "invalid_phone")
    ]
