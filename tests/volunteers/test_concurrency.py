"""Capacity holds under concurrent sign-ups (real threads, real transactions, both databases)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from backend.volunteers.models import Shift, Signup
from tests.helpers import ApiClient
from tests.volunteers import factories as f

THREADS = 24


def burst(calls):
    """Run the calls at the same moment in threads; each thread closes its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_never_overbook():
    shift = f.shift(capacity=5, waitlist_size=4)
    clients = [ApiClient(f.volunteer()) for _ in range(THREADS)]
    responses = burst([lambda c=c: c.post(f"/shifts/{shift.pk}/signups") for c in clients])
    assert not [r for r in responses if isinstance(r, Exception)], responses
    statuses = Counter(r.status_code for r in responses)
    outcomes = Counter(r.json().get("status") or r.json()["code"] for r in responses)
    assert statuses == {201: 9, 409: THREADS - 9}, outcomes
    assert outcomes == {"confirmed": 5, "waitlisted": 4, "shift_full": THREADS - 9}
    assert all("locked" not in r.content.decode() for r in responses)
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (5, 4)
    assert Signup.objects.filter(shift=shift, status="confirmed").count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_signup_by_one_volunteer_counts_once():
    shift = f.shift(capacity=3, waitlist_size=0)
    user = f.volunteer()
    clients = [ApiClient(user) for _ in range(8)]
    responses = burst([lambda c=c: c.post(f"/shifts/{shift.pk}/signups") for c in clients])
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: 7}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_signed_up"}
    assert Shift.objects.get(pk=shift.pk).taken == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_promote_each_waitlister_once():
    shift = f.shift(capacity=4, waitlist_size=4)
    holders = [f.volunteer() for _ in range(4)]
    waiting = [f.volunteer() for _ in range(4)]
    held = [ApiClient(u).post(f"/shifts/{shift.pk}/signups").json()["id"] for u in holders]
    for u in waiting:
        assert ApiClient(u).post(f"/shifts/{shift.pk}/signups").json()["status"] == "waitlisted"
    responses = burst(
        [lambda u=u, s=s: ApiClient(u).delete(f"/signups/{s}") for u, s in zip(holders, held, strict=True)]
    )
    assert [r.status_code for r in responses] == [200] * 4
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (4, 0)
    assert Counter(Signup.objects.filter(shift=shift).values_list("status", flat=True)) == {
        "cancelled": 4,
        "promoted": 4,
    }


@pytest.mark.django_db(transaction=True)
def test_database_constraint_refuses_overbooking_as_a_backstop():
    from django.db import IntegrityError

    shift = f.shift(capacity=1)
    with pytest.raises(IntegrityError):
        Shift.objects.filter(pk=shift.pk).update(taken=2)


@pytest.mark.django_db(transaction=True)
def test_mixed_cancels_and_signups_keep_the_counters_true():
    shift = f.shift(capacity=3, waitlist_size=3)
    holders = [f.volunteer() for _ in range(3)]
    waiting = [f.volunteer() for _ in range(3)]
    newcomers = [f.volunteer() for _ in range(6)]
    held = [ApiClient(u).post(f"/shifts/{shift.pk}/signups").json()["id"] for u in holders]
    queued = [ApiClient(u).post(f"/shifts/{shift.pk}/signups").json()["id"] for u in waiting]
    calls = [
        lambda u=u, s=s: ApiClient(u).delete(f"/signups/{s}") for u, s in zip(holders, held, strict=True)
    ]
    calls += [
        lambda u=u, s=s: ApiClient(u).delete(f"/signups/{s}")
        for u, s in zip(waiting[:2], queued[:2], strict=True)
    ]
    calls += [lambda u=u: ApiClient(u).post(f"/shifts/{shift.pk}/signups") for u in newcomers]
    responses = burst(calls)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert all(r.status_code < 500 for r in responses), [r.content for r in responses]
    shift.refresh_from_db()
    statuses = Counter(Signup.objects.filter(shift=shift).values_list("status", flat=True))
    held_now = statuses["confirmed"] + statuses["promoted"]
    assert shift.taken == held_now <= 3
    assert shift.waitlisted == statuses["waitlisted"] <= 3
