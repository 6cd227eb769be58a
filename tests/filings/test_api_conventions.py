"""Mobile retries and languages on the filings endpoints."""

from __future__ import annotations

from backend.filings.models import Filing, FilingEvent
from tests.filings.conftest import filing_payload
from tests.helpers import assert_error


def test_retried_create_with_idempotency_key_makes_one_draft(api, rep):
    client = api.as_user(rep)
    headers = {"Idempotency-Key": "create-1"}
    first = client.post("/filings", filing_payload(), headers=headers)
    again = client.post("/filings", filing_payload(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Filing.objects.count() == 1


def test_retried_approval_replays_instead_of_failing(api, reviewer, submitted_filing):
    client = api.as_user(reviewer)
    assert client.post(f"/review/filings/{submitted_filing}/accept").status_code == 200
    headers = {"Idempotency-Key": "approve-1"}
    first = client.post(f"/review/filings/{submitted_filing}/approve", headers=headers)
    again = client.post(f"/review/filings/{submitted_filing}/approve", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json()["filing_number"] == first.json()["filing_number"]
    assert FilingEvent.objects.filter(filing_id=submitted_filing, action="approve").count() == 1


def test_submission_problems_in_english(api, rep):
    client = api.as_user(rep, lang="en")
    fid = client.post("/filings", filing_payload(persons=[])).json()["id"]
    body = assert_error(client.post(f"/filings/{fid}/submit"), 422, "filing_incomplete")
    assert body["message"].startswith("The filing is incomplete")
    members = next(e for e in body["details"]["errors"] if e["code"] == "too_few_members")
    assert members["message"] == "At least 10 members are required." and members["minimum"] == 10
