"""Annulments through the API: who may, until when, what follows (counts, inside, attendance),
and the stable error codes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.accounts.models import Role
from backend.checkin import services
from backend.checkin.models import Checkin, EventSequence, Pass
from backend.core.models import AuditLog
from backend.volunteers.models import ServiceRecord, Signup
from tests.checkin import factories as f
from tests.helpers import assert_error
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db


def annul(client, ev, nonce: str, reason: str = "扫错了", **extra):
    return client.post(f"/events/{ev.pk}/checkins/annul", {"nonce": nonce, "reason": reason, **extra})


def test_the_scanning_device_annuls_its_entry_and_the_pass_is_outside_again(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    gate = f.device(scanner, ev)
    p = f.attendee(ev)
    assert f.upload(scanner, ev, p.secret, device_id=gate, nonce="entry-nonce-1")["status"] == "ok"
    r = annul(scanner, ev, "entry-nonce-1", device_id=gate)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["type"] == "annulled" and body["annulled_seq"] == 1 and body["seq"] == 2
    assert (body["checked_in"], body["inside"], body["note"]) == (0, 0, "扫错了")
    assert body["gate_counts"] == {"gate": "北门", "entries": 0, "exits": 0}
    # A new row, the scan itself unchanged.
    rows = list(Checkin.objects.filter(event=ev).order_by("seq"))
    assert [(row.kind, row.status) for row in rows] == [("entry", "ok"), ("annul", "ok")]
    assert rows[1].annuls_id == rows[0].pk
    p.refresh_from_db()
    assert (p.first_entry_at, p.inside_lists, p.inside_since) == (None, 0, None)
    # The pass is admitted again, as if the wrong scan had never happened.
    assert f.upload(scanner, ev, p.secret, device_id=gate)["status"] == "ok"
    audit = AuditLog.objects.get(action="checkin.annulled")
    assert audit.reason == "扫错了" and audit.data["nonce"] == "entry-nonce-1"


def test_annulling_an_exit_puts_the_pass_back_inside(api):
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    p = f.attendee(ev)
    f.upload(scanner, ev, p.secret)
    f.upload(scanner, ev, p.secret, kind="exit", nonce="exit-nonce-1")
    assert EventSequence.objects.get(pk=ev.pk).inside == 0
    body = annul(scanner, ev, "exit-nonce-1").json()
    assert (body["annulled_kind"], body["checked_in"], body["inside"]) == ("exit", 1, 1)
    p.refresh_from_db()
    assert p.inside_lists == 1


def test_another_device_may_not_annul(api):
    ev = f.event()
    first = api.as_user(f.staff(ev, Role.SCANNER))
    other = api.as_user(f.staff(ev, Role.SCANNER))
    north, south = f.device(first, ev), f.device(other, ev, name="2号机", gate="南门")
    f.upload(first, ev, f.attendee(ev).secret, device_id=north, nonce="north-scan-1")
    assert_error(annul(other, ev, "north-scan-1", device_id=south), 403, "annul_not_allowed")
    assert_error(annul(other, ev, "north-scan-1"), 403, "annul_not_allowed")
    assert not Checkin.objects.filter(kind="annul").exists()


def test_the_device_is_too_late_after_the_window_but_a_coordinator_is_not(api, settings):
    settings.LINLI_CHECKIN_ANNUL_WINDOW_SECONDS = 60
    ev = f.event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    f.upload(scanner, ev, f.attendee(ev).secret, nonce="old-scan-01")
    Checkin.objects.filter(nonce="old-scan-01").update(received_at=timezone.now() - timedelta(seconds=61))
    r = annul(scanner, ev, "old-scan-01")
    assert_error(r, 409, "annul_too_late")
    assert r.json()["details"]["window_seconds"] == 60
    assert annul(coordinator, ev, "old-scan-01").status_code == 200


def test_unknown_refused_and_already_annulled_have_their_codes(api):
    ev = f.event()
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    p = f.attendee(ev)
    assert_error(annul(coordinator, ev, "never-sent-1"), 404, "unknown_nonce")
    f.upload(coordinator, ev, p.secret, nonce="good-scan-01")
    f.upload(coordinator, ev, p.secret, nonce="twice-scan-1")  # already_redeemed: refused
    assert_error(annul(coordinator, ev, "twice-scan-1"), 409, "not_annullable")
    assert annul(coordinator, ev, "good-scan-01").status_code == 200
    assert_error(annul(coordinator, ev, "good-scan-01"), 409, "already_annulled")
    assert Checkin.objects.filter(kind="annul").count() == 1


def test_an_outsider_learns_nothing(api):
    from tests.factories import UserFactory

    ev = f.event()
    f.upload(api.as_user(f.staff(ev, Role.SCANNER)), ev, f.attendee(ev).secret, nonce="some-scan-01")
    assert_error(annul(api.as_user(UserFactory()), ev, "some-scan-01"), 404, "not_found")


def test_annul_answers_in_the_callers_language(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    r = annul(api.as_user(coordinator, lang="en"), ev, "never-sent-2")
    assert r.json()["message"] == "No scan with this nonce."
    assert annul(api.as_user(coordinator), ev, "never-sent-2").json()["message"] == "没有该核验记录。"


def _volunteer_on_event():
    now = timezone.now().replace(microsecond=0)
    org = vf.organisation()
    shift = vf.shift(vf.activity(org), starts_at=now - timedelta(hours=3), hours=5)
    signup = Signup.objects.create(shift=shift, user=vf.volunteer(), status=Signup.Status.CONFIRMED)
    ev = f.event(org=org, starts_at=shift.starts_at, ends_at=shift.ends_at, checkin_opens_at=shift.starts_at)
    (p,) = services.event_shifts_link(event=ev, shifts=[shift])
    return now, signup, ev, p


def test_annulled_check_out_withdraws_the_attendance_and_the_next_one_records_it(api):
    now, signup, ev, p = _volunteer_on_event()
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    f.upload(scanner, ev, p.secret, scanned_at=now - timedelta(hours=3))
    f.upload(scanner, ev, p.secret, kind="exit", scanned_at=now - timedelta(hours=2), nonce="early-exit-1")
    first = ServiceRecord.objects.get()
    assert first.hours == Decimal("1") and first.status == "valid"
    signup.refresh_from_db()
    assert signup.status == Signup.Status.ATTENDED

    assert annul(scanner, ev, "early-exit-1", reason="还在岗").status_code == 200
    first.refresh_from_db()
    assert (first.status, first.status_reason) == ("rejected", "checkin_annulled")
    signup.refresh_from_db()
    assert signup.status == Signup.Status.CONFIRMED and signup.attended_at is None
    assert Pass.objects.get(pk=p.pk).inside_lists == 1

    f.upload(scanner, ev, p.secret, kind="exit", scanned_at=now)
    second = ServiceRecord.objects.exclude(pk=first.pk).get()
    assert (second.started_at, second.ended_at, second.hours) == (now - timedelta(hours=3), now, Decimal("3"))
    signup.refresh_from_db()
    assert signup.status == Signup.Status.ATTENDED


def test_annulling_an_old_entry_moves_the_recorded_stay(api):
    """A coordinator annuls the first of two stays' entries: that stay's record is withdrawn; the
    person's first real entry is the second one."""
    now, _signup, ev, p = _volunteer_on_event()
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    f.upload(coordinator, ev, p.secret, scanned_at=now - timedelta(hours=3), nonce="wrong-entry1")
    f.upload(coordinator, ev, p.secret, kind="exit", scanned_at=now - timedelta(hours=2))
    f.upload(coordinator, ev, p.secret, scanned_at=now - timedelta(hours=1))
    assert annul(coordinator, ev, "wrong-entry1").status_code == 200
    assert ServiceRecord.objects.get().status == "rejected"
    p.refresh_from_db()
    assert p.first_entry_at == now - timedelta(hours=1) and p.inside_since == now - timedelta(hours=1)
    stats = coordinator.get(f"/events/{ev.pk}/stats").json()
    assert (stats["checked_in"], stats["inside"]) == (1, 1)
