"""The check-in API: events, passes, QR, offline bundle, upload/fallback, stats, permissions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import Role
from backend.checkin import services
from backend.checkin.models import Checkin, Pass
from tests.checkin import factories as f
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.support.qr import read_qr
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db


def iso(dt):
    return dt.isoformat()


def test_coordinator_creates_an_event_with_a_default_list(api):
    org = vf.organisation()
    coordinator = vf.coordinator_of(org)
    start = timezone.now() + timedelta(days=1)
    r = api.as_user(coordinator).post(
        "/events",
        {
            "organisation_id": org.pk,
            "title": "邻里节",
            "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=3)),
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["live_url"] == f"/events/{body['id']}/live"
    lists = api.as_user(coordinator).get(f"/events/{body['id']}/lists").json()
    assert len(lists) == 1 and lists[0]["include_attendees"] and lists[0]["include_volunteers"]


def test_event_with_end_before_start_is_refused(api):
    org = vf.organisation()
    start = timezone.now() + timedelta(days=1)
    r = api.as_user(vf.coordinator_of(org)).post(
        "/events",
        {
            "organisation_id": org.pk,
            "title": "x",
            "starts_at": iso(start),
            "ends_at": iso(start - timedelta(hours=1)),
        },
    )
    assert_error(r, 422, "invalid_event_times")


def test_coordinator_of_another_organisation_cannot_create_or_see(api):
    org, other = vf.organisation(), vf.organisation("别的组织")
    intruder = vf.coordinator_of(other)
    start = timezone.now() + timedelta(days=1)
    r = api.as_user(intruder).post(
        "/events",
        {
            "organisation_id": org.pk,
            "title": "x",
            "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=1)),
        },
    )
    assert_error(r, 404, "not_found")
    ev = f.event(org=org)
    assert_error(api.as_user(intruder).get(f"/events/{ev.pk}"), 404, "not_found")
    assert_error(api.as_user(intruder).get(f"/events/{ev.pk}/stats"), 404, "not_found")


def test_attendee_pass_reaches_the_holder_with_a_qr(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    r = api.as_user(coordinator).post(
        f"/events/{ev.pk}/passes", {"holder_name": "赵六", "holder_phone": "13912345678"}
    )
    assert r.status_code == 201 and r.json()["name"] == "赵*" and "secret" not in r.json()
    holder = Pass.objects.get(pk=r.json()["id"]).holder
    mine = api.as_user(holder).get("/me/passes").json()
    assert len(mine) == 1 and mine[0]["event_id"] == ev.pk
    png = api.as_user(holder).get(mine[0]["qr_png"])
    assert (
        png.status_code == 200 and png["Content-Type"] == "image/png" and "no-store" in png["Cache-Control"]
    )
    assert read_qr(png.content) == [mine[0]["secret"]]
    svg = api.as_user(holder).get(mine[0]["qr_svg"])
    assert (svg.status_code == 200 and svg.content.lstrip().startswith(b"<?xml")) or b"<svg" in svg.content
    # Somebody else's QR is not found.
    assert_error(api.as_user(UserFactory()).get(mine[0]["qr_png"]), 404, "not_found")


def test_void_and_reissue_through_the_api(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    p = f.attendee(ev)
    old = p.secret
    r = api.as_user(coordinator).post(f"/events/{ev.pk}/passes/{p.pk}/reissue")
    assert r.status_code == 200
    assert f.redeem(ev, old).message()["reason"] == "revoked"
    r = api.as_user(coordinator).post(f"/events/{ev.pk}/passes/{p.pk}/void", {"reason": "丢失"})
    assert r.json()["status"] == "void"
    assert_error(api.as_user(coordinator).post(f"/events/{ev.pk}/passes/{p.pk}/reissue"), 409, "pass_voided")


def test_void_and_block_take_an_optional_reason(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    staff = api.as_user(coordinator)
    first, second = f.attendee(ev, "甲乙"), f.attendee(ev, "丙丁")
    # A phone's POST without a body (Content-Length: 0), with or without a JSON content type.
    void = staff.request(
        "post", f"/events/{ev.pk}/passes/{first.pk}/void", "", content_type="application/json"
    )
    assert void.json()["status"] == "void"
    block = staff.request("post", f"/events/{ev.pk}/passes/{second.pk}/block", "", content_type="text/plain")
    assert block.status_code == 200
    assert_error(
        staff.post(f"/events/{ev.pk}/passes/{second.pk}/void", {"reason": "x" * 201}), 422, "validation_error"
    )
    second.refresh_from_db()
    assert second.status != "void"


def test_scanner_cannot_manage_passes(api):
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    assert_error(api.as_user(scanner).post(f"/events/{ev.pk}/passes", {"holder_name": "x"}), 404, "not_found")


def test_offline_bundle_has_keys_passes_revoked_and_rules(api):
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    keep, gone = f.attendee(ev, "甲乙丙"), f.attendee(ev, "丁戊")
    services.pass_void(pass_obj=gone)
    r = api.as_user(scanner).get(f"/events/{ev.pk}/offline-bundle")
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    content = b"".join(r.streaming_content)
    bundle = json.loads(content)
    assert bundle["keys"]["keys"] and bundle["keys"]["keys"][0]["crv"] == "Ed25519"
    assert [p["id"] for p in bundle["passes"]] == [keep.token_id]
    assert bundle["passes"][0]["name"] == "甲*丙"
    assert bundle["revoked"] == [gone.token_id]
    assert bundle["lists"][0]["allow_entry_after_exit"] is True
    assert keep.secret not in content.decode()
    assert_error(api.as_user(UserFactory()).get(f"/events/{ev.pk}/offline-bundle"), 404, "not_found")


def test_upload_endpoint_orders_by_scan_time_and_is_idempotent(api):
    now = timezone.now()
    ev = f.event(starts_at=now - timedelta(hours=1), checkin_opens_at=now - timedelta(hours=2))
    scanner = f.staff(ev, Role.SCANNER)
    p = f.attendee(ev)
    items = [
        f.redeem_msg(p.secret, kind="exit", scanned_at=now - timedelta(minutes=5), nonce="off-exit-01"),
        f.redeem_msg(p.secret, kind="entry", scanned_at=now - timedelta(minutes=40), nonce="off-entry-01"),
    ]
    r = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"device": "phone-7", "items": items})
    assert r.status_code == 200, r.json()
    results = r.json()["results"]
    assert [(x["nonce"], x["status"]) for x in results] == [("off-entry-01", "ok"), ("off-exit-01", "ok")]
    rows = list(Checkin.objects.filter(event=ev).order_by("seq"))
    assert [row.kind for row in rows] == ["entry", "exit"]
    assert all(row.late and row.device == "phone-7" and row.source == "http" for row in rows)
    again = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"items": items}).json()["results"]
    assert all(x.get("replayed") for x in again)
    assert Checkin.objects.filter(event=ev).count() == 2


def test_upload_too_large_is_refused(api, settings):
    settings.LINLI_CHECKIN_UPLOAD_MAX = 2
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    items = [f.redeem_msg("x") for _ in range(3)]
    assert_error(
        api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"items": items}), 413, "upload_too_large"
    )
    assert not Checkin.objects.exists()


def test_http_fallback_single_redeem_is_not_late(api):
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    p = f.attendee(ev)
    r = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"items": [f.redeem_msg(p.secret)]})
    assert r.json()["results"][0]["status"] == "ok" and r.json()["results"][0]["late"] is False


def test_stats_match_the_counts(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    a, b = f.attendee(ev), f.attendee(ev)
    f.redeem(ev, a.secret)
    f.redeem(ev, b.secret)
    f.redeem(ev, b.secret, kind="exit")
    stats = api.as_user(coordinator).get(f"/events/{ev.pk}/stats").json()
    assert (stats["seq"], stats["passes"], stats["checked_in"], stats["inside"]) == (3, 2, 2, 1)
    assert stats["by_list"][0]["checked_in"] == 2 and stats["by_list"][0]["inside"] == 1
    scanner = f.staff(ev, Role.SCANNER)
    assert_error(api.as_user(scanner).get(f"/events/{ev.pk}/stats"), 404, "not_found")


def test_checkin_log_pages_by_seq_with_constant_queries(api, django_assert_max_num_queries):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    client = api.as_user(coordinator)
    f.redeem(ev, f.attendee(ev).secret)
    with django_assert_max_num_queries(8) as one:
        client.get(f"/events/{ev.pk}/checkins")
    for _ in range(49):
        f.redeem(ev, f.attendee(ev).secret)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(f"/events/{ev.pk}/checkins", {"limit": 30}).json()
    assert [m["seq"] for m in page["items"]] == list(range(1, 31)) and page["next_cursor"] == "30"
    rest = client.get(f"/events/{ev.pk}/checkins", {"cursor": page["next_cursor"], "limit": 30}).json()
    assert [m["seq"] for m in rest["items"]] == list(range(31, 51)) and rest["next_cursor"] is None


def test_passes_and_events_lists_have_constant_queries(api, django_assert_max_num_queries):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    client = api.as_user(coordinator)
    f.attendee(ev)
    with django_assert_max_num_queries(8) as one:
        client.get(f"/events/{ev.pk}/passes")
    for _ in range(49):
        f.attendee(ev)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(f"/events/{ev.pk}/passes", {"limit": 100}).json()["items"]) == 50
    with django_assert_max_num_queries(8):
        assert [e["id"] for e in client.get("/events").json()["items"]] == [ev.pk]


def test_staff_grant_makes_a_scanner(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    newbie = UserFactory()
    r = api.as_user(coordinator).post(f"/events/{ev.pk}/staff", {"user_id": newbie.pk, "role": "scanner"})
    assert r.status_code == 201
    assert api.as_user(newbie).get(f"/events/{ev.pk}/offline-bundle").status_code == 200


def test_live_page_is_a_static_shell_with_a_nonce_csp(client):
    ev = f.event()
    r = client.get(f"/events/{ev.pk}/live")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/ws/v1/events/" in html and 'id="checked-in"' in html
    assert "http://" not in html.replace("ws://", "") and "https://" not in html  # no external assets
    csp = r["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "default-src 'none'" in csp
    assert ev.title not in html  # the page itself reveals nothing; data comes over the socket
