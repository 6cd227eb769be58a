"""A registered ID number is corrected only with staff confirmation, keeping its history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.core.crypto import unseal
from backend.core.models import AuditLog
from backend.volunteers.models import IdNumberCorrection, ServiceRecord, Signup, VolunteerProfile
from tests.factories import UserFactory, user_with_role
from tests.helpers import assert_error
from tests.volunteers import factories as f
from tests.volunteers.test_profile import payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(api):
    user = UserFactory()
    first = f.id_number(date(1990, 5, 1))
    assert api.as_user(user).put("/volunteer/profile", payload(first)).status_code == 200
    return user, first


def number_of(user) -> str:
    return unseal(VolunteerProfile.objects.get(user=user).id_number_sealed, purpose="volunteer.id_number")


def served(user, org):
    """The volunteer signed up with ``org`` and has approved hours there."""
    shift = f.shift(f.activity(org), starts_in=timedelta(days=2))
    Signup.objects.create(shift=shift, user=user, status="confirmed")
    return f.record(user, org, f.at(date(2026, 3, 7), 9), f.at(date(2026, 3, 7), 12), "checkin:hours")


def test_a_second_put_with_another_number_changes_nothing(api, registered):
    user, first = registered
    other = f.id_number(date(1985, 1, 2), male=False)
    response = api.as_user(user).put("/volunteer/profile", payload(other))
    assert_error(response, 409, "id_number_correction_required")
    profile = VolunteerProfile.objects.get(user=user)
    assert number_of(user) == first and profile.birth_date == date(1990, 5, 1) and profile.gender == "male"
    # the same number still updates the rest of the profile
    assert api.as_user(user).put("/volunteer/profile", payload(first, skills=["x"])).status_code == 200


def test_coordinator_who_knows_the_volunteer_confirms_a_correction(api, registered, org):
    user, first = registered
    record = served(user, org)
    coordinator = f.coordinator_of(org)
    corrected = f.id_number(date(1991, 6, 2), male=False)
    asked = api.as_user(user).post(
        "/volunteer/profile/id-corrections", {"id_number": corrected, "reason": "注册时输错一位"}
    )
    assert asked.status_code == 201, asked.json()
    body = asked.json()
    assert (
        body["status"] == "pending" and body["new_number_masked"] == corrected[0] + "*" * 16 + corrected[-1]
    )
    assert corrected not in str(body) and first not in str(body)
    assert number_of(user) == first  # not yet
    assert_error(
        api.as_user(user).post(
            "/volunteer/profile/id-corrections", {"id_number": corrected, "reason": "again"}
        ),
        409,
        "id_correction_pending",
    )
    queue = api.as_user(coordinator).get("/volunteer/id-corrections").json()["items"]
    assert [c["id"] for c in queue] == [body["id"]]
    wrong = api.as_user(coordinator).post(
        f"/volunteer/id-corrections/{body['id']}/confirm", {"id_number": f.id_number(date(1991, 6, 2))}
    )
    assert_error(wrong, 409, "id_number_mismatch")
    done = api.as_user(coordinator).post(
        f"/volunteer/id-corrections/{body['id']}/confirm", {"id_number": corrected.lower()}
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "confirmed"
    profile = VolunteerProfile.objects.get(user=user)
    assert number_of(user) == corrected
    assert (profile.birth_date, profile.gender) == (date(1991, 6, 2), "female")
    # hours stay with the person
    assert ServiceRecord.objects.get(pk=record.pk).user_id == user.pk
    totals = api.as_user(user).get("/me/service-records", {"with_totals": "true"}).json()["totals"]
    assert totals["recorded_hours"] == "3.0"
    # the history keeps both numbers, sealed
    kept = IdNumberCorrection.objects.get(pk=body["id"])
    assert unseal(kept.old_number_sealed, purpose="volunteer.id_number") == first
    assert first not in kept.old_number_sealed
    history = api.as_user(user).get("/volunteer/profile/id-corrections").json()
    assert [h["status"] for h in history] == ["confirmed"]
    logged = AuditLog.objects.get(action="volunteer.id_number_corrected")
    assert (
        logged.actor_id == coordinator.pk
        and first not in str(logged.data)
        and corrected not in str(logged.data)
    )
    assert AuditLog.objects.filter(action="volunteer.id_correction_requested", actor=user).exists()
    # the old number is free again, the new one is taken
    assert api.as_user(user).put("/volunteer/profile", payload(corrected)).status_code == 200
    assert_error(
        api.as_user(UserFactory()).put("/volunteer/profile", payload(corrected)), 409, "id_number_taken"
    )


def test_the_new_number_passes_the_registration_checks(api, registered):
    user, first = registered
    other = UserFactory()
    taken = f.id_number(date(1980, 1, 1))
    assert api.as_user(other).put("/volunteer/profile", payload(taken)).status_code == 200
    client = api.as_user(user)
    assert_error(
        client.post("/volunteer/profile/id-corrections", {"id_number": taken, "reason": "x"}),
        409,
        "id_number_taken",
    )
    bad = first[:-1] + ("0" if first[-1] != "0" else "1")
    response = client.post("/volunteer/profile/id-corrections", {"id_number": bad, "reason": "x"})
    assert_error(response, 422, "validation_error")
    assert response.json()["details"]["errors"][0]["code"] == "invalid_id_number"
    young = f.id_number(date.today().replace(year=date.today().year - 8))
    assert_error(
        client.post("/volunteer/profile/id-corrections", {"id_number": young, "reason": "x"}),
        422,
        "too_young",
    )
    same = client.post("/volunteer/profile/id-corrections", {"id_number": first, "reason": "x"})
    assert_error(same, 422, "validation_error")
    assert not IdNumberCorrection.objects.exists()


def test_who_may_decide(api, registered, org):
    user, _first = registered
    corrected = f.id_number(date(1991, 6, 2))
    cid = (
        api.as_user(user)
        .post("/volunteer/profile/id-corrections", {"id_number": corrected, "reason": "换证"})
        .json()["id"]
    )
    stranger = f.coordinator_of(f.organisation("别的协会"))  # never met this volunteer
    assert api.as_user(stranger).get("/volunteer/id-corrections").json()["items"] == []
    assert_error(
        api.as_user(stranger).post(f"/volunteer/id-corrections/{cid}/confirm", {"id_number": corrected}),
        404,
        "not_found",
    )
    assert_error(
        api.as_user(user).post(f"/volunteer/id-corrections/{cid}/confirm", {"id_number": corrected}),
        403,
        "permission_denied",
    )
    admin = user_with_role("platform_admin")
    rejected = api.as_user(admin).post(
        f"/volunteer/id-corrections/{cid}/reject", {"reason": "证件照片不清晰"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert_error(
        api.as_user(admin).post(f"/volunteer/id-corrections/{cid}/confirm", {"id_number": corrected}),
        409,
        "invalid_transition",
    )
    history = api.as_user(user).get("/volunteer/profile/id-corrections").json()
    assert history[0]["decision_reason"] == "证件照片不清晰"
    # a rejected request does not block a new one
    again = api.as_user(user).post(
        "/volunteer/profile/id-corrections", {"id_number": corrected, "reason": "重新提交"}
    )
    assert again.status_code == 201
