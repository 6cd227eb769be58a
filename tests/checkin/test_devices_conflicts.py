"""Devices and gates, forced offline scans and conflicts, through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import Role
from backend.checkin.models import Checkin, Device
from tests.checkin import factories as f
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


# --- devices and gates -------------------------------------------------------------------------------


def test_a_scanner_registers_its_device_and_lists_the_events_devices(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    r = scanner.post(f"/events/{ev.pk}/devices", {"name": "1号机", "gate": "北门"})
    assert r.status_code == 201, r.json()
    assert (r.json()["name"], r.json()["gate"], r.json()["revoked_at"]) == ("1号机", "北门", None)
    listed = scanner.get(f"/events/{ev.pk}/devices").json()
    assert [d["id"] for d in listed] == [r.json()["id"]]
    assert_error(
        scanner.post(f"/events/{ev.pk}/devices", {"name": "x", "gate": " "}), 422, "validation_error"
    )


def test_scans_carry_the_device_and_already_redeemed_says_when_and_at_which_gate(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    north, south = f.device(scanner, ev, gate="北门"), f.device(scanner, ev, name="2号机", gate="南门")
    p = f.attendee(ev)
    first = f.upload(scanner, ev, p.secret, device_id=north)
    assert (first["status"], first["gate"]) == ("ok", "北门")
    again = f.upload(scanner, ev, p.secret, device_id=south)
    assert (again["status"], again["reason"], again["gate"]) == ("error", "already_redeemed", "南门")
    assert again["checked_in_gate"] == "北门" and again["checked_in_at"] == first["checked_in_at"]
    row = Checkin.objects.get(nonce=again["nonce"])
    assert row.device_ref_id == south and row.entry_gate == "北门"


def test_a_revoked_device_uploads_nothing(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    gate = f.device(scanner, ev)
    assert_error(scanner.post(f"/events/{ev.pk}/devices/{gate}/revoke", {}), 404, "not_found")
    r = coordinator.post(f"/events/{ev.pk}/devices/{gate}/revoke", {"reason": "丢失"})
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    p = f.attendee(ev)
    body = {"device_id": gate, "items": [f.redeem_msg(p.secret)]}
    assert_error(scanner.post(f"/events/{ev.pk}/checkins", body), 403, "device_revoked")
    # Named per item instead: that item is refused, with the same code.
    item = f.redeem_msg(p.secret, device_id=gate)
    result = scanner.post(f"/events/{ev.pk}/checkins", {"items": [item]}).json()["results"][0]
    assert result["code"] == "device_revoked"
    assert not Checkin.objects.filter(event=ev).exists()
    assert Device.objects.get(pk=gate).revoked_at is not None


def test_a_device_of_another_event_is_unknown(api):
    ev, other = f.event(), f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    foreign = f.device(api.as_user(f.staff(other, Role.SCANNER)), other)
    body = {"device_id": foreign, "items": [f.redeem_msg(f.attendee(ev).secret)]}
    assert_error(scanner.post(f"/events/{ev.pk}/checkins", body), 422, "unknown_device")


# --- forced offline scans and conflicts -------------------------------------------------------------


def test_two_devices_admitting_one_pass_offline_count_it_once_and_the_later_is_a_conflict(api):
    now = timezone.now()
    ev = f.event(starts_at=now - timedelta(hours=1), checkin_opens_at=now - timedelta(hours=2))
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    north, south = f.device(scanner, ev, gate="北门"), f.device(scanner, ev, name="2号机", gate="南门")
    p = f.attendee(ev)
    at_north = now - timedelta(minutes=20)
    first = f.upload(scanner, ev, p.secret, device_id=north, scanned_at=at_north, forced=True)
    assert first["status"] == "ok" and "conflict" not in first
    second = f.upload(
        scanner, ev, p.secret, device_id=south, scanned_at=now - timedelta(minutes=10), forced=True
    )
    assert (second["status"], second["conflict"], second["forced"]) == ("ok", "already_redeemed", True)
    assert second["checked_in_gate"] == "北门"
    stats = coordinator.get(f"/events/{ev.pk}/stats").json()
    assert (stats["checked_in"], stats["inside"]) == (1, 1)
    assert stats["by_gate"] == [
        {"gate": "北门", "entries": 1, "exits": 0},
        {"gate": "南门", "entries": 1, "exits": 0},
    ]
    page = coordinator.get(f"/events/{ev.pk}/conflicts").json()
    (item,) = page["items"]
    assert (item["type"], item["conflict"], item["gate"], item["entry_gate"]) == (
        "conflict",
        "already_redeemed",
        "南门",
        "北门",
    )
    assert item["entry_at"] == timezone.localtime(at_north).isoformat()


def test_a_forced_scan_of_a_pass_voided_meanwhile_is_inside_and_explained(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    p = f.attendee(ev)
    coordinator.post(f"/events/{ev.pk}/passes/{p.pk}/void", {})
    refused = f.upload(scanner, ev, p.secret)
    assert (refused["status"], refused["reason"]) == ("error", "revoked")
    forced = f.upload(scanner, ev, p.secret, forced=True)
    assert (forced["status"], forced["conflict"]) == ("ok", "revoked")
    stats = coordinator.get(f"/events/{ev.pk}/stats").json()
    assert (stats["checked_in"], stats["inside"]) == (1, 1)
    conflicts = coordinator.get(f"/events/{ev.pk}/conflicts").json()["items"]
    assert [c["conflict"] for c in conflicts] == ["revoked"]  # the unforced refusal is no conflict


def test_a_forced_scan_of_a_forged_secret_stays_refused_and_is_listed(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    forged = f.upload(scanner, ev, "NOT-A-PASS", forced=True)
    assert (forged["status"], forged["reason"], forged["conflict"]) == ("error", "invalid", "invalid")
    assert coordinator.get(f"/events/{ev.pk}/stats").json()["inside"] == 0
    assert [c["conflict"] for c in coordinator.get(f"/events/{ev.pk}/conflicts").json()["items"]] == [
        "invalid"
    ]


def test_forced_that_the_server_also_admits_is_no_conflict(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    result = f.upload(scanner, ev, f.attendee(ev).secret, forced=True)
    assert result["status"] == "ok" and result["forced"] is True and "conflict" not in result
    assert coordinator.get(f"/events/{ev.pk}/conflicts").json()["items"] == []


def test_conflicts_are_paged_for_coordinators_only(api, django_assert_max_num_queries):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    p = f.attendee(ev)
    f.upload(scanner, ev, p.secret)
    for _ in range(5):
        f.upload(scanner, ev, p.secret, forced=True)
    with django_assert_max_num_queries(8):
        page = coordinator.get(f"/events/{ev.pk}/conflicts", {"limit": 3}).json()
    assert [c["seq"] for c in page["items"]] == [2, 3, 4] and page["next_cursor"] == "4"
    rest = coordinator.get(f"/events/{ev.pk}/conflicts", {"cursor": page["next_cursor"]}).json()
    assert [c["seq"] for c in rest["items"]] == [5, 6] and rest["next_cursor"] is None
    assert_error(scanner.get(f"/events/{ev.pk}/conflicts"), 404, "not_found")
    assert_error(coordinator.get(f"/events/{ev.pk}/conflicts", {"cursor": "x"}), 422, "validation_error")
