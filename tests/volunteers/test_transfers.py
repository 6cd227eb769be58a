"""Transferring a place through the API: offer to a named volunteer, accept atomically after the
same checks as a sign-up, expiry, decline and withdrawal; giving a place back to the waitlist."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.volunteers.models import Shift, Signup, SignupTransfer, VolunteerProfile
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db


def _no(user) -> str:
    return user.volunteer_profile.volunteer_no


def _held(api, shift, user) -> int:
    response = api.as_user(user).post(f"/shifts/{shift.pk}/signups")
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    return response.json()["id"]


def _offer(api, giver, signup_id, receiver):
    return api.as_user(giver).post(f"/signups/{signup_id}/transfers", {"volunteer_no": _no(receiver)})


def test_the_named_volunteer_accepts_and_the_place_moves_past_the_waitlist(api):
    giver, receiver, waiting = f.volunteer(), f.volunteer(name="王小五"), f.volunteer()
    shift = f.shift(capacity=1, waitlist_size=2)
    signup_id = _held(api, shift, giver)
    assert api.as_user(waiting).post(f"/shifts/{shift.pk}/signups").json()["status"] == "waitlisted"
    offer = _offer(api, giver, signup_id, receiver)
    assert offer.status_code == 201 and offer.json()["status"] == "offered"
    assert offer.json()["to_name_masked"] == "王*五"
    incoming = api.as_user(receiver).get("/me/transfers").json()["items"]
    assert [t["id"] for t in incoming] == [offer.json()["id"]]
    accepted = api.as_user(receiver).post(f"/transfers/{offer.json()['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    new = Signup.objects.get(pk=accepted.json()["new_signup_id"])
    assert (new.user_id, new.status) == (receiver.pk, "confirmed")
    assert Signup.objects.get(pk=signup_id).status == "transferred"
    assert Signup.objects.get(user=waiting, shift=shift).status == "waitlisted"
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (1, 1)


def test_a_receiver_who_fails_a_check_changes_nothing(api):
    giver, child = f.volunteer(), f.volunteer(birth=date(2015, 1, 1))
    shift = f.shift(f.activity(min_age=18), capacity=1)
    signup_id = _held(api, shift, giver)
    offer = _offer(api, giver, signup_id, child).json()
    body = assert_error(
        api.as_user(child).post(f"/transfers/{offer['id']}/accept"), 409, "requirements_not_met"
    )
    assert body["details"]["reasons"][0]["requirement"] == "min_age"
    assert Signup.objects.get(pk=signup_id).status == "confirmed"
    assert SignupTransfer.objects.get(pk=offer["id"]).status == "offered"
    assert Shift.objects.get(pk=shift.pk).taken == 1 and not Signup.objects.filter(user=child).exists()


def test_overlap_and_bans_are_checked_for_the_receiver(api):
    giver, busy, banned = f.volunteer(), f.volunteer(), f.volunteer()
    shift = f.shift(capacity=3)
    other = f.shift(starts_at=shift.starts_at + timedelta(hours=1), capacity=3)
    _held(api, other, busy)
    signup_id = _held(api, shift, giver)
    offer = _offer(api, giver, signup_id, busy).json()
    assert_error(api.as_user(busy).post(f"/transfers/{offer['id']}/accept"), 409, "overlapping_shift")
    api.as_user(giver).post(f"/transfers/{offer['id']}/decline")
    VolunteerProfile.objects.filter(user=banned).update(banned_until=timezone.now() + timedelta(days=3))
    offer = _offer(api, giver, signup_id, banned).json()
    assert_error(api.as_user(banned).post(f"/transfers/{offer['id']}/accept"), 409, "volunteer_banned")
    assert Signup.objects.get(pk=signup_id).status == "confirmed"


def test_an_offer_expires(api):
    giver, receiver = f.volunteer(), f.volunteer()
    shift = f.shift(capacity=1)
    signup_id = _held(api, shift, giver)
    offer = _offer(api, giver, signup_id, receiver).json()
    assert timezone.now() < SignupTransfer.objects.get(pk=offer["id"]).expires_at <= shift.starts_at
    SignupTransfer.objects.filter(pk=offer["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert api.as_user(giver).get("/me/transfers").json()["items"][0]["status"] == "expired"
    assert_error(api.as_user(receiver).post(f"/transfers/{offer['id']}/accept"), 409, "transfer_expired")
    assert SignupTransfer.objects.get(pk=offer["id"]).status == "expired"
    assert Signup.objects.get(pk=signup_id).status == "confirmed"
    assert _offer(api, giver, signup_id, receiver).status_code == 201  # a new offer may follow


def test_only_the_named_receiver_accepts_and_one_open_offer_per_place(api):
    giver, receiver, other = f.volunteer(), f.volunteer(), f.volunteer()
    shift = f.shift(capacity=1)
    signup_id = _held(api, shift, giver)
    offer = _offer(api, giver, signup_id, receiver).json()
    assert_error(_offer(api, giver, signup_id, other), 409, "invalid_transition")
    assert_error(api.as_user(other).post(f"/transfers/{offer['id']}/accept"), 404, "not_found")
    assert_error(api.as_user(giver).post(f"/transfers/{offer['id']}/accept"), 403, "permission_denied")
    assert_error(
        api.as_user(other).post(f"/signups/{signup_id}/transfers", {"volunteer_no": _no(receiver)}),
        404,
        "not_found",
    )
    withdrawn = api.as_user(giver).post(f"/transfers/{offer['id']}/decline")
    assert withdrawn.json()["status"] == "withdrawn"
    assert_error(api.as_user(receiver).post(f"/transfers/{offer['id']}/accept"), 409, "invalid_transition")
    again = _offer(api, giver, signup_id, receiver).json()
    assert api.as_user(receiver).post(f"/transfers/{again['id']}/decline").json()["status"] == "declined"


def test_giving_a_place_back_promotes_the_first_waitlisted(api):
    giver, first, second = f.volunteer(), f.volunteer(), f.volunteer()
    shift = f.shift(capacity=1, waitlist_size=2)
    signup_id = _held(api, shift, giver)
    api.as_user(first).post(f"/shifts/{shift.pk}/signups")
    api.as_user(second).post(f"/shifts/{shift.pk}/signups")
    assert api.as_user(giver).delete(f"/signups/{signup_id}").status_code == 200
    assert Signup.objects.get(user=first, shift=shift).status == "promoted"
    assert Signup.objects.get(user=second, shift=shift).status == "waitlisted"


def test_the_event_pass_moves_with_the_place(api):
    from backend.checkin import services as checkin
    from backend.checkin.models import Pass
    from tests.checkin import factories as cf

    org = f.organisation()
    shift = f.shift(f.activity(org), capacity=1)
    event = cf.event(
        org=org, starts_at=shift.starts_at, ends_at=shift.ends_at, checkin_opens_at=shift.starts_at
    )
    checkin.event_shifts_link(event=event, shifts=[shift])
    giver, receiver = f.volunteer(), f.volunteer()
    signup_id = _held(api, shift, giver)
    assert Pass.objects.get(signup_id=signup_id).status == "valid"
    offer = _offer(api, giver, signup_id, receiver).json()
    new_id = api.as_user(receiver).post(f"/transfers/{offer['id']}/accept").json()["new_signup_id"]
    assert Pass.objects.get(signup_id=signup_id).status == "void"
    assert Pass.objects.get(signup_id=new_id, status="valid").holder_id == receiver.pk
