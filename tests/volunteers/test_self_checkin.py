"""Geofenced self check-in through the API: the coordinator's rotating QR, the volunteer's scan with
a location (GCJ-02 accepted), each refusal's code, and hours by the activity's hours mode."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.core.geo import gcj02_to_wgs84, wgs84_to_gcj02
from backend.core.geo import haversine_m as distance_m
from backend.volunteers.models import SelfCheckin, ServicePost, Shift, Signup
from backend.volunteers.services import checkin_qr, self_checkins_close
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
POST = (22.6583, 114.0305)  # WGS-84, 民治


def _running_shift(org, mode: str, vol, api, *, started_ago=timedelta(minutes=10)):
    post = ServicePost.objects.create(
        name="民治U站", division=f.divisions(), latitude=Decimal(str(POST[0])), longitude=Decimal(str(POST[1])),
        geofence_radius_m=150,
    )  # fmt: skip
    shift = f.shift(f.activity(org, post=post, hours_mode=mode), capacity=3)
    assert api.as_user(vol).post(f"/shifts/{shift.pk}/signups").json()["status"] == "confirmed"
    start = timezone.now().replace(microsecond=0) - started_ago
    Shift.objects.filter(pk=shift.pk).update(starts_at=start, ends_at=start + timedelta(hours=3))
    shift.refresh_from_db()
    return shift


def _qr(api, coordinator, shift) -> str:
    response = api.as_user(coordinator).get(f"/shifts/{shift.pk}/checkin-qr")
    assert response.status_code == 200 and 30 <= response.json()["rotates_every"] <= 60
    return response.json()["payload"]


def _scan(api, vol, shift, payload, point, *, coord="gcj02", kind="in"):
    lat, lon = wgs84_to_gcj02(*point) if coord == "gcj02" else point
    body = {"payload": payload, "latitude": lat, "longitude": lon, "coord": coord, "kind": kind}
    return api.as_user(vol).post(f"/shifts/{shift.pk}/self-checkin", body)


def test_gcj02_conversion_round_trips_and_is_hundreds_of_metres_in_shenzhen():
    gcj = wgs84_to_gcj02(*POST)
    assert 300 < distance_m(*POST, *gcj) < 800
    back = gcj02_to_wgs84(*gcj)
    assert distance_m(*POST, *back) < 0.05
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)  # no offset outside China


def test_check_in_and_out_credits_hours_through_attendance(api, org, coordinator, vol):
    shift = _running_shift(org, "self_checkin_checkout", vol, api, started_ago=timedelta(hours=2))
    near = (POST[0] + 0.0005, POST[1])  # about 55 m north
    checked_in = _scan(api, vol, shift, _qr(api, coordinator, shift), near)
    assert checked_in.status_code == 201 and checked_in.json()["result"] == "ok"
    assert 40 < checked_in.json()["distance_m"] < 70 and checked_in.json()["record_id"] is None
    assert _scan(api, vol, shift, _qr(api, coordinator, shift), near).json()["id"] == checked_in.json()["id"]
    SelfCheckin.objects.filter(pk=checked_in.json()["id"]).update(at=shift.starts_at + timedelta(minutes=5))
    out = _scan(api, vol, shift, _qr(api, coordinator, shift), near, kind="out")
    assert out.status_code == 201 and out.json()["record_id"] and out.json()["hours"] == "2.0"
    signup = Signup.objects.get(shift=shift, user=vol)
    assert signup.status == "attended"
    assert signup.service_records.get().external_ref == f"self:{signup.pk}"


def test_each_refusal_has_its_code_and_is_kept(api, org, coordinator, vol):
    shift = _running_shift(org, "self_checkin_checkout", vol, api)
    qr = _qr(api, coordinator, shift)
    far = (POST[0] + 0.01, POST[1])  # about 1.1 km
    body = assert_error(_scan(api, vol, shift, qr, far), 409, "outside_geofence")
    assert body["details"]["radius_m"] == 150 and body["details"]["distance_m"] > 1000
    # GCJ-02 numbers sent as if WGS-84 land about 600 m off: the conversion is what lets them in.
    gcj = wgs84_to_gcj02(*POST)
    assert_error(_scan(api, vol, shift, qr, gcj, coord="wgs84"), 409, "outside_geofence")
    assert_error(_scan(api, vol, shift, qr[:-1] + ("A" if qr[-1] != "A" else "B"), POST), 409, "qr_invalid")
    other = _running_shift(org, "self_checkin_checkout", f.volunteer(), api)
    assert_error(_scan(api, vol, shift, _qr(api, coordinator, other), POST), 409, "qr_invalid")
    old = checkin_qr(shift=shift, now=timezone.now() - timedelta(minutes=3)).payload
    assert_error(_scan(api, vol, shift, old, POST), 409, "qr_expired")
    assert_error(_scan(api, vol, shift, qr, POST, kind="out"), 409, "not_checked_in")
    assert_error(_scan(api, f.volunteer(), shift, qr, POST), 409, "not_signed_up")
    kept = list(SelfCheckin.objects.filter(shift=shift).values_list("result", flat=True))
    assert kept == [
        "outside_geofence",
        "outside_geofence",
        "qr_invalid",
        "qr_invalid",
        "qr_expired",
        "not_checked_in",
        "not_signed_up",
    ]
    assert _scan(api, vol, shift, qr, POST).json()["result"] == "ok"


def test_outside_the_shift_window_and_scanner_only_activities_are_refused(api, org, coordinator, vol):
    later = _running_shift(org, "self_checkin_checkout", vol, api, started_ago=-timedelta(hours=2))
    assert_error(_scan(api, vol, later, _qr(api, coordinator, later), POST), 409, "outside_window")
    scanner = _running_shift(org, "scanner", f.volunteer(), api)
    user = Signup.objects.get(shift=scanner).user
    assert_error(
        _scan(api, user, scanner, _qr(api, coordinator, scanner), POST), 409, "self_checkin_disabled"
    )


def test_check_in_only_credits_up_to_the_shift_end_when_it_ends(api, org, coordinator, vol):
    shift = _running_shift(org, "self_checkin", vol, api, started_ago=timedelta(minutes=20))
    qr = _qr(api, coordinator, shift)
    assert_error(_scan(api, vol, shift, qr, POST, kind="out"), 409, "self_checkin_disabled")
    entry = _scan(api, vol, shift, qr, POST).json()
    assert self_checkins_close(now=shift.ends_at - timedelta(minutes=1)) == 0
    assert self_checkins_close(now=shift.ends_at + timedelta(minutes=1)) == 1
    record = SelfCheckin.objects.get(pk=entry["id"]).record
    # checked in 20 minutes into a 3-hour shift: 2 h 40 min, rounded to 2.5 h
    assert record is not None and record.ended_at == shift.ends_at and record.hours == Decimal("2.5")
    assert self_checkins_close(now=shift.ends_at + timedelta(minutes=10)) == 0


def test_a_post_given_in_gcj02_is_stored_in_wgs84(api, org, coordinator):
    lat, lon = wgs84_to_gcj02(*POST)
    response = api.as_user(coordinator).post(
        "/service-posts",
        {
            "name": "民治U站",
            "division_code": f.STREET,
            "latitude": f"{lat:.6f}",
            "longitude": f"{lon:.6f}",
            "coord": "gcj02",
            "geofence_radius_m": 120,
            "organisation_id": org.pk,
        },
    )
    assert response.status_code == 201, response.content
    stored = (float(response.json()["latitude"]), float(response.json()["longitude"]))
    assert distance_m(*POST, *stored) < 1 and response.json()["geofence_radius_m"] == 120
