"""Service hours through the API: attendance, rounding, daily rules, approval, backfill, totals,
certificates and exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.volunteers.hours import round_hours, stars_for
from backend.volunteers.models import ServiceRecord, Shift, Signup
from tests.factories import user_with_role
from tests.helpers import assert_error
from tests.support.qr import read_qr
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 7)


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [
        (0, "0"),
        (14, "0"),
        (15, "0.5"),
        (44, "0.5"),
        (45, "1"),
        (59, "1"),
        (60, "1"),
        (74, "1"),
        (75, "1.5"),
        (140, "2.5"),
    ],
)
def test_rounding_rule(minutes, hours):
    assert round_hours(minutes) == Decimal(hours)


def test_rounding_rule_is_configurable(settings):
    settings.LINLI_VOLUNTEER_ROUNDING = [(30, "0"), (60, "1")]
    assert round_hours(29) == 0 and round_hours(30) == 1


def test_stars_follow_approved_hours():
    assert [stars_for(Decimal(h)) for h in (99, 100, 300, 600, 999, 1000, 1500, 9999)] == [
        0,
        1,
        2,
        3,
        3,
        4,
        5,
        5,
    ]


def started_shift(org, **kwargs):
    shift = f.shift(f.activity(org), **kwargs)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=4)
    Shift.objects.filter(pk=shift.pk).update(starts_at=start, ends_at=start + timedelta(hours=3), taken=1)
    shift.refresh_from_db()
    return shift


def test_coordinator_records_attendance_hours_inside_the_shift(api, org, coordinator, vol):
    shift = started_shift(org)
    signup = Signup.objects.create(shift=shift, user=vol, status="confirmed")
    response = api.as_user(coordinator).post(
        f"/signups/{signup.pk}/attendance",
        {
            "checked_in_at": (shift.starts_at - timedelta(minutes=30)).isoformat(),
            "checked_out_at": (shift.starts_at + timedelta(hours=2, minutes=20)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["minutes"] == 140 and body["hours"] == "2.5" and body["kind"] == "recorded"
    assert body["status"] == "valid" and body["recorder"] and body["place"]
    assert Signup.objects.get(pk=signup.pk).status == "attended"
    # the same check-in again is the same record
    again = api.as_user(coordinator).post(
        f"/signups/{signup.pk}/attendance",
        {
            "checked_in_at": (shift.starts_at - timedelta(minutes=30)).isoformat(),
            "checked_out_at": (shift.starts_at + timedelta(hours=2, minutes=20)).isoformat(),
        },
    )
    assert again.json()["id"] == body["id"] and ServiceRecord.objects.count() == 1
    assert_error(
        api.as_user(vol).post(
            f"/signups/{signup.pk}/attendance",
            {"checked_in_at": shift.starts_at.isoformat(), "checked_out_at": shift.ends_at.isoformat()},
        ),
        404,
        "not_found",
    )


def test_attendance_for_a_waitlisted_signup_is_refused(api, org, coordinator, vol):
    shift = started_shift(org)
    signup = Signup.objects.create(shift=shift, user=vol, status="waitlisted")
    response = api.as_user(coordinator).post(
        f"/signups/{signup.pk}/attendance",
        {"checked_in_at": shift.starts_at.isoformat(), "checked_out_at": shift.ends_at.isoformat()},
    )
    assert_error(response, 409, "invalid_transition")


def rec(user, org, start, end, ref, source="checkin"):
    return f.record(user, org, start, end, ref, source, content="引导服务")


def test_org_approves_a_day_over_8_hours_and_escalation_needs_an_admin(api, org, coordinator, vol):
    rec(vol, org, f.at(DAY, 6), f.at(DAY, 13), "a")
    pending = rec(vol, org, f.at(DAY, 13), f.at(DAY, 16), "b")
    escalated = rec(vol, org, f.at(DAY, 16), f.at(DAY, 19), "c")
    listed = api.as_user(coordinator).get(
        f"/volunteer/organisations/{org.pk}/service-records", {"status": "pending"}
    )
    assert [r["id"] for r in listed.json()["items"]] == [pending.pk]
    ok = api.as_user(coordinator).post(f"/service-records/{pending.pk}/approve", {"evaluation": "表现良好"})
    assert ok.status_code == 200 and ok.json()["status"] == "valid" and ok.json()["evaluation"] == "表现良好"
    assert_error(
        api.as_user(coordinator).post(f"/service-records/{escalated.pk}/approve", {}),
        403,
        "permission_denied",
    )
    assert_error(
        api.as_user(coordinator).post(f"/service-records/{pending.pk}/approve", {}), 409, "invalid_transition"
    )
    admin = user_with_role("platform_admin")
    body = assert_error(
        api.as_user(admin).post(f"/service-records/{escalated.pk}/reject", {}), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["field"] == "reason"
    assert (
        api.as_user(admin)
        .post(f"/service-records/{escalated.pk}/reject", {"reason": "超时"})
        .json()["status"]
        == "rejected"
    )


def request_backfill(client, org, start, hours=2, place="民治公园", content="清洁河岸"):
    return client.post(
        "/me/backfill-requests",
        {
            "organisation_id": org.pk,
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(hours=hours)).isoformat(),
            "place": place,
            "content": content,
        },
    )


def test_backfill_request_is_kept_apart_until_approved(api, org, coordinator, vol):
    rec(vol, org, f.at(DAY, 9), f.at(DAY, 12), "checkin-1")
    response = request_backfill(api.as_user(vol), org, timezone.now() - timedelta(days=30))
    assert response.status_code == 201, response.json()
    backfill = response.json()
    assert (backfill["kind"], backfill["status"], backfill["hours"]) == ("backfilled", "pending", "2.0")
    totals = api.as_user(vol).get("/me/service-records").json()["totals"]
    assert (totals["recorded_hours"], totals["backfilled_hours"], totals["pending_hours"]) == (
        "3.0",
        "0.0",
        "2.0",
    )
    api.as_user(coordinator).post(f"/service-records/{backfill['id']}/approve", {})
    totals = api.as_user(vol).get("/me/service-records").json()["totals"]
    assert (totals["recorded_hours"], totals["backfilled_hours"], totals["approved_hours"]) == (
        "3.0",
        "2.0",
        "5.0",
    )
    only_backfill = api.as_user(vol).get("/me/service-records", {"kind": "backfilled"}).json()["items"]
    assert [r["id"] for r in only_backfill] == [backfill["id"]]


def test_future_service_cannot_be_backfilled(api, org, vol):
    start = timezone.now() + timedelta(days=1)
    response = request_backfill(api.as_user(vol), org, start, place="x", content="y")
    assert_error(response, 422, "validation_error")


def test_a_coordinator_cannot_approve_their_own_hours(api, org):
    coordinator = f.volunteer()
    f.coordinator_of(org, phone=coordinator.phone)
    other = f.coordinator_of(org)
    own = request_backfill(api.as_user(coordinator), org, timezone.now() - timedelta(days=3)).json()
    for action in ("approve", "reject"):
        response = api.as_user(coordinator).post(
            f"/service-records/{own['id']}/{action}", {"reason": "自己审自己"}
        )
        assert_error(response, 403, "permission_denied")
    assert ServiceRecord.objects.get(pk=own["id"]).status == "pending"
    decided = api.as_user(other).post(f"/service-records/{own['id']}/approve", {})
    assert decided.status_code == 200 and decided.json()["status"] == "valid"


def test_a_backfill_covers_one_day_at_most(api, org, vol):
    """An unbounded stretch (years) overflowed the hours column: 500 instead of an answer."""

    def backfill(hours):
        start = timezone.now() - timedelta(hours=hours + 24)
        return request_backfill(api.as_user(vol), org, start, hours=hours)

    for hours in (25, 24 * 365 * 120):
        body = assert_error(backfill(hours), 422, "validation_error")
        assert body["details"]["errors"][0]["field"] == "ended_at"
        assert body["details"]["errors"][0]["code"] == "too_long"
    assert not ServiceRecord.objects.exists()
    assert backfill(24).json()["hours"] == "24.0"


def test_stars_in_totals(api, org, vol, settings):
    settings.LINLI_VOLUNTEER_STAR_HOURS = [2, 4, 6, 8, 10]
    rec(vol, org, f.at(DAY, 9), f.at(DAY, 13, 10), "s1")
    totals = api.as_user(vol).get("/me/service-records").json()["totals"]
    assert totals["stars"] == 2 and totals["next_star_at"] == "6"


def test_my_records_constant_queries(api, org, vol, django_assert_max_num_queries):
    client = api.as_user(vol)
    rec(vol, org, f.at(DAY, 9), f.at(DAY, 10), "q0")
    with django_assert_max_num_queries(4):
        assert len(client.get("/me/service-records").json()["items"]) == 1
    for i in range(1, 50):
        day = DAY + timedelta(days=i)
        rec(vol, org, f.at(day, 9), f.at(day, 10), f"q{i}")
    with django_assert_max_num_queries(4):
        assert len(client.get("/me/service-records", {"limit": 50}).json()["items"]) == 50


def test_record_lists_with_lead_and_recorder_run_constant_queries(
    api, org, coordinator, vol, django_assert_max_num_queries
):
    """Records entered by a coordinator name a lead and a recorder: neither costs a query per row,
    nor does the organisation on the organisation's own list."""

    def staffed(i):
        day = DAY + timedelta(days=i)
        f.record(vol, org, f.at(day, 9), f.at(day, 10), f"staffed{i}", lead=coordinator, recorder=coordinator)

    staffed(0)
    mine, theirs = api.as_user(vol), api.as_user(coordinator)
    org_path = f"/volunteer/organisations/{org.pk}/service-records"
    with django_assert_max_num_queries(4):
        assert len(mine.get("/me/service-records").json()["items"]) == 1
    with django_assert_max_num_queries(4):
        assert len(theirs.get(org_path).json()["items"]) == 1
    for i in range(1, 50):
        staffed(i)
    with django_assert_max_num_queries(4):
        items = mine.get("/me/service-records", {"limit": 50}).json()["items"]
    assert len(items) == 50 and all(r["recorder"] and r["lead"] for r in items)
    with django_assert_max_num_queries(4):
        assert len(theirs.get(org_path, {"limit": 50}).json()["items"]) == 50


def test_certificate_pdf_from_the_recording_organisation(api, org, vol):
    from backend.volunteers.documents import certificate_qr_png

    rec(vol, org, f.at(DAY, 9), f.at(DAY, 12), "c1")
    response = api.as_user(vol).get("/me/certificate")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    number = response["X-Certificate-Number"]
    from backend.volunteers.models import Certificate

    cert = Certificate.objects.get(number=number)
    assert cert.organisation == org and cert.hours == Decimal("3.0") and cert.handler == "李经办"
    assert cert.verify_code.encode() in response.content  # the verification URL is in the document metadata
    (decoded,) = read_qr(certificate_qr_png(cert))
    assert decoded.endswith(f"/c/{cert.proof_token}")
    public = api.get(f"/certificates/verify/{cert.verify_code}")
    assert public.status_code == 200
    assert public.json()["holder_name_masked"] == "张*三" and public.json()["hours"] == "3.0"
    assert_error(api.get("/certificates/verify/NOTACODE"), 404, "not_found")


def test_certificate_downloaded_again_is_the_same_until_the_hours_change(api, org, vol):
    from backend.volunteers.models import Certificate

    rec(vol, org, f.at(DAY, 9), f.at(DAY, 12), "c1")
    first = api.as_user(vol).get("/me/certificate")["X-Certificate-Number"]
    assert api.as_user(vol).get("/me/certificate")["X-Certificate-Number"] == first
    assert Certificate.objects.filter(user=vol).count() == 1
    rec(vol, org, f.at(DAY + timedelta(days=1), 9), f.at(DAY + timedelta(days=1), 11), "c2")
    second = api.as_user(vol).get("/me/certificate")["X-Certificate-Number"]
    assert second != first and Certificate.objects.get(number=second).hours == Decimal("5.0")
    assert Certificate.objects.filter(user=vol).count() == 2  # the first still verifies as issued


def test_certificate_falls_back_to_latin_without_a_cjk_font(api, org, vol, monkeypatch):
    import media.badge

    monkeypatch.setattr(media.badge, "find_cjk_font", lambda font_path=None: None)
    rec(vol, org, f.at(DAY, 9), f.at(DAY, 12), "c1")
    response = api.as_user(vol).get("/me/certificate")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["X-Certificate-Font"] == "latin-fallback"


def test_certificate_only_from_an_organisation_that_recorded_service(api, org, vol):
    other = f.organisation("另一组织")
    assert_error(api.as_user(vol).get("/me/certificate"), 409, "nothing_to_certify")
    rec(vol, org, f.at(DAY, 9), f.at(DAY, 12), "c1")
    rec(vol, other, f.at(DAY + timedelta(days=1), 9), f.at(DAY + timedelta(days=1), 10), "c2")
    assert_error(api.as_user(vol).get("/me/certificate"), 422, "validation_error")
    third = f.organisation("没记录过")
    assert_error(
        api.as_user(vol).get("/me/certificate", {"organisation_id": third.pk}), 409, "nothing_to_certify"
    )
    assert api.as_user(vol).get("/me/certificate", {"organisation_id": other.pk}).status_code == 200


def test_export_csv_and_xlsx_masked_for_coordinators(api, org, coordinator, vol):
    rec(vol, org, f.at(DAY, 9), f.at(DAY, 12), "e1")
    rec(vol, org, f.at(DAY, 13), f.at(DAY, 14), "e2")
    response = api.as_user(coordinator).get(
        f"/volunteer/organisations/{org.pk}/service-records/export", {"format": "csv"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号" and len(rows) == 3
    assert rows[1][2] == "张*三" and rows[1][3] == "138****8000" and rows[1][11] == "3.0"
    xlsx = api.as_user(coordinator).get(f"/volunteer/organisations/{org.pk}/service-records/export")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3 and values[1][11] == 3.0
    assert_error(
        api.as_user(vol).get(f"/volunteer/organisations/{org.pk}/service-records/export"), 404, "not_found"
    )


def test_export_masks_the_lead_and_the_recorder_too(api, org):
    """The lead and recorder columns showed the staff member's name, or without one the full phone
    number, in clear; they are masked like everywhere else."""
    named = f.coordinator_of(org, display_name="王大明")
    unnamed = f.coordinator_of(org, display_name="")
    vol = f.volunteer()
    f.record(vol, org, f.at(DAY, 9), f.at(DAY, 12), "lead-1", lead=named, recorder=unnamed)
    response = api.as_user(named).get(
        f"/volunteer/organisations/{org.pk}/service-records/export", {"format": "csv"}
    )
    text = response.content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert row[header.index("负责人")] == "王*明"
    assert row[header.index("记录人")] and unnamed.phone not in text and "王大明" not in text
    listed = api.as_user(named).get(f"/volunteer/organisations/{org.pk}/service-records").json()["items"]
    assert (listed[0]["lead"], listed[0]["recorder"]) == (
        row[header.index("负责人")],
        row[header.index("记录人")],
    )
