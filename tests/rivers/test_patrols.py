"""Patrols through the API: live recording, offline upload, validity, hours, track and map."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import resolve
from django.utils import timezone
from PIL import Image

from backend.accounts.models import Role, ScopeType
from backend.core.models import AuditLog
from backend.notifications.models import Notification
from backend.rivers import services
from backend.rivers.geo import haversine_m
from backend.rivers.mapimage import END, START, TRACK
from backend.rivers.models import Patrol, PatrolPoint, RiverPhoto, StewardAssignment
from backend.volunteers.models import ServiceRecord
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.rivers import factories as f
from tests.support import signed_media

pytestmark = pytest.mark.django_db


def _batches(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def _record_live(api, user, segment, walk, *, datum="wgs84"):
    client = api.as_user(user)
    r = client.post("/patrols", {"segment_id": segment.pk})
    assert r.status_code == 201, r.json()
    patrol_id = r.json()["id"]
    # Started "an hour ago": the walk's fixes lie within the patrol.
    Patrol.objects.filter(pk=patrol_id).update(started_at=walk.fixes[0].at - timedelta(seconds=30))
    points = [x.json(datum) for x in walk.fixes]
    batches = _batches(points, 50)
    # Batches arrive out of order, and the second batch is sent twice (a retry after a timeout).
    for batch in [batches[1], batches[0], batches[1], *batches[2:]]:
        r = client.post(f"/patrols/{patrol_id}/points", {"datum": datum, "points": batch})
        assert r.status_code == 200, r.json()
    return client, patrol_id


def test_live_patrol_is_measured_validated_and_credits_hours_once(api, segment, chief):
    walk = f.riverside_walk()
    client, patrol_id = _record_live(api, chief, segment, walk)
    assert PatrolPoint.objects.filter(patrol_id=patrol_id).count() == len(walk.fixes)

    r = client.post(f"/patrols/{patrol_id}/finish")
    body = r.json()
    assert r.status_code == 200, body
    assert body["status"] == "finished"
    assert body["is_valid"] is True, body["invalid_reasons"]
    assert body["distance_m"] == pytest.approx(walk.true_length_m, rel=0.03)
    # ≈ 19 minutes of walking, counted from the track itself.
    assert body["duration_s"] == int((walk.fixes[-1].at - walk.fixes[0].at).total_seconds())
    # The teleport and the three poor fixes are not used.
    assert body["points_used"] == len(walk.fixes) - 4
    assert body["policy"] == {"min_duration_s": 600, "min_distance_m": 1000, "division_code": None}

    record = ServiceRecord.objects.get(external_ref=f"patrol:{patrol_id}")
    assert body["service_record"] == {"id": record.pk, "hours": float(record.hours), "status": record.status}
    assert record.source == "patrol" and record.user_id == chief.pk
    assert float(record.hours) == 0.5  # 19 min → 0.5 h by the volunteers' rounding rule
    assert Notification.objects.filter(user=chief, kind="patrol.credited").count() == 1

    # Finishing again is refused and credits nothing more.
    assert_error(client.post(f"/patrols/{patrol_id}/finish"), 409, "patrol_not_recording")
    assert_error(
        client.post(f"/patrols/{patrol_id}/points", {"points": [walk.fixes[0].json()]}),
        409,
        "patrol_not_recording",
    )
    assert ServiceRecord.objects.filter(user=chief).count() == 1


def test_points_batch_reports_duplicates_and_out_of_window_points(api, segment, chief):
    client = api.as_user(chief)
    patrol_id = client.post("/patrols", {"segment_id": segment.pk}).json()["id"]
    now = timezone.now()
    fixes = [
        {"lat": 22.63, "lon": 114.03, "accuracy": 5, "time": (now - timedelta(seconds=s)).isoformat()}
        for s in (3, 2, 1)
    ]
    future = {"lat": 22.63, "lon": 114.03, "accuracy": 5, "time": (now + timedelta(hours=2)).isoformat()}
    r = client.post(f"/patrols/{patrol_id}/points", {"points": [*fixes, fixes[0], future]})
    assert r.json() == {"received": 5, "stored": 3, "duplicates": 0, "rejected": 2, "total": 3}
    r = client.post(f"/patrols/{patrol_id}/points", {"points": fixes})
    assert r.json() == {"received": 3, "stored": 0, "duplicates": 3, "rejected": 0, "total": 3}


def test_oversized_point_batch_is_refused_before_its_points_are_parsed(api, segment, chief, settings):
    settings.LINLI_RIVERS_PATROL_BATCH_MAX_POINTS = 5
    client = api.as_user(chief)
    patrol_id = client.post("/patrols", {"segment_id": segment.pk}).json()["id"]
    now = timezone.now().isoformat()
    # Items that would each fail validation: the list's size is refused first, with its own code.
    bad = [{"lat": 999, "lon": 114.03, "time": now}] * 6
    body = assert_error(
        client.post(f"/patrols/{patrol_id}/points", {"points": bad}), 413, "patrol_too_many_points"
    )
    assert body["details"]["limit"] == 5
    good = [{"lat": 22.63, "lon": 114.03, "time": now}] * 5
    assert client.post(f"/patrols/{patrol_id}/points", {"points": good}).status_code == 200
    assert not PatrolPoint.objects.filter(patrol_id=patrol_id, lat=999).exists()


def test_oversized_offline_upload_is_refused_whole(api, segment, chief, settings):
    settings.LINLI_RIVERS_PATROL_MAX_POINTS = 10
    walk = f.riverside_walk()
    body = _upload_body(segment, walk)
    body["points"] = [{**p, "lat": 999} for p in body["points"]]
    assert_error(api.as_user(chief).post("/patrols:upload", body), 413, "patrol_too_many_points")
    assert not Patrol.objects.filter(user=chief).exists()


def test_gcj02_points_are_stored_in_wgs84(api, segment, chief):
    walk = f.riverside_walk(teleport=False, poor_fixes=0)
    client, patrol_id = _record_live(api, chief, segment, walk, datum="gcj02")
    first = PatrolPoint.objects.filter(patrol_id=patrol_id).order_by("recorded_at").first()
    assert first.datum == "gcj02"
    assert haversine_m(first.lat, first.lon, walk.fixes[0].lat, walk.fixes[0].lon) < 0.05
    body = client.post(f"/patrols/{patrol_id}/finish").json()
    assert body["is_valid"] is True
    assert body["distance_m"] == pytest.approx(walk.true_length_m, rel=0.03)


def test_short_patrol_is_invalid_and_credits_nothing(api, segment, chief):
    walk = f.riverside_walk(length_m=400, teleport=False, poor_fixes=0)
    client, patrol_id = _record_live(api, chief, segment, walk)
    body = client.post(f"/patrols/{patrol_id}/finish").json()
    assert body["is_valid"] is False
    assert body["invalid_reasons"] == ["too_short", "too_little_distance"]
    assert body["service_record"] is None
    assert not ServiceRecord.objects.filter(user=chief).exists()
    assert Notification.objects.filter(user=chief, kind="patrol.invalid").count() == 1


def test_track_far_from_the_segment_is_invalid(api, segment, chief):
    walk = f.riverside_walk(teleport=False, poor_fixes=0)
    for fix in walk.fixes:  # the same walk, 2 km to the west of the river
        fix.lat, fix.lon = f.offset(fix.lat, fix.lon, 0, -2000)
    client, patrol_id = _record_live(api, chief, segment, walk)
    body = client.post(f"/patrols/{patrol_id}/finish").json()
    assert body["invalid_reasons"] == ["off_segment"]


def test_policy_is_set_per_division_and_inherited_down_the_tree(api, segment, chief):
    district_staff = f.handler_of(f.DISTRICT)
    staff = api.as_user(district_staff)
    r = staff.put(f"/rivers/policies/{f.DISTRICT}", {"min_duration_s": 600, "min_distance_m": 2000})
    assert r.json() == {"min_duration_s": 600, "min_distance_m": 2000, "division_code": f.DISTRICT}
    # The street inherits the district's policy.
    assert staff.get(f"/rivers/policies/{f.STREET}").json()["division_code"] == f.DISTRICT

    walk = f.riverside_walk()
    client, patrol_id = _record_live(api, chief, segment, walk)
    body = client.post(f"/patrols/{patrol_id}/finish").json()
    assert body["invalid_reasons"] == ["too_little_distance"]
    assert body["policy"]["min_distance_m"] == 2000

    # A more specific street policy wins.
    street_staff = f.handler_of(f.STREET)
    api.as_user(street_staff).put(
        f"/rivers/policies/{f.STREET}", {"min_duration_s": 300, "min_distance_m": 500}
    )
    walk2 = f.riverside_walk(start=timezone.now().replace(microsecond=0) - timedelta(minutes=30), seed=3)
    client, patrol_id = _record_live(api, chief, segment, walk2)
    body = client.post(f"/patrols/{patrol_id}/finish").json()
    assert body["is_valid"] is True and body["policy"]["division_code"] == f.STREET


def test_policy_may_only_be_set_by_the_divisions_staff(api, segment, coordinator):
    other = f.handler_of(f.OTHER_DISTRICT)
    r = api.as_user(other).put(f"/rivers/policies/{f.STREET}", {"min_duration_s": 1, "min_distance_m": 1})
    assert_error(r, 403, "permission_denied")
    r = api.as_user(coordinator).put(
        f"/rivers/policies/{f.STREET}", {"min_duration_s": 1, "min_distance_m": 1}
    )
    assert_error(r, 403, "permission_denied")


def test_colon_path_routes_to_the_offline_upload():
    match = resolve("/api/v1/patrols:upload")
    assert (match.route, match.url_name) == ("api/v1/patrols:upload", "patrol_upload")
    # …and not to the patrol detail route next to it.
    assert resolve("/api/v1/patrols/3").url_name == "patrol_detail"


def _upload_body(segment, walk, client_id="offline-7f3a", datum="wgs84"):
    return {
        "client_id": client_id,
        "segment_id": segment.pk,
        "started_at": (walk.fixes[0].at - timedelta(seconds=20)).isoformat(),
        "finished_at": (walk.fixes[-1].at + timedelta(seconds=20)).isoformat(),
        "datum": datum,
        "points": [x.json(datum) for x in walk.fixes],
    }


def test_offline_upload_is_idempotent_by_client_id_and_credits_hours_once(api, segment, chief):
    walk = f.riverside_walk()
    client = api.as_user(chief)
    first = client.post("/patrols:upload", _upload_body(segment, walk))
    assert first.status_code == 201, first.json()
    assert first.json()["source"] == "offline" and first.json()["is_valid"] is True
    again = client.post("/patrols:upload", _upload_body(segment, walk))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Patrol.objects.filter(user=chief).count() == 1
    assert PatrolPoint.objects.filter(patrol_id=first.json()["id"]).count() == len(walk.fixes)
    assert ServiceRecord.objects.filter(user=chief, source="patrol").count() == 1
    assert Notification.objects.filter(user=chief, kind="patrol.credited").count() == 1
    # The same client id for another segment is a client bug, not a repeat.
    other = f.river_with_segment()
    StewardAssignment.objects.create(
        segment=other, organisation=segment.assignments.first().organisation, kind="river_chief", user=chief
    )
    assert_error(client.post("/patrols:upload", _upload_body(other, walk)), 409, "client_id_reused")


def test_offline_upload_while_a_live_patrol_records(api, segment, chief):
    client = api.as_user(chief)
    assert client.post("/patrols", {"segment_id": segment.pk}).status_code == 201
    assert_error(client.post("/patrols", {"segment_id": segment.pk}), 409, "patrol_in_progress")
    r = client.post("/patrols:upload", _upload_body(segment, f.riverside_walk()))
    assert r.status_code == 201


def test_live_start_with_client_id_is_idempotent(api, segment, chief):
    client = api.as_user(chief)
    a = client.post("/patrols", {"segment_id": segment.pk, "client_id": "live-1"})
    b = client.post("/patrols", {"segment_id": segment.pk, "client_id": "live-1"})
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["id"] == b.json()["id"]


def test_only_stewards_of_the_segment_may_patrol_it(api, segment, org):
    outsider = f.volunteer()
    assert_error(api.as_user(outsider).post("/patrols", {"segment_id": segment.pk}), 403, "not_a_steward")
    assert_error(
        api.as_user(outsider).post("/patrols:upload", _upload_body(segment, f.riverside_walk())),
        403,
        "not_a_steward",
    )


def test_team_members_patrol_through_their_teams_assignment(api, segment, org, coordinator):
    member = f.volunteer(name="赵河小二")
    coord = api.as_user(coordinator)
    team = coord.post("/rivers/teams", {"organisation_id": org.pk, "name": "民治河小二一队"}).json()
    r = coord.post(f"/rivers/teams/{team['id']}/members", {"user_id": member.pk})
    assert r.json()["members"] == [] and [m["id"] for m in r.json()["invited"]] == [member.pk]
    r = coord.post(
        f"/rivers/segments/{segment.pk}/assignments",
        {"organisation_id": org.pk, "kind": "team", "team_id": team["id"]},
    )
    assert r.status_code == 201, r.json()
    # Invited, not yet a member: no patrol through the team (issue 17: no membership without consent).
    assert api.as_user(member).get("/rivers/assignments/mine").json() == []
    assert_error(api.as_user(member).post("/patrols", {"segment_id": segment.pk}), 403, "not_a_steward")
    answer = api.as_user(member).post(f"/rivers/teams/{team['id']}/membership", {"accept": True})
    assert answer.status_code == 200
    assert_error(
        api.as_user(member).post(f"/rivers/teams/{team['id']}/membership", {"accept": True}),
        409,
        "invalid_transition",
    )
    mine = api.as_user(member).get("/rivers/assignments/mine").json()
    assert [a["segment"]["id"] for a in mine] == [segment.pk]
    r = api.as_user(member).post("/patrols:upload", _upload_body(segment, f.riverside_walk()))
    assert r.status_code == 201 and r.json()["is_valid"] is True
    assert ServiceRecord.objects.get(user=member).organisation_id == org.pk


def test_assignments_are_made_by_the_organisations_coordinators_only(api, segment, org):
    other_org = f.organisation("另一个志愿组织")
    foreign = f.coordinator_of(other_org)
    volunteer = f.volunteer()
    body = {"organisation_id": org.pk, "kind": "river_chief", "user_id": volunteer.pk}
    assert_error(
        api.as_user(foreign).post(f"/rivers/segments/{segment.pk}/assignments", body),
        403,
        "permission_denied",
    )
    not_volunteer = UserFactory()
    coord = api.as_user(f.coordinator_of(org))
    r = coord.post(
        f"/rivers/segments/{segment.pk}/assignments",
        {"organisation_id": org.pk, "kind": "river_chief", "user_id": not_volunteer.pk},
    )
    assert_error(r, 422, "not_a_volunteer")
    r = coord.post(f"/rivers/segments/{segment.pk}/assignments", body)
    assert r.status_code == 201 and r.json()["kind"] == "river_chief"
    assert AuditLog.objects.filter(action="river_steward.assigned", object_id=str(r.json()["id"])).exists()
    assignment_id = r.json()["id"]
    assert coord.post(f"/rivers/assignments/{assignment_id}/end").json()["ended_at"] is not None
    assert_error(api.as_user(volunteer).post("/patrols", {"segment_id": segment.pk}), 403, "not_a_steward")


def test_patrol_detail_has_simplified_geojson_track_and_a_map_image(api, segment, chief, coordinator):
    walk = f.riverside_walk()
    client, patrol_id = _record_live(api, chief, segment, walk)
    client.post(f"/patrols/{patrol_id}/finish")
    body = client.get(f"/patrols/{patrol_id}").json()
    track = body["track"]
    assert track["type"] == "Feature" and track["geometry"]["type"] == "LineString"
    coords = track["geometry"]["coordinates"]
    assert 2 < len(coords) < body["points_used"] / 2
    name = Patrol.objects.get(pk=patrol_id).map_image
    assert name.startswith("rivers/maps/") and body["map_url"].endswith("/" + name)
    with default_storage.open(name, "rb") as handle:
        stored = handle.read()
    # The track is sensitive: the map has no public URL, only a short-lived signed one.
    assert signed_media.fetch_ok(body["map_url"]) == stored
    signed_media.assert_refused_when_altered(body["map_url"])
    response = client.get(f"/patrols/{patrol_id}/map.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content == stored
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert image.size == (320, 240)
    counts = {colour: n for n, colour in image.getcolors(maxcolors=1 << 16)}
    assert counts.get(TRACK, 0) > 300 and counts.get(START, 0) > 20 and counts.get(END, 0) > 20

    # The organisation's coordinator sees it; another volunteer does not even learn it exists.
    assert api.as_user(coordinator).get(f"/patrols/{patrol_id}").status_code == 200
    assert_error(api.as_user(f.volunteer()).get(f"/patrols/{patrol_id}"), 404, "not_found")
    assert_error(
        api.as_user(coordinator).post(f"/patrols/{patrol_id}/points", {"points": [walk.fixes[0].json()]}),
        404,
        "not_found",
    )


def test_recording_patrol_shows_live_figures(api, segment, chief):
    walk = f.riverside_walk(teleport=False, poor_fixes=0)
    client, patrol_id = _record_live(api, chief, segment, walk)
    body = client.get(f"/patrols/{patrol_id}").json()
    assert body["status"] == "recording" and body["map_url"] is None
    assert body["distance_m"] == pytest.approx(walk.true_length_m, rel=0.03)
    assert body["track"]["geometry"]["type"] == "LineString"


def test_patrol_photo_is_stored_without_exif(api, segment, chief):
    client = api.as_user(chief)
    patrol_id = client.post("/patrols", {"segment_id": segment.pk}).json()["id"]
    r = client.upload(f"/patrols/{patrol_id}/photos", {"photo": ("p.jpg", f.jpeg_with_gps(), "image/jpeg")})
    assert r.status_code == 201, r.json()
    assert "gps_evidence" not in r.json() or r.json()["gps_evidence"] is None
    photo = RiverPhoto.objects.get(pk=r.json()["id"])
    with default_storage.open(photo.file, "rb") as handle:
        stored = handle.read()
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825)
    # The mini-program's <image> loads it (and its thumbnail) by the signed URLs alone.
    assert signed_media.fetch_ok(r.json()["url"]) == stored
    assert Image.open(io.BytesIO(signed_media.fetch_ok(r.json()["thumbnail_url"]))).size
    assert r.json()["hidden"] is False


def test_patrol_list_is_paginated_with_constant_queries(
    api, segment, chief, coordinator, django_assert_max_num_queries
):
    walk = f.riverside_walk(length_m=300, teleport=False, poor_fixes=0)
    services.patrol_upload(
        user=chief,
        segment=segment,
        client_id="c-0",
        started_at=walk.fixes[0].at,
        finished_at=walk.fixes[-1].at,
        points=[],
    )
    client = api.as_user(chief)
    with django_assert_max_num_queries(4) as one:
        r = client.get("/patrols")
    queries_for_one = len(one)  # read now: every request resets the query log
    assert len(r.json()["items"]) == 1
    for i in range(1, 30):
        services.patrol_upload(
            user=chief,
            segment=segment,
            client_id=f"c-{i}",
            started_at=walk.fixes[0].at,
            finished_at=walk.fixes[-1].at,
            points=[],
        )
    with django_assert_max_num_queries(queries_for_one):
        r = client.get("/patrols", {"limit": 20})
    assert len(r.json()["items"]) == 20 and r.json()["next_cursor"]
    rest = client.get("/patrols", {"cursor": r.json()["next_cursor"]}).json()
    assert len(rest["items"]) == 10 and rest["next_cursor"] is None
    # Coordinators list their organisation's patrols.
    org_id = segment.assignments.first().organisation_id
    assert (
        len(
            api.as_user(coordinator).get("/patrols", {"organisation_id": org_id, "limit": 50}).json()["items"]
        )
        == 30
    )
    assert_error(api.as_user(f.volunteer()).get("/patrols", {"organisation_id": org_id}), 404, "not_found")


def test_stale_recording_patrol_is_finished_by_the_job(api, segment, chief):
    walk = f.riverside_walk(start=timezone.now().replace(microsecond=0) - timedelta(hours=9))
    _client, patrol_id = _record_live(api, chief, segment, walk)
    Patrol.objects.filter(pk=patrol_id).update(last_point_at=walk.fixes[-1].at)
    from backend.rivers.jobs import finish_stale_patrols

    assert finish_stale_patrols() == 1
    assert finish_stale_patrols() == 0
    patrol = Patrol.objects.get(pk=patrol_id)
    assert patrol.status == "finished" and patrol.is_valid is True
    assert ServiceRecord.objects.filter(external_ref=f"patrol:{patrol_id}").count() == 1


def test_overdue_segments_are_listed_for_coordinators(api, segment, chief, coordinator, org):
    coord = api.as_user(coordinator)
    # Assigned 8 days ago, weekly patrols expected, never patrolled: overdue.
    StewardAssignment.objects.filter(segment=segment).update(created_at=timezone.now() - timedelta(days=8))
    body = coord.get("/rivers/segments/overdue").json()
    assert [o["segment"]["id"] for o in body] == [segment.pk]
    assert body[0]["last_valid_patrol_at"] is None
    # A valid patrol brings it back in time.
    api.as_user(chief).post("/patrols:upload", _upload_body(segment, f.riverside_walk()))
    assert coord.get("/rivers/segments/overdue").json() == []
    # Volunteers without a coordinator grant may not look.
    assert_error(api.as_user(chief).get("/rivers/segments/overdue"), 403, "permission_denied")
    assert Role.COORDINATOR and ScopeType.ORGANISATION  # roles reused, none added


def test_rivers_are_public_and_managed_by_division_staff(api, segment):
    staff = api.as_user(f.handler_of(f.STREET))
    r = staff.post("/rivers", {"name": "大浪河", "division_codes": [f.STREET]})
    assert r.status_code == 201 and r.json()["segment_count"] == 0
    river_id = r.json()["id"]
    line = {"type": "LineString", "coordinates": f.river_line()}
    r = staff.post(
        f"/rivers/{river_id}/segments", {"name": "上游段", "division_code": f.STREET, "geometry": line}
    )
    assert r.status_code == 201 and 1550 < r.json()["length_m"] < 1700
    bad = {"name": "x", "division_code": f.STREET, "geometry": {"type": "Point", "coordinates": [114, 22]}}
    assert_error(staff.post(f"/rivers/{river_id}/segments", bad), 422, "validation_error")
    outsider = api.as_user(f.handler_of(f.OTHER_DISTRICT))
    assert_error(
        outsider.post("/rivers", {"name": "x", "division_codes": [f.STREET]}), 403, "permission_denied"
    )
    listed = api.get("/rivers", {"division": f.DISTRICT}).json()["items"]
    assert {r["id"]: r["segment_count"] for r in listed} == {river_id: 1, segment.river_id: 1}
    detail = api.get(f"/rivers/{river_id}").json()
    assert [s["name"] for s in detail["segments"]] == ["上游段"]
    r = staff.patch(f"/rivers/segments/{detail['segments'][0]['id']}", {"patrol_every_days": 14})
    assert r.json()["patrol_every_days"] == 14


def test_a_volunteer_declines_a_team_invitation_and_others_cannot_answer_for_them(api, org, coordinator):
    member, stranger = f.volunteer(), f.volunteer()
    coord = api.as_user(coordinator)
    team = coord.post("/rivers/teams", {"organisation_id": org.pk, "name": "民治河小二二队"}).json()
    coord.post(f"/rivers/teams/{team['id']}/members", {"user_id": member.pk})
    path = f"/rivers/teams/{team['id']}/membership"
    assert_error(api.as_user(stranger).post(path, {"accept": True}), 404, "not_found")
    assert_error(api.as_user(coordinator).post(path, {"accept": True}), 404, "not_found")
    assert api.as_user(member).post(path, {"accept": False}).status_code == 200
    listed = coord.get("/rivers/teams", {"organisation_id": org.pk}).json()
    assert listed[0]["members"] == [] and listed[0]["invited"] == []
