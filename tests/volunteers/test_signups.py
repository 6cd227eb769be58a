"""Sign-ups through the API: places, waitlist, refusals, cancellation and promotion, no-shows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.core.models import AuditLog
from backend.notifications.models import Notification
from backend.volunteers import jobs
from backend.volunteers.models import Shift, Signup, VolunteerProfile
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db


def sign(api, user, shift):
    return api.as_user(user).post(f"/shifts/{shift.pk}/signups")


def test_places_then_waitlist_then_full(api):
    shift = f.shift(capacity=2, waitlist_size=1)
    users = [f.volunteer() for _ in range(4)]
    statuses = [sign(api, u, shift) for u in users]
    assert [r.status_code for r in statuses[:3]] == [201, 201, 201]
    assert [r.json()["status"] for r in statuses[:3]] == ["confirmed", "confirmed", "waitlisted"]
    assert_error(statuses[3], 409, "shift_full")
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (2, 1)


def test_a_signup_runs_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    """The burst path: a place or a waitlist spot in one short transaction, and a full shift
    refused from the committed counters without one (auth session included; under the test's
    transaction the sign-up's atomic block adds a savepoint and its release)."""
    shift = f.shift(capacity=1, waitlist_size=1)
    clients = [api.as_user(f.volunteer()) for _ in range(3)]
    with django_assert_max_num_queries(12):
        assert clients[0].post(f"/shifts/{shift.pk}/signups").json()["status"] == "confirmed"
    with django_assert_max_num_queries(13):
        assert clients[1].post(f"/shifts/{shift.pk}/signups").json()["status"] == "waitlisted"
    with django_assert_max_num_queries(2):
        assert_error(clients[2].post(f"/shifts/{shift.pk}/signups"), 409, "shift_full")


def test_without_a_waitlist_a_full_shift_refuses(api):
    shift = f.shift(capacity=1, waitlist_size=0)
    assert sign(api, f.volunteer(), shift).status_code == 201
    assert_error(sign(api, f.volunteer(), shift), 409, "shift_full")


def test_the_same_shift_twice_is_refused(api, vol):
    shift = f.shift()
    assert sign(api, vol, shift).status_code == 201
    assert_error(sign(api, vol, shift), 409, "already_signed_up")
    assert Shift.objects.get(pk=shift.pk).taken == 1


def test_overlapping_shifts_are_refused(api, vol):
    first = f.shift(hours=3)
    overlapping = f.shift(starts_at=first.starts_at + timedelta(hours=2))
    after = f.shift(starts_at=first.ends_at)
    assert sign(api, vol, first).status_code == 201
    body = assert_error(sign(api, vol, overlapping), 409, "overlapping_shift")
    assert body["details"]["shift_id"] == first.pk
    assert sign(api, vol, after).status_code == 201


def test_the_first_overlapping_shift_is_named_and_only_live_sign_ups_count(api, vol):
    wanted = f.shift(hours=4)
    cancelled, waiting, held = (f.shift(starts_at=wanted.starts_at + timedelta(hours=h)) for h in (1, 2, 3))
    for shift, status in ((cancelled, "cancelled"), (waiting, "waitlisted"), (held, "confirmed")):
        Signup.objects.create(shift=shift, user=vol, status=status)  # as if signed up before
    body = assert_error(sign(api, vol, wanted), 409, "overlapping_shift")
    assert body["details"]["shift_id"] == waiting.pk  # the first live one; a cancelled one is gone
    Signup.objects.filter(shift__in=[waiting, held]).update(status="cancelled")
    assert sign(api, vol, wanted).json()["status"] == "confirmed"
    assert_error(sign(api, vol, wanted), 409, "already_signed_up")
    assert Shift.objects.get(pk=wanted.pk).taken == 1


def _created(user) -> list[str]:
    return [
        a.data["status"]
        for a in AuditLog.objects.filter(action="signup.created", object_type="volunteers.signup")
        if Signup.objects.filter(pk=a.object_id, user=user).exists()
    ]


@pytest.mark.parametrize(
    "expect, places_left, spots_left, outcome",
    [
        ("confirmed", 1, 1, "confirmed"),  # as counted: the counter is taken last
        ("waitlisted", 1, 1, "waitlisted"),
        ("confirmed", 0, 1, "waitlisted"),  # the place had gone: rolled back, run again
        ("waitlisted", 1, 0, "confirmed"),
        ("confirmed", 0, 0, "shift_full"),
    ],
)
def test_a_sign_up_the_gate_counted_is_written_as_counted_or_run_again(
    vol, expect, places_left, spots_left, outcome
):
    """The gate counts each admitted sign-up for a place or a spot (``expect``); the sign-up,
    its audit row and its pass are written with that status and the counter taken last. If what
    it was counted for has gone, nothing of that attempt stays and it runs the usual way."""
    from backend.checkin import services as checkin
    from backend.checkin.models import Pass
    from backend.volunteers import services
    from backend.volunteers.errors import ShiftFull
    from tests.checkin import factories as cf

    shift = f.shift(capacity=3, waitlist_size=3)
    Shift.objects.filter(pk=shift.pk).update(taken=3 - places_left, waitlisted=3 - spots_left)
    checkin.event_shifts_link(event=cf.event(org=shift.activity.organisation), shifts=[shift])
    if outcome == "shift_full":
        with pytest.raises(ShiftFull):
            services.shift_signup_create(shift_id=shift.pk, user=vol, gate_read=True, expect=expect)
        assert not Signup.objects.filter(user=vol).exists() and _created(vol) == []
        assert not AuditLog.objects.filter(action="signup.created").exists()
    else:
        with CaptureQueriesContext(connection) as captured:
            signup = services.shift_signup_create(shift_id=shift.pk, user=vol, gate_read=True, expect=expect)
        # (the test's own transaction turns the sign-up's into a savepoint)
        last = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]][-1]
        if expect == outcome:  # the shift's row is locked by the transaction's last statement
            assert last.startswith('UPDATE "volunteers_shift"'), last
        assert signup.status == outcome and Signup.objects.get(user=vol).status == outcome
        assert _created(vol) == [outcome]  # one audit row: the rolled-back attempt left none
        passes = Pass.objects.filter(signup=signup, status=Pass.Status.VALID).count()
        assert passes == (1 if outcome == "confirmed" else 0)
    after = Shift.objects.get(pk=shift.pk)
    taken = 3 - places_left + (outcome == "confirmed")
    assert (after.taken, after.waitlisted) == (taken, 3 - spots_left + (outcome == "waitlisted"))


def test_signup_outside_the_window_is_closed(api, vol):
    not_yet = f.shift(signup_opens_at=timezone.now() + timedelta(days=1))
    closed = f.shift(starts_in=timedelta(days=9), signup_closes_at=timezone.now() - timedelta(minutes=1))
    assert_error(sign(api, vol, not_yet), 409, "signup_closed")
    assert_error(sign(api, vol, closed), 409, "signup_closed")


def test_draft_activity_shift_is_not_found(api, vol):
    assert_error(sign(api, vol, f.shift(f.activity(status="draft"))), 404, "not_found")


def test_requirements_age_skills_and_profile(api):
    shift = f.shift(f.activity(min_age=16, required_skills=["first_aid"]))
    young = f.volunteer(birth=date(timezone.localdate().year - 14, 1, 1), skills=["first_aid"])
    body = assert_error(sign(api, young, shift), 409, "requirements_not_met")
    assert body["details"]["reasons"][0]["requirement"] == "min_age"
    unskilled = f.volunteer()
    body = assert_error(sign(api, unskilled, shift), 409, "requirements_not_met")
    assert body["details"]["reasons"] == [{"requirement": "skills", "missing": ["first_aid"]}]
    body = assert_error(sign(api, UserFactory(), shift), 409, "requirements_not_met")
    assert body["details"]["reasons"] == [{"requirement": "profile"}]
    assert sign(api, f.volunteer(skills=["first_aid"]), shift).status_code == 201


def test_cancel_promotes_the_first_waitlisted_with_a_confirm_by_time(api):
    shift = f.shift(capacity=1, waitlist_size=2)
    holder, first, second = f.volunteer(), f.volunteer(), f.volunteer()
    held = sign(api, holder, shift).json()
    sign(api, first, shift)
    sign(api, second, shift)
    cancelled = api.as_user(holder).delete(f"/signups/{held['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    promoted = Signup.objects.get(user=first, shift=shift)
    assert promoted.status == "promoted" and promoted.confirm_by is not None
    assert Signup.objects.get(user=second, shift=shift).status == "waitlisted"
    note = Notification.objects.get(user=first, kind="signup.promoted")
    assert note.urgent and note.data["object_id"] == str(promoted.pk)
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (1, 1)
    mine = api.as_user(first).get("/me/signups").json()["items"]
    assert mine[0]["status"] == "promoted" and mine[0]["confirm_by"]
    confirmed = api.as_user(first).post(f"/signups/{promoted.pk}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"


def test_unconfirmed_promotion_passes_on(api):
    shift = f.shift(capacity=1, waitlist_size=2)
    holder, first, second = f.volunteer(), f.volunteer(), f.volunteer()
    held = sign(api, holder, shift).json()
    sign(api, first, shift)
    sign(api, second, shift)
    api.as_user(holder).delete(f"/signups/{held['id']}")
    promoted = Signup.objects.get(user=first, shift=shift)
    assert jobs.expire_promotions(now=promoted.confirm_by - timedelta(seconds=1)) == 0
    assert jobs.expire_promotions(now=promoted.confirm_by + timedelta(seconds=1)) == 1
    assert Signup.objects.get(pk=promoted.pk).status == "expired"
    assert Signup.objects.get(user=second, shift=shift).status == "promoted"
    assert Notification.objects.filter(user=second, kind="signup.promoted").exists()
    assert jobs.expire_promotions(now=promoted.confirm_by + timedelta(seconds=2)) == 0  # idempotent
    late = api.as_user(first).post(f"/signups/{promoted.pk}/confirm")
    assert_error(late, 409, "invalid_transition")
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (1, 0)


def test_cancel_after_the_deadline_counts_as_late(api, vol):
    shift = f.shift(starts_in=timedelta(hours=10))  # deadline was 24 h before the start
    held = sign(api, vol, shift).json()
    assert api.as_user(vol).delete(f"/signups/{held['id']}").json()["status"] == "cancelled_late"


def test_only_the_volunteer_cancels_their_signup(api, vol):
    held = sign(api, vol, f.shift()).json()
    assert_error(api.as_user(f.volunteer()).delete(f"/signups/{held['id']}"), 404, "not_found")
    assert api.as_user(vol).delete(f"/signups/{held['id']}").status_code == 200
    assert_error(api.as_user(vol).delete(f"/signups/{held['id']}"), 409, "cancel_not_allowed")


def test_cancelled_volunteer_may_sign_up_again(api, vol):
    shift = f.shift()
    held = sign(api, vol, shift).json()
    api.as_user(vol).delete(f"/signups/{held['id']}")
    assert sign(api, vol, shift).json()["status"] == "confirmed"


def test_roster_is_masked_and_for_coordinators_only(api, org, coordinator, vol):
    shift = f.shift(f.activity(org))
    sign(api, vol, shift)
    roster = api.as_user(coordinator).get(f"/shifts/{shift.pk}/signups")
    assert roster.status_code == 200
    entry = roster.json()["items"][0]
    assert entry["name_masked"] == "张*三" and entry["mobile_masked"] == "138****8000"
    assert "13800138000" not in roster.content.decode()
    assert_error(api.as_user(vol).get(f"/shifts/{shift.pk}/signups"), 404, "not_found")


def test_no_shows_lead_to_a_temporary_ban(api, org, coordinator, settings):
    settings.LINLI_VOLUNTEER_NO_SHOW_LIMIT = 2
    vol = f.volunteer()
    act = f.activity(org)
    for i in range(2):
        shift = f.shift(act, starts_in=timedelta(days=2 + i))
        signup = Signup.objects.create(shift=shift, user=vol, status="confirmed")
        Shift.objects.filter(pk=shift.pk).update(starts_at=timezone.now() - timedelta(hours=1 + i))
        Shift.objects.filter(pk=shift.pk).update(taken=1)
        response = api.as_user(coordinator).post(f"/signups/{signup.pk}/no-show")
        assert response.status_code == 200 and response.json()["status"] == "no_show"
    profile = VolunteerProfile.objects.get(user=vol)
    assert profile.banned_until > timezone.now() + timedelta(days=6)
    assert Notification.objects.filter(user=vol, kind="volunteer.banned").exists()
    body = assert_error(sign(api, vol, f.shift(act, starts_in=timedelta(days=5))), 409, "volunteer_banned")
    assert body["details"]["until"]


def test_no_show_before_the_start_is_refused(api, org, coordinator, vol):
    signup = sign(api, vol, f.shift(f.activity(org))).json()
    assert_error(api.as_user(coordinator).post(f"/signups/{signup['id']}/no-show"), 409, "invalid_transition")


def test_reminders_go_out_24h_and_2h_before_once_each(vol):
    shift = f.shift(starts_in=timedelta(hours=30))
    Signup.objects.create(shift=shift, user=vol, status="confirmed")
    start = shift.starts_at
    assert jobs.send_shift_reminders(now=start - timedelta(hours=25)) == 0
    assert jobs.send_shift_reminders(now=start - timedelta(hours=23)) == 1
    assert jobs.send_shift_reminders(now=start - timedelta(hours=22)) == 0
    assert jobs.send_shift_reminders(now=start - timedelta(hours=1, minutes=50)) == 1
    assert jobs.send_shift_reminders(now=start - timedelta(hours=1)) == 0
    keys = set(
        Notification.objects.filter(user=vol, kind="shift.reminder").values_list("dedupe_key", flat=True)
    )
    assert len(keys) == 2


def test_my_signups_pages_with_constant_queries(api, vol, django_assert_max_num_queries):
    client = api.as_user(vol)
    act = f.activity()
    Signup.objects.create(shift=f.shift(act), user=vol, status="confirmed")
    with django_assert_max_num_queries(3):
        assert len(client.get("/me/signups").json()["items"]) == 1
    for i in range(49):
        Signup.objects.create(
            shift=f.shift(act, starts_in=timedelta(days=4 + i)), user=vol, status="confirmed"
        )
    with django_assert_max_num_queries(3):
        assert len(client.get("/me/signups", {"limit": 50}).json()["items"]) == 50


def test_raising_capacity_promotes_waitlisted(api, org, coordinator):
    shift = f.shift(f.activity(org), capacity=1, waitlist_size=2)
    a, b = f.volunteer(), f.volunteer()
    sign(api, a, shift)
    sign(api, b, shift)
    response = api.as_user(coordinator).patch(f"/shifts/{shift.pk}", {"capacity": 2})
    assert response.status_code == 200 and response.json()["taken"] == 2
    assert Signup.objects.get(user=b).status == "promoted"
    body = assert_error(
        api.as_user(coordinator).patch(f"/shifts/{shift.pk}", {"capacity": 1}), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["code"] == "below_taken"


def test_signup_with_a_logged_out_token_is_refused(api, vol):
    from backend.accounts.models import AuthSession

    client = api.as_user(vol)
    AuthSession.objects.filter(user=vol).update(revoked_at=timezone.now())
    assert_error(client.post(f"/shifts/{f.shift().pk}/signups"), 401, "invalid_token")
    assert_error(api.post(f"/shifts/{f.shift().pk}/signups"), 401, "not_authenticated")


@pytest.mark.parametrize("status", ["confirmed", "waitlisted", "promoted"])
def test_the_sign_up_answer_built_directly_equals_the_validated_one(vol, status):
    """``SignupOut.of`` (the sign-up path's answer, built without validation) gives every field,
    the same as ninja's validation of the sign-up would."""
    from api.volunteers.schemas import SignupOut

    shift = f.shift()
    signup = Signup.objects.create(
        shift=shift, user=vol, status=status, confirm_by=timezone.now() + timedelta(hours=2)
    )
    signup = Signup.objects.select_related("shift__activity").get(pk=signup.pk)
    built = SignupOut.of(signup)
    assert built.model_fields_set == set(SignupOut.model_fields)
    assert built.model_dump() == SignupOut.from_orm(signup).model_dump()
    assert (built.confirm_by is not None) == (status == "promoted")
