"""WeChat's content security on the rivers domain: issue descriptions, resolutions and notes
checked before they are stored; photos checked after they are stored, a risky one hidden from
everyone but staff (the division's handlers for issues, the organisation's coordinators for
patrols), with constant queries."""

from __future__ import annotations

import urllib.parse

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from backend.notifications.models import Notification
from backend.rivers.models import RiverIssue, RiverPhoto, StewardAssignment
from backend.wechat.models import ContentCheck
from backend.wechat.services import security
from tests.helpers import ApiClient, assert_error
from tests.rivers import factories as f
from tests.support import signed_media
from tests.support.wechat_fixtures import MSG_TOKEN, wechat_person

pytestmark = pytest.mark.django_db

OPENID = "oRiverReporter0000000000000001"


@pytest.fixture
def wx_reporter(api, wechat):
    return wechat_person(api, wechat, phone="13700137010", openid=OPENID)


def report(user, segment, **extra) -> dict:
    body = {
        "type": "garbage_dumping",
        "lat": 22.6301,
        "lon": 114.0321,
        "description": "河岸边有人倾倒建筑垃圾。",
        "segment_id": segment.pk,
        **extra,
    }
    return ApiClient(user).post("/river-issues", body)


def upload(user, path: str, capture) -> dict:
    with capture(execute=True):  # the image goes to WeChat after the commit
        r = ApiClient(user).upload(path, {"photo": ("p.jpg", f.jpeg_with_gps(), "image/jpeg")})
    assert r.status_code == 201, r.json()
    return r.json()


def verdict(standin, photo_id: int, suggest: str) -> None:
    check = ContentCheck.objects.get(kind="image", target_id=str(photo_id))
    params, body = standin.media_verdict(check.trace_id, suggest, msg_token=MSG_TOKEN)
    response = Client().post(
        f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content


def test_a_risky_issue_description_is_refused_before_anything_is_stored(wx_reporter, segment, wechat):
    body = assert_error(report(wx_reporter, segment, description="河边有违禁物品"), 422, "content_rejected")
    assert body["details"]["field"] == "description"
    assert not RiverIssue.objects.exists()
    (call,) = wechat.calls("wxa/msg_sec_check")
    assert call["openid"] == OPENID and call["scene"] == security.Scene.FORUM


def test_a_description_to_review_is_reported_and_flagged(wx_reporter, segment, handler, wechat):
    r = report(wx_reporter, segment, description="河边垃圾待审")
    assert r.status_code == 201, r.json()
    (row,) = ContentCheck.objects.all()
    assert (row.field, row.status, row.target_id) == ("description", "review", str(r.json()["id"]))


def test_a_risky_resolution_leaves_the_issue_assigned(
    api, segment, handler, wechat, django_capture_on_commit_callbacks
):
    from backend.rivers import services

    reporter = f.volunteer()
    wx_handler = wechat_person(api, wechat, phone="13700137011", openid="oRiverHandler00000000000000001")
    f.grant(wx_handler, "reviewer", "division", f.STREET)
    issue_id = report(reporter, segment).json()["id"]
    issue = RiverIssue.objects.get(pk=issue_id)
    services.river_issue_accept(issue=issue, actor=handler)
    services.river_issue_assign(issue=issue, actor=handler, assignee=wx_handler)
    upload(wx_handler, f"/river-issues/{issue_id}/photos", django_capture_on_commit_callbacks)
    client = ApiClient(wx_handler)
    r = client.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已清理违禁物品"})
    assert assert_error(r, 422, "content_rejected")["details"]["field"] == "resolution"
    assert RiverIssue.objects.get(pk=issue_id).status == "assigned"
    r = client.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已清理完毕"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"


def test_a_photo_goes_to_wechat_which_can_download_it(
    wx_reporter, segment, wechat, django_capture_on_commit_callbacks
):
    issue_id = report(wx_reporter, segment).json()["id"]
    shown = upload(wx_reporter, f"/river-issues/{issue_id}/photos", django_capture_on_commit_callbacks)
    (call,) = wechat.calls("wxa/media_check_async")
    assert call["openid"] == OPENID and call["media_type"] == 2
    photo = RiverPhoto.objects.get(pk=shown["id"])
    status, body, content_type = signed_media.fetch(call["media_url"])
    assert status == 200 and content_type == "image/jpeg"
    with default_storage.open(photo.file, "rb") as handle:
        assert body == handle.read()


def test_a_risky_issue_photo_is_hidden_from_all_but_the_handlers(
    api, wx_reporter, segment, handler, chief, wechat, django_capture_on_commit_callbacks
):
    issue_id = report(wx_reporter, segment).json()["id"]
    risky = upload(wx_reporter, f"/river-issues/{issue_id}/photos", django_capture_on_commit_callbacks)
    fine = upload(wx_reporter, f"/river-issues/{issue_id}/photos", django_capture_on_commit_callbacks)
    verdict(wechat, risky["id"], "risky")
    verdict(wechat, fine["id"], "pass")

    for viewer in (wx_reporter, chief):  # the uploader and a river chief: not staff
        photos = ApiClient(viewer).get(f"/river-issues/{issue_id}").json()["photos"]
        assert [p["id"] for p in photos] == [fine["id"]], viewer
    photos = ApiClient(handler).get(f"/river-issues/{issue_id}").json()["photos"]
    assert [(p["id"], p["hidden"]) for p in photos] == [(risky["id"], True), (fine["id"], False)]
    assert signed_media.fetch_ok(photos[0]["url"])  # staff can look at it
    assert Notification.objects.filter(user=wx_reporter, kind="wechat.image_rejected").count() == 1


def test_the_issue_detail_runs_the_same_queries_for_1_and_4_photos(
    wx_reporter, segment, handler, wechat, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    issue_id = report(wx_reporter, segment).json()["id"]
    path = f"/river-issues/{issue_id}/photos"
    upload(wx_reporter, path, django_capture_on_commit_callbacks)
    staff = ApiClient(handler)
    with django_assert_max_num_queries(50) as one:
        staff.get(f"/river-issues/{issue_id}")
    queries_for_one = len(one)
    for _ in range(3):
        verdict(wechat, upload(wx_reporter, path, django_capture_on_commit_callbacks)["id"], "risky")
    with django_assert_max_num_queries(queries_for_one):
        assert len(staff.get(f"/river-issues/{issue_id}").json()["photos"]) == 4


def test_a_risky_patrol_photo_is_hidden_from_the_patroller_not_the_coordinator(
    api, segment, org, coordinator, wechat, django_capture_on_commit_callbacks
):
    patroller = wechat_person(api, wechat, phone="13700137012", openid="oRiverPatroller000000000000001")
    StewardAssignment.objects.create(
        segment=segment, organisation=org, kind=StewardAssignment.Kind.RIVER_CHIEF, user=patroller
    )
    client = ApiClient(patroller)
    patrol_id = client.post("/patrols", {"segment_id": segment.pk}).json()["id"]
    photo = upload(patroller, f"/patrols/{patrol_id}/photos", django_capture_on_commit_callbacks)
    verdict(wechat, photo["id"], "risky")
    assert client.get(f"/patrols/{patrol_id}").json()["photos"] == []
    shown = ApiClient(coordinator).get(f"/patrols/{patrol_id}").json()["photos"]
    assert [(p["id"], p["hidden"]) for p in shown] == [(photo["id"], True)]


def test_a_photo_by_an_app_user_stays_visible_and_is_marked_unchecked(
    segment, chief, wechat, django_capture_on_commit_callbacks
):
    reporter = f.volunteer()  # no WeChat identity
    issue_id = report(reporter, segment).json()["id"]
    photo = upload(reporter, f"/river-issues/{issue_id}/photos", django_capture_on_commit_callbacks)
    assert wechat.calls("wxa/media_check_async") == []
    assert ContentCheck.objects.get(kind="image").status == "unchecked"
    assert [p["id"] for p in ApiClient(reporter).get(f"/river-issues/{issue_id}").json()["photos"]] == [
        photo["id"]
    ]
