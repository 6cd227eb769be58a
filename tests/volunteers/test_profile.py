"""Registration: PUT/GET /volunteer/profile."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from backend.core.crypto import unseal
from backend.core.models import AuditLog
from backend.volunteers.models import VolunteerConsent, VolunteerProfile
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
CONSENTS = [{"kind": "terms", "version": "2026-01"}, {"kind": "privacy", "version": "2026-01"}]


def payload(number: str, **extra) -> dict:
    f.divisions()
    body = {
        "real_name": "王小明",
        "id_number": number,
        "mobile": "+86 138-0013-8000",
        "division_code": f.STREET,
        "skills": ["first_aid", "sign_language"],
        "service_categories": ["elderly"],
        "available_times": ["sat_am"],
        "consents": CONSENTS,
    }
    body.update(extra)
    return body


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    return date(today.year - years, today.month, min(today.day, 28))


def test_registration_stores_the_id_sealed_and_answers_masked(api):
    user = UserFactory()
    number = f.id_number(date(1990, 5, 1), male=False)
    response = api.as_user(user).put("/volunteer/profile", payload(number.lower()))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id_number_masked"] == number[0] + "*" * 16 + number[-1]
    assert body["real_name_masked"] == "王*明" and body["mobile_masked"] == "138****8000"
    assert body["birth_date"] == "1990-05-01" and body["gender"] == "female"
    assert body["volunteer_no"].startswith("4403") and not body["is_minor"]
    assert number not in response.content.decode() and "王小明" not in response.content.decode()
    profile = VolunteerProfile.objects.get(user=user)
    assert number not in profile.id_number_sealed
    assert unseal(profile.id_number_sealed, purpose="volunteer.id_number") == number
    assert {c.kind for c in profile.consents.all()} == {"terms", "privacy"}
    assert AuditLog.objects.filter(action="volunteer.registered", object_id=str(profile.pk)).exists()
    again = api.as_user(user).get("/volunteer/profile").json()
    assert again == body


def test_invalid_id_number_is_refused_with_its_code(api):
    number = f.id_number(date(1990, 5, 1))
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    body = assert_error(
        api.as_user(UserFactory()).put("/volunteer/profile", payload(bad)), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["code"] == "invalid_id_number"
    assert not VolunteerProfile.objects.exists()


def test_an_id_number_registers_once(api):
    number = f.id_number(date(1990, 5, 1))
    assert api.as_user(UserFactory()).put("/volunteer/profile", payload(number)).status_code == 200
    assert_error(
        api.as_user(UserFactory()).put("/volunteer/profile", payload(number)), 409, "id_number_taken"
    )


def test_under_the_minimum_age_is_refused(api):
    number = f.id_number(years_ago(9))
    assert_error(api.as_user(UserFactory()).put("/volunteer/profile", payload(number)), 422, "too_young")
    assert not VolunteerProfile.objects.exists()


def test_minimum_age_is_configurable(api, settings):
    settings.LINLI_VOLUNTEER_MIN_AGE = 8
    number = f.id_number(years_ago(9))
    guardian = {"name": "王大明", "mobile": "13900139000", "relation": "父亲", "consent": True}
    response = api.as_user(UserFactory()).put("/volunteer/profile", payload(number, guardian=guardian))
    assert response.status_code == 200, response.json()


def test_a_minor_names_a_guardian_and_their_own_box_records_no_consent(api):
    number = f.id_number(years_ago(15))
    user = UserFactory()
    assert_error(
        api.as_user(user).put("/volunteer/profile", payload(number)), 422, "guardian_consent_required"
    )
    guardian = {"name": "王大明", "mobile": "13900139000", "relation": "父亲", "consent": True}
    response = api.as_user(user).put("/volunteer/profile", payload(number, guardian=guardian))
    assert response.status_code == 200, response.json()
    assert response.json()["is_minor"] and response.json()["guardian_name_masked"] == "王*明"
    # The guardian gives consent on their own phone (tests/volunteers/test_guardian_consent.py).
    assert not VolunteerConsent.objects.filter(profile__user=user, kind="guardian").exists()


def test_current_consents_are_required(api):
    number = f.id_number(date(1990, 5, 1))
    body = assert_error(
        api.as_user(UserFactory()).put("/volunteer/profile", payload(number, consents=CONSENTS[:1])),
        422,
        "consent_required",
    )
    assert body["details"]["errors"][0]["kind"] == "privacy"


def test_update_keeps_the_volunteer_number_and_earlier_consents(api):
    user = UserFactory()
    number = f.id_number(date(1990, 5, 1))
    first = api.as_user(user).put("/volunteer/profile", payload(number)).json()
    second = (
        api.as_user(user).put("/volunteer/profile", payload(number, consents=[], skills=["driving"])).json()
    )
    assert second["volunteer_no"] == first["volunteer_no"] and second["skills"] == ["driving"]


def test_profile_of_a_non_volunteer_is_not_found(api):
    assert_error(api.as_user(UserFactory()).get("/volunteer/profile"), 404, "not_found")
