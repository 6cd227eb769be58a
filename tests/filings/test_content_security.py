"""WeChat's content check of the texts a group shows others (name, purpose, area, statement, the
annual report): risky text is refused naming its field before anything is written, text to review
is accepted and flagged for staff, and when WeChat is down the text is accepted and checked later."""

from __future__ import annotations

import pytest

from backend.filings.models import AnnualReport, Filing
from backend.wechat.models import ContentCheck
from backend.wechat.services import security
from tests.factories import UserFactory
from tests.filings import factories
from tests.filings.conftest import filing_payload
from tests.helpers import ApiClient, assert_error
from tests.support.wechat_fixtures import wechat_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def wx_rep(api, wechat, divisions):
    return wechat_person(api, wechat, phone="13700137000", openid="oFilingRep000000000000000000001")


def test_a_risky_group_name_is_refused_naming_the_field_and_nothing_is_filed(wx_rep, wechat):
    r = ApiClient(wx_rep).post("/filings", filing_payload(purpose="组织违禁活动"))
    body = assert_error(r, 422, "content_rejected")
    assert body["details"]["field"] == "purpose"
    assert not Filing.objects.exists()
    checked = {c["content"]: c for c in wechat.calls("wxa/msg_sec_check")}
    assert checked["组织违禁活动"]["openid"] == "oFilingRep000000000000000000001"
    assert checked["组织违禁活动"]["scene"] == security.Scene.PROFILE


def test_the_english_message_names_the_field_too(wx_rep, wechat):
    r = ApiClient(wx_rep, lang="en").post("/filings", filing_payload(name="RISKY 合唱团"))
    body = assert_error(r, 422, "content_rejected")
    assert body["details"]["field"] == "name" and "not allowed" in body["message"]


def test_a_text_to_review_is_accepted_and_flagged_against_the_filing(wx_rep, wechat):
    r = ApiClient(wx_rep).post("/filings", filing_payload(activity_area="民治社区待审区域"))
    assert r.status_code == 201, r.json()
    (row,) = ContentCheck.objects.all()
    assert (row.status, row.field, row.target_id) == ("review", "activity_area", str(r.json()["id"]))
    assert row.flagged and row.target_type.model == "filing"


def test_a_risky_change_leaves_the_draft_as_it_was(wx_rep, wechat):
    client = ApiClient(wx_rep)
    filing_id = client.post("/filings", filing_payload()).json()["id"]
    before = len(wechat.calls("wxa/msg_sec_check"))
    r = client.patch(f"/filings/{filing_id}", {"address": "民治大道1号", "name": "违禁合唱团"})
    assert_error(r, 422, "content_rejected")
    filing = Filing.objects.get(pk=filing_id)
    assert filing.name == "民治社区夕阳红合唱团" and filing.version == 1
    assert filing.address == filing_payload()["address"]
    # Only the fields that change are sent to WeChat (the first risky one ends the check).
    assert [c["content"] for c in wechat.calls("wxa/msg_sec_check")[before:]] == ["违禁合唱团"]


def test_when_wechat_is_down_the_filing_is_kept_and_checked_later(wx_rep, wechat):
    wechat.fail("wxa/msg_sec_check", -1, times=30)
    r = ApiClient(wx_rep).post("/filings", filing_payload(purpose="宗旨违禁"))
    assert r.status_code == 201, r.json()
    pending = ContentCheck.objects.filter(status="pending")
    assert {row.field for row in pending} == {"name", "purpose", "activity_area", "address", "guiding_unit"}
    wechat.state.failures.clear()
    assert security.text_checks_retry() == 5
    (risky,) = ContentCheck.objects.filter(status="risky")
    assert risky.field == "purpose" and risky.flagged and risky.target_id == str(r.json()["id"])


def test_a_risky_statement_of_a_change_filing_is_refused(api, wx_rep, wechat):
    reviewer = UserFactory()
    from backend.accounts.models import Role, ScopeType
    from backend.accounts.services import grant_role
    from tests.filings.conftest import STREET

    grant_role(user=reviewer, role=Role.REVIEWER, scope_type=ScopeType.DIVISION, scope_id=STREET)
    group = factories.approved_group(wx_rep, reviewer)
    r = ApiClient(wx_rep).post(f"/orgs/{group.pk}/filings", {"kind": "change", "statement": "变更违禁"})
    assert assert_error(r, 422, "content_rejected")["details"]["field"] == "statement"
    assert not Filing.objects.filter(kind="change").exists()


def test_a_risky_annual_report_is_refused(wx_rep, wechat):
    reviewer = UserFactory(is_superuser=True)
    from datetime import date

    group = factories.approved_group(wx_rep, reviewer, today=date(2025, 3, 3))
    client = ApiClient(wx_rep)
    report = {"year": 2025, "member_count": 12, "activities_held": 8, "summary": "全年违禁活动"}
    assert_error(client.post(f"/orgs/{group.pk}/annual-reports", report), 422, "content_rejected")
    assert not AnnualReport.objects.exists()
    report["summary"] = "全年开展合唱活动八次"
    assert client.post(f"/orgs/{group.pk}/annual-reports", report).status_code == 201


def test_an_app_users_texts_are_not_sent_to_wechat(api, wechat, divisions):
    r = ApiClient(UserFactory()).post("/filings", filing_payload(purpose="组织违禁活动"))
    assert r.status_code == 201 and wechat.calls("wxa/msg_sec_check") == []


def test_the_refusal_is_documented_on_the_operations_that_check(api):
    doc = api.get("/openapi.json").json()
    for path, method in (
        ("/api/v1/filings", "post"),
        ("/api/v1/filings/{filing_id}", "patch"),
        ("/api/v1/orgs/{group_id}/filings", "post"),
        ("/api/v1/orgs/{group_id}/annual-reports", "post"),
    ):
        assert "content_rejected" in doc["paths"][path][method]["responses"]["422"]["description"], path
