"""River issue reports: the workflow with permissions per role, notifications and audit, photo
privacy, SLA and overdue flagging, the public view."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from backend.core.models import AuditLog
from backend.notifications.models import Notification
from backend.rivers.jobs import flag_overdue_issues
from backend.rivers.models import RiverIssue, RiverPhoto
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.rivers import factories as f

pytestmark = pytest.mark.django_db

GPS = (22.6412, 114.0488)  # where the camera was, apart from the reported spot


def _report(api, reporter, segment, **extra):
    body = {
        "type": "sewage_discharge",
        "lat": 22.63012345,
        "lon": 114.03256789,
        "description": "排污口有黑色污水流入河道，气味刺鼻。",
        "segment_id": segment.pk,
        **extra,
    }
    r = api.as_user(reporter).post("/river-issues", body)
    assert r.status_code == 201, r.json()
    return r.json()


def _photo(api, user, issue_id, data=None):
    return api.as_user(user).upload(
        f"/river-issues/{issue_id}/photos", {"photo": ("x.jpg", data or f.jpeg_with_gps(*GPS), "image/jpeg")}
    )


def _kinds(user):
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def reporter(db):
    return UserFactory(display_name="陈小明")


def test_full_workflow_with_permissions_notifications_and_audit(
    api, segment, chief, handler, reporter, coordinator
):
    issue = _report(api, reporter, segment)
    issue_id = issue["id"]
    assert issue["status"] == "reported" and issue["division_code"] == f.STREET
    # SLA for illegal discharge: 2 days.
    due = RiverIssue.objects.get(pk=issue_id)
    assert due.due_at - due.reported_at == timedelta(days=2)
    assert _kinds(handler) == ["river_issue.reported"]

    staff = api.as_user(handler)
    # Not the handler: a coordinator and the staff of another district never see the issue.
    other_staff = f.handler_of(f.OTHER_DISTRICT)
    for outsider in (coordinator, other_staff):
        assert_error(api.as_user(outsider).post(f"/river-issues/{issue_id}/accept"), 404, "not_found")
    # The reporter sees it but may not accept it.
    assert_error(api.as_user(reporter).post(f"/river-issues/{issue_id}/accept"), 403, "permission_denied")
    # Closing a fresh report skips steps.
    assert_error(staff.post(f"/river-issues/{issue_id}/close"), 409, "invalid_transition")

    body = staff.post(f"/river-issues/{issue_id}/accept").json()
    assert body["status"] == "accepted" and "assign" in body["actions"]
    assert "river_issue.accepted" in _kinds(reporter)

    # Assign only to a handler of the division.
    r = staff.post(f"/river-issues/{issue_id}/assign", {"assignee_id": coordinator.pk})
    assert_error(r, 422, "not_a_handler")
    worker = f.handler_of(f.STREET, display_name="刘执法")
    body = staff.post(f"/river-issues/{issue_id}/assign", {"assignee_id": worker.pk}).json()
    assert body["status"] == "assigned" and body["assignee"]["id"] == worker.pk
    assert _kinds(worker) == ["river_issue.assigned"]  # created after the report
    assert Notification.objects.get(user=worker, kind="river_issue.assigned").urgent is True

    # Only the assignee resolves, and only with a photo of the result.
    assert_error(
        staff.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已封堵"}), 403, "permission_denied"
    )
    done = api.as_user(worker)
    assert_error(
        done.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已封堵"}),
        422,
        "resolution_photo_required",
    )
    r = _photo(api, worker, issue_id)
    assert r.status_code == 201 and r.json()["role"] == "resolution"
    body = done.post(f"/river-issues/{issue_id}/resolve", {"resolution": "排污口已封堵，责令整改。"}).json()
    assert body["status"] == "resolved"
    # The reporter and the segment's river chief are asked to verify.
    assert "river_issue.resolved" in _kinds(reporter) and "river_issue.resolved" in _kinds(chief)

    # Verification: reporter or river chief; the coordinator is refused.
    assert_error(
        api.as_user(coordinator).post(f"/river-issues/{issue_id}/verify", {"confirmed": True}),
        404,
        "not_found",
    )
    body = api.as_user(chief).post(f"/river-issues/{issue_id}/verify", {"confirmed": True}).json()
    assert body["status"] == "verified"
    assert "river_issue.verified" in _kinds(worker)

    body = staff.post(f"/river-issues/{issue_id}/close").json()
    assert body["status"] == "closed" and body["closed_at"]
    assert _kinds(reporter)[-1] == "river_issue.closed"

    actions = list(
        AuditLog.objects.filter(object_type="rivers.riverissue", object_id=str(issue_id))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "river_issue.reported",
        "river_issue.accepted",
        "river_issue.assigned",
        "river_issue.resolved",
        "river_issue.verified",
        "river_issue.closed",
    ]


def test_failed_verification_sends_the_issue_back_to_the_assignee(api, segment, handler, reporter):
    issue_id = _report(api, reporter, segment)["id"]
    staff = api.as_user(handler)
    staff.post(f"/river-issues/{issue_id}/accept")
    staff.post(f"/river-issues/{issue_id}/assign", {"assignee_id": handler.pk})
    _photo(api, handler, issue_id)
    staff.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已清理"})
    mine = api.as_user(reporter)
    assert_error(mine.post(f"/river-issues/{issue_id}/verify", {"confirmed": False}), 422, "validation_error")
    body = mine.post(f"/river-issues/{issue_id}/verify", {"confirmed": False, "note": "污水仍在流出"}).json()
    assert body["status"] == "assigned" and body["resolved_at"] is None
    assert "river_issue.reopened" in _kinds(handler)


def test_rejection_needs_a_reason_and_tells_the_reporter(api, segment, handler, reporter):
    issue_id = _report(api, reporter, segment, type="other")["id"]
    staff = api.as_user(handler)
    assert_error(staff.post(f"/river-issues/{issue_id}/reject", {"reason": ""}), 422, "validation_error")
    body = staff.post(f"/river-issues/{issue_id}/reject", {"reason": "非河道管理范围，已转城管"}).json()
    assert body["status"] == "rejected" and body["rejected_reason"] == "非河道管理范围，已转城管"
    note = Notification.objects.get(user=reporter, kind="river_issue.rejected")
    assert "已转城管" in note.body
    assert AuditLog.objects.get(action="river_issue.rejected").reason == "非河道管理范围，已转城管"
    assert_error(staff.post(f"/river-issues/{issue_id}/accept"), 409, "invalid_transition")


def test_report_during_a_patrol_and_on_a_river_picks_the_segment(api, segment, chief, reporter):
    from backend.rivers import services

    walk = f.riverside_walk(length_m=300, teleport=False, poor_fixes=0)
    patrol, _ = services.patrol_upload(
        user=chief,
        segment=segment,
        client_id="p1",
        started_at=walk.fixes[0].at,
        finished_at=walk.fixes[-1].at,
        points=[],
    )
    body = _report(api, chief, segment, segment_id=None, patrol_id=patrol.pk, type="garbage_dumping")
    assert body["patrol_id"] == patrol.pk and body["segment"]["id"] == segment.pk
    # Someone else's patrol is not found.
    r = api.as_user(reporter).post(
        "/river-issues",
        {"type": "other", "lat": 22.63, "lon": 114.03, "description": "x", "patrol_id": patrol.pk},
    )
    assert_error(r, 404, "not_found")
    # On a river: the nearest segment is taken; GCJ-02 locations are stored in WGS-84.
    from backend.rivers.geo import wgs84_to_gcj02

    glat, glon = wgs84_to_gcj02(*f.offset(*f.ORIGIN, 600, 40))
    body = _report(
        api, reporter, segment, segment_id=None, river_id=segment.river_id, lat=glat, lon=glon, datum="gcj02"
    )
    assert body["segment"]["id"] == segment.pk
    lat, lon = f.offset(*f.ORIGIN, 600, 40)
    assert body["lat"] == pytest.approx(lat, abs=1e-6) and body["lon"] == pytest.approx(lon, abs=1e-6)


def test_photo_is_stored_without_gps_and_the_evidence_is_for_handlers_only(
    api, segment, chief, handler, reporter
):
    issue_id = _report(api, reporter, segment)["id"]
    r = _photo(api, reporter, issue_id)
    assert r.status_code == 201, r.json()
    assert "gps_evidence" not in r.json() or r.json()["gps_evidence"] is None
    photo = RiverPhoto.objects.get(issue_id=issue_id)
    # Stored bytes (photo and thumbnail): re-encoded, no EXIF at all, no GPS.
    for name in (photo.file, photo.thumbnail):
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
        image = Image.open(io.BytesIO(data))
        assert not image.getexif().get_ifd(0x8825)
        assert b"Exif" not in data[:4096]
    # The position is kept sealed: not readable from the row either.
    assert photo.gps_sealed and "22.64" not in photo.gps_sealed

    def evidence(user):
        body = api.as_user(user).get(f"/river-issues/{issue_id}").json()
        return [p.get("gps_evidence") for p in body["photos"]]

    handler_view = evidence(handler)
    assert handler_view[0]["lat"] == pytest.approx(GPS[0], abs=1e-5)
    assert handler_view[0]["lon"] == pytest.approx(GPS[1], abs=1e-5)
    assert evidence(reporter) == [None]
    assert evidence(chief) == [None]
    # Not in lists, nor in the public view.
    listed = api.as_user(handler).get("/river-issues", {"scope": "division"}).json()
    assert "photos" not in listed["items"][0] and "22.6412" not in json.dumps(listed)


def test_reporter_identity_is_masked_for_non_handlers(api, segment, chief, handler, reporter):
    issue_id = _report(api, reporter, segment)["id"]
    as_chief = api.as_user(chief).get(f"/river-issues/{issue_id}").json()["reporter"]
    assert as_chief == {"id": None, "name": "陈*明", "phone": None}
    as_handler = api.as_user(handler).get(f"/river-issues/{issue_id}").json()["reporter"]
    assert as_handler["id"] == reporter.pk and as_handler["name"] == "陈小明"
    assert as_handler["phone"] == reporter.phone[:3] + "****" + reporter.phone[-4:]


def test_photo_upload_refuses_non_images_and_other_users(api, segment, handler, reporter):
    issue_id = _report(api, reporter, segment)["id"]
    r = _photo(api, reporter, issue_id, data=b"%PDF-1.7\n...%%EOF")
    assert_error(r, 415, "unsupported_media_type")
    # The handler has nothing to add before being assigned.
    assert_error(_photo(api, handler, issue_id), 409, "invalid_transition")
    stranger = UserFactory()
    assert_error(_photo(api, stranger, issue_id), 404, "not_found")


def _close(api, segment, handler, reporter, **extra):
    issue_id = _report(api, reporter, segment, **extra)["id"]
    staff = api.as_user(handler)
    staff.post(f"/river-issues/{issue_id}/accept")
    staff.post(f"/river-issues/{issue_id}/assign", {"assignee_id": handler.pk})
    _photo(api, handler, issue_id)
    staff.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已处理"})
    api.as_user(reporter).post(f"/river-issues/{issue_id}/verify", {"confirmed": True})
    assert staff.post(f"/river-issues/{issue_id}/close").json()["status"] == "closed"
    return issue_id


def test_public_view_lists_closed_issues_with_rounded_locations_and_no_reporter(
    api, segment, handler, reporter
):
    closed_id = _close(api, segment, handler, reporter)
    open_id = _report(api, reporter, segment)["id"]
    r = api.get(f"/rivers/{segment.river_id}/issues")  # no token
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["id"] for i in items] == [closed_id] and open_id != closed_id
    item = items[0]
    assert set(item) == {"id", "type", "type_label", "segment", "lat", "lon", "reported_on", "closed_on"}
    assert (item["lat"], item["lon"]) == (22.63, 114.033)
    text = json.dumps(r.json(), ensure_ascii=False)
    assert reporter.display_name not in text and reporter.phone not in text and "排污口" not in text
    # Another river's public list is empty.
    other = f.river_with_segment()
    assert api.get(f"/rivers/{other.river_id}/issues").json()["items"] == []


def test_overdue_issues_are_flagged_once_and_their_holder_told(api, segment, handler, reporter):
    late_id = _report(api, reporter, segment, type="illegal_fishing")["id"]
    fresh_id = _report(api, reporter, segment, type="facility_damage")["id"]
    RiverIssue.objects.filter(pk=late_id).update(due_at=timezone.now() - timedelta(hours=1))
    assert flag_overdue_issues() == 1
    assert flag_overdue_issues() == 0
    assert Notification.objects.filter(user=handler, kind="river_issue.overdue").count() == 1
    body = api.as_user(handler).get(f"/river-issues/{late_id}").json()
    assert body["is_overdue"] is True
    assert api.as_user(handler).get(f"/river-issues/{fresh_id}").json()["is_overdue"] is False
    assert AuditLog.objects.filter(action="river_issue.overdue", object_id=str(late_id)).count() == 1


def test_sla_dates_follow_the_type(api, segment, reporter, settings):
    settings.LINLI_RIVERS_ISSUE_SLA_DAYS = {"garbage_dumping": 4}
    for kind, days in (("illegal_fishing", 1), ("garbage_dumping", 4), ("facility_damage", 7)):
        issue = RiverIssue.objects.get(pk=_report(api, reporter, segment, type=kind)["id"])
        assert issue.due_at - issue.reported_at == timedelta(days=days)


def test_bad_reports_are_refused_with_field_errors(api, segment, reporter):
    client = api.as_user(reporter)
    r = client.post(
        "/river-issues",
        {"type": "littering", "lat": 22.6, "lon": 114.0, "description": "x", "segment_id": segment.pk},
    )
    assert_error(r, 422, "validation_error")
    r = client.post(
        "/river-issues",
        {"type": "other", "lat": 95, "lon": 114.0, "description": "x", "segment_id": segment.pk},
    )
    assert_error(r, 422, "validation_error")
    r = client.post("/river-issues", {"type": "other", "lat": 22.6, "lon": 114.0, "description": "x"})
    body = assert_error(r, 422, "validation_error")
    assert body["details"]["errors"][0]["field"] == "segment_id"
    assert not RiverIssue.objects.exists()


def test_issue_lists_are_scoped_and_run_constant_queries(
    api, segment, handler, reporter, django_assert_max_num_queries
):
    _report(api, reporter, segment)
    staff = api.as_user(handler)
    with django_assert_max_num_queries(5) as one:
        assert len(staff.get("/river-issues", {"scope": "division"}).json()["items"]) == 1
    queries_for_one = len(one)  # read now: every request resets the query log
    for _ in range(25):
        _report(api, reporter, segment, type="garbage_dumping")
    with django_assert_max_num_queries(queries_for_one):
        page = staff.get("/river-issues", {"scope": "division", "limit": 20}).json()
    assert len(page["items"]) == 20 and page["next_cursor"]
    assert len(api.as_user(reporter).get("/river-issues", {"limit": 50}).json()["items"]) == 26
    other_staff = f.handler_of(f.OTHER_DISTRICT)
    assert api.as_user(other_staff).get("/river-issues", {"scope": "division"}).json()["items"] == []
    assert_error(staff.get("/river-issues", {"cursor": "!!"}), 422, "validation_error")
