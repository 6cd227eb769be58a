"""WeChat's content check of what volunteers read: activity titles, descriptions, places and
recipients (forum scene), and the free text of a volunteer's profile (profile scene)."""

from __future__ import annotations

from datetime import date

import pytest

from backend.volunteers.models import Activity, VolunteerProfile
from backend.wechat.models import ContentCheck
from backend.wechat.services import security
from tests.helpers import ApiClient, assert_error
from tests.support.wechat_fixtures import wechat_person
from tests.volunteers import factories as f
from tests.volunteers.test_profile import payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def wx_coordinator(api, wechat, org):
    from backend.accounts.models import Role, ScopeType
    from backend.accounts.services import grant_role

    user = wechat_person(api, wechat, phone="13700137001", openid="oCoordinator0000000000000000001")
    grant_role(user=user, role=Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=str(org.pk))
    return user


def activity_payload(org, **extra) -> dict:
    body = {
        "organisation_id": org.pk,
        "programme": "red_vest",
        "title": "周末敬老探访",
        "description": "陪伴社区长者聊天、读报。",
        "division_code": f.STREET,
    }
    body.update(extra)
    return body


def test_a_risky_activity_description_is_refused_and_nothing_is_created(wx_coordinator, org, wechat):
    r = ApiClient(wx_coordinator).post("/activities", activity_payload(org, description="内含违禁内容"))
    assert assert_error(r, 422, "content_rejected")["details"]["field"] == "description"
    assert not Activity.objects.exists()
    (call,) = [c for c in wechat.calls("wxa/msg_sec_check") if "违禁" in c["content"]]
    assert call["scene"] == security.Scene.FORUM and call["openid"] == "oCoordinator0000000000000000001"


def test_an_activity_title_to_review_is_published_and_flagged(wx_coordinator, org, wechat):
    r = ApiClient(wx_coordinator).post("/activities", activity_payload(org, title="河道清理待审"))
    assert r.status_code == 201, r.json()
    (row,) = ContentCheck.objects.all()
    assert (row.field, row.status, row.target_id) == ("title", "review", str(r.json()["id"]))


def test_risky_profile_free_text_is_refused(api, wechat):
    user = wechat_person(api, wechat, phone="13700137002", openid="oVolunteer00000000000000000001")
    number = f.id_number(date(1990, 5, 1))
    r = ApiClient(user).put("/volunteer/profile", payload(number, skills=["急救", "违禁技能"]))
    body = assert_error(r, 422, "content_rejected")
    assert body["details"]["field"] == "skills"
    assert not VolunteerProfile.objects.exists()
    (call,) = [c for c in wechat.calls("wxa/msg_sec_check") if "违禁" in c["content"]]
    assert call["content"] == "急救、违禁技能" and call["scene"] == security.Scene.PROFILE
    ok = ApiClient(user).put("/volunteer/profile", payload(number, skills=["急救"]))
    assert ok.status_code == 200, ok.json()


def test_profile_text_checked_later_when_wechat_is_down(api, wechat):
    user = wechat_person(api, wechat, phone="13700137003", openid="oVolunteer00000000000000000002")
    wechat.fail("wxa/msg_sec_check", -1, times=10)
    number = f.id_number(date(1990, 5, 1))
    r = ApiClient(user).put("/volunteer/profile", payload(number, available_times=["周六上午"]))
    assert r.status_code == 200, r.json()
    profile = VolunteerProfile.objects.get(user=user)
    pending = ContentCheck.objects.filter(status="pending", target_id=str(profile.pk))
    assert {row.field for row in pending} == {"skills", "service_categories", "available_times"}


def test_the_refusal_is_documented(api):
    doc = api.get("/openapi.json").json()["paths"]
    assert "content_rejected" in doc["/api/v1/activities"]["post"]["responses"]["422"]["description"]
    assert "content_rejected" in doc["/api/v1/volunteer/profile"]["put"]["responses"]["422"]["description"]
