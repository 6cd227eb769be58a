"""Passes follow volunteer sign-ups; check-in and check-out feed service hours; end-of-event job;
two scanners racing on one pass."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from backend.checkin import jobs, services
from backend.checkin.models import Checkin, Event, EventSequence, Pass
from backend.volunteers.models import ServiceRecord, Signup
from backend.volunteers.services import shift_signup_create, signup_cancel
from tests.checkin import factories as f
from tests.volunteers import factories as vf


@pytest.mark.django_db
def test_confirmed_signup_gets_a_pass_and_cancelling_voids_it():
    org = vf.organisation()
    act = vf.activity(org)
    shift = vf.shift(act, starts_in=timedelta(days=3))
    ev = f.event(
        org=org,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        checkin_opens_at=shift.starts_at - timedelta(hours=1),
    )
    services.event_shifts_link(event=ev, shifts=[shift])
    volunteer = vf.volunteer(name="李志愿")
    signup = shift_signup_create(shift_id=shift.pk, user=volunteer)
    assert signup.status == Signup.Status.CONFIRMED
    p = Pass.objects.get(signup=signup)
    assert (p.kind, p.status, p.holder_id, p.holder_name) == ("volunteer", "valid", volunteer.pk, "李志愿")
    signup_cancel(signup=signup, by=volunteer)
    p.refresh_from_db()
    assert p.status == "void"
    assert p.revoked_secrets.filter(reason="void").exists()


@pytest.mark.django_db
def test_linking_a_shift_issues_passes_to_already_confirmed_volunteers():
    org = vf.organisation()
    shift = vf.shift(vf.activity(org))
    signup = Signup.objects.create(shift=shift, user=vf.volunteer(), status=Signup.Status.CONFIRMED)
    Signup.objects.create(shift=shift, user=vf.volunteer(), status=Signup.Status.WAITLISTED)
    ev = f.event(org=org)
    issued = services.event_shifts_link(event=ev, shifts=[shift])
    assert [p.signup_id for p in issued] == [signup.pk]


@pytest.mark.django_db
def test_shift_of_another_organisation_cannot_be_linked():
    from backend.checkin.errors import ShiftNotOfOrganisation

    ev = f.event()
    foreign = vf.shift(vf.activity(vf.organisation("别家")))
    with pytest.raises(ShiftNotOfOrganisation):
        services.event_shifts_link(event=ev, shifts=[foreign])


def _volunteer_on_event():
    now = timezone.now().replace(microsecond=0)
    org = vf.organisation()
    shift = vf.shift(vf.activity(org), starts_at=now - timedelta(hours=2), hours=4)
    signup = Signup.objects.create(shift=shift, user=vf.volunteer(), status=Signup.Status.CONFIRMED)
    ev = f.event(
        org=org,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        checkin_opens_at=shift.starts_at - timedelta(hours=1),
    )
    (p,) = services.event_shifts_link(event=ev, shifts=[shift])
    return now, shift, signup, ev, p


@pytest.mark.django_db
def test_volunteer_check_in_and_out_becomes_a_service_record():
    now, _shift, signup, ev, p = _volunteer_on_event()
    f.redeem(ev, p.secret, scanned_at=now - timedelta(hours=2))
    assert not ServiceRecord.objects.exists()  # nothing until the stay ends
    f.redeem(ev, p.secret, kind="exit", scanned_at=now - timedelta(minutes=30))
    record = ServiceRecord.objects.get()
    assert record.source == "checkin" and record.signup_id == signup.pk
    assert record.hours == Decimal("1.5")
    signup.refresh_from_db()
    assert signup.status == Signup.Status.ATTENDED
    p.refresh_from_db()
    assert p.status == "valid"  # attended still holds the pass


@pytest.mark.django_db
def test_auto_checkout_job_closes_ended_events_once():
    now, _shift, _signup, ev, p = _volunteer_on_event()
    f.redeem(ev, p.secret, scanned_at=now - timedelta(hours=1))
    attendee = f.attendee(ev)
    f.redeem(ev, attendee.secret)
    Event.objects.filter(pk=ev.pk).update(ends_at=now - timedelta(minutes=1))
    assert jobs.auto_checkout_ended_events() == {"events": 1, "checked_out": 2}
    assert EventSequence.objects.get(pk=ev.pk).inside == 0
    auto = Checkin.objects.filter(event=ev, source="auto")
    assert auto.count() == 2 and all(row.kind == "exit" and row.status == "ok" for row in auto)
    record = ServiceRecord.objects.get()
    assert (record.started_at, record.ended_at) == (now - timedelta(hours=1), now - timedelta(minutes=1))
    assert jobs.auto_checkout_ended_events() == {"events": 0, "checked_out": 0}
    assert Checkin.objects.filter(event=ev).count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_scanners_racing_on_one_pass_admit_it_once():
    from backend.core.keys import keys_invalidate

    keys_invalidate()
    ev = f.event()
    p = f.attendee(ev)
    workers = 6
    barrier = threading.Barrier(workers)
    answers: list[str] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(f.redeem(ev, p.secret).message().get("reason", "ok"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(answers) == ["already_redeemed"] * (workers - 1) + ["ok"]
    seq = EventSequence.objects.get(pk=ev.pk)
    assert (seq.last_seq, seq.checked_in, seq.inside) == (workers, 1, 1)
    assert sorted(Checkin.objects.filter(event=ev).values_list("seq", flat=True)) == list(
        range(1, workers + 1)
    )
