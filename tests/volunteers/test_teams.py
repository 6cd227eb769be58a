"""Teams and team sign-ups through the API: membership needs the member's acceptance; a leader signs
members up all-or-nothing or partially; capacity holds under a burst (real threads)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from backend.volunteers.models import Shift, Signup
from tests.helpers import ApiClient, assert_error
from tests.volunteers import factories as f
from tests.volunteers.test_concurrency import burst


def _no(user) -> str:
    return user.volunteer_profile.volunteer_no


def make_team(api, leader, members, *, accept: bool = True) -> int:
    team = api.as_user(leader).post("/volunteer/teams", {"name": "民治小队"})
    assert team.status_code == 201, team.content
    team_id = team.json()["id"]
    for member in members:
        invited = api.as_user(leader).post(
            f"/volunteer/teams/{team_id}/invitations", {"volunteer_no": _no(member)}
        )
        assert invited.status_code == 201 and invited.json()["status"] == "invited"
        if accept:
            answer = api.as_user(member).post(f"/volunteer/teams/{team_id}/membership", {"accept": True})
            assert answer.json()["status"] == "active"
    return team_id


@pytest.mark.django_db
def test_an_invited_volunteer_is_not_signed_up_until_they_accept(api):
    leader, member = f.volunteer(), f.volunteer(name="王小五")
    shift = f.shift(capacity=5)
    team_id = make_team(api, leader, [member], accept=False)
    mine = api.as_user(member).get("/me/teams").json()["items"]
    assert [m["status"] for m in mine[0]["members"] if m["user_id"] == member.pk] == ["invited"]
    refused = api.as_user(leader).post(
        f"/shifts/{shift.pk}/team-signups", {"team_id": team_id, "user_ids": [leader.pk, member.pk]}
    )
    body = assert_error(refused, 409, "team_signup_failed")
    assert {r["user_id"]: r["code"] for r in body["details"]["results"]} == {member.pk: "not_a_member"}
    assert not Signup.objects.filter(shift=shift).exists()
    api.as_user(member).post(f"/volunteer/teams/{team_id}/membership", {"accept": True})
    done = api.as_user(leader).post(f"/shifts/{shift.pk}/team-signups", {"team_id": team_id})
    assert done.status_code == 200
    assert {(r["user_id"], r["status"]) for r in done.json()["results"]} == {
        (leader.pk, "confirmed"),
        (member.pk, "confirmed"),
    }
    assert Shift.objects.get(pk=shift.pk).taken == 2


@pytest.mark.django_db
def test_a_declined_invitation_keeps_the_volunteer_out(api):
    leader, member = f.volunteer(), f.volunteer()
    team_id = make_team(api, leader, [member], accept=False)
    declined = api.as_user(member).post(f"/volunteer/teams/{team_id}/membership", {"accept": False})
    assert declined.json()["status"] == "declined"
    assert_error(api.as_user(member).get(f"/volunteer/teams/{team_id}"), 404, "not_found")
    shift = f.shift(capacity=5)
    result = api.as_user(leader).post(
        f"/shifts/{shift.pk}/team-signups", {"team_id": team_id, "user_ids": [member.pk], "mode": "partial"}
    )
    assert result.json()["results"] == [
        {
            "user_id": member.pk,
            "ok": False,
            "signup_id": None,
            "status": None,
            "code": "not_a_member",
            "details": {},
        }
    ]


@pytest.mark.django_db
def test_all_or_nothing_signs_up_nobody_when_places_run_short(api):
    leader, a, b = f.volunteer(), f.volunteer(), f.volunteer()
    shift = f.shift(capacity=2, waitlist_size=5)
    team_id = make_team(api, leader, [a, b])
    body = assert_error(
        api.as_user(leader).post(f"/shifts/{shift.pk}/team-signups", {"team_id": team_id}),
        409,
        "team_signup_failed",
    )
    assert Counter(r["code"] for r in body["details"]["results"]) == {None: 2, "shift_full": 1}
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (0, 0) and not Signup.objects.filter(shift=shift).exists()


@pytest.mark.django_db
def test_partial_gives_per_member_results_and_the_waitlist_on_request(api):
    leader, a, b = f.volunteer(), f.volunteer(), f.volunteer()
    shift = f.shift(capacity=2, waitlist_size=5)
    team_id = make_team(api, leader, [a, b])
    path = f"/shifts/{shift.pk}/team-signups"
    results = api.as_user(leader).post(path, {"team_id": team_id, "mode": "partial"}).json()["results"]
    assert [(r["ok"], r["status"] or r["code"]) for r in results] == [
        (True, "confirmed"),
        (True, "confirmed"),
        (False, "shift_full"),
    ]
    again = api.as_user(leader).post(path, {"team_id": team_id, "mode": "partial", "waitlist": True}).json()
    assert [r["status"] or r["code"] for r in again["results"]] == [
        "already_signed_up",
        "already_signed_up",
        "waitlisted",
    ]
    shift.refresh_from_db()
    assert (shift.taken, shift.waitlisted) == (2, 1)


@pytest.mark.django_db
def test_each_member_passes_the_single_signup_checks(api):
    leader, young = f.volunteer(), f.volunteer(birth=date(2016, 1, 1))
    act = f.activity(min_age=18)
    shift = f.shift(act, capacity=5)
    team_id = make_team(api, leader, [young])
    path = f"/shifts/{shift.pk}/team-signups"
    body = assert_error(api.as_user(leader).post(path, {"team_id": team_id}), 409, "team_signup_failed")
    failed = [r for r in body["details"]["results"] if not r["ok"]]
    assert failed[0]["user_id"] == young.pk and failed[0]["code"] == "requirements_not_met"
    assert failed[0]["details"]["reasons"][0]["requirement"] == "min_age"
    partial = api.as_user(leader).post(path, {"team_id": team_id, "mode": "partial"}).json()["results"]
    assert [r["ok"] for r in partial] == [True, False]


@pytest.mark.django_db
def test_only_the_leader_signs_the_team_up(api):
    leader, member, outsider = f.volunteer(), f.volunteer(), f.volunteer()
    shift = f.shift(capacity=5)
    team_id = make_team(api, leader, [member])
    path = f"/shifts/{shift.pk}/team-signups"
    assert_error(api.as_user(member).post(path, {"team_id": team_id}), 403, "permission_denied")
    assert_error(api.as_user(outsider).post(path, {"team_id": team_id}), 404, "not_found")
    assert_error(
        api.as_user(member).post(f"/volunteer/teams/{team_id}/invitations", {"volunteer_no": _no(outsider)}),
        403,
        "permission_denied",
    )
    left = api.as_user(member).delete(f"/volunteer/teams/{team_id}/membership")
    assert left.json()["status"] == "left"
    assert_error(
        api.as_user(leader).delete(f"/volunteer/teams/{team_id}/membership"), 409, "invalid_transition"
    )


@pytest.mark.django_db(transaction=True)
def test_team_and_single_signups_in_a_burst_never_overbook():
    """Three teams of three (all-or-nothing) and six single volunteers at once on 5 places."""
    shift = f.shift(capacity=5, waitlist_size=0)
    api = ApiClient()
    teams = []
    for _ in range(3):
        leader, members = f.volunteer(), [f.volunteer(), f.volunteer()]
        teams.append((leader, make_team(api, leader, members)))
    singles = [f.volunteer() for _ in range(6)]
    calls = [
        lambda leader=leader, team_id=team_id: ApiClient(leader).post(
            f"/shifts/{shift.pk}/team-signups", {"team_id": team_id}
        )
        for leader, team_id in teams
    ] + [lambda u=u: ApiClient(u).post(f"/shifts/{shift.pk}/signups") for u in singles]
    responses = burst(calls)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    team_ok = [r for r in responses[:3] if r.status_code == 200]
    assert all(r.status_code in (200, 201, 409) for r in responses), [r.content for r in responses]
    assert all(len([x for x in r.json()["results"] if x["ok"]]) == 3 for r in team_ok)  # whole teams only
    singles_ok = [r for r in responses[3:] if r.status_code == 201]
    shift.refresh_from_db()
    confirmed = Signup.objects.filter(shift=shift, status="confirmed").count()
    assert shift.taken == confirmed == 3 * len(team_ok) + len(singles_ok) <= 5
    assert shift.taken == 5 or not [r for r in responses[3:] if r.status_code == 409]


@pytest.mark.django_db
def test_my_teams_runs_the_same_queries_for_1_or_20_members(api, django_assert_max_num_queries):
    leader = f.volunteer()
    team_id = make_team(api, leader, [f.volunteer()])
    with django_assert_max_num_queries(6):
        assert len(api.as_user(leader).get("/me/teams").json()["items"][0]["members"]) == 2
    for _ in range(19):
        member = f.volunteer()
        api.as_user(leader).post(f"/volunteer/teams/{team_id}/invitations", {"volunteer_no": _no(member)})
    with django_assert_max_num_queries(6):
        assert len(api.as_user(leader).get("/me/teams").json()["items"][0]["members"]) == 21
