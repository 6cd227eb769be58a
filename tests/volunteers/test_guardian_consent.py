"""Guardian consent for minors through the API: the guardian, signed in with the phone number the
minor named, gives it (who, when, text version); until then the minor cannot sign up."""

from __future__ import annotations

import pytest

from backend.notifications.models import Notification
from backend.volunteers.models import VolunteerConsent
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.volunteers import factories as f
from tests.volunteers.test_profile import payload, years_ago

pytestmark = pytest.mark.django_db
GUARDIAN_PHONE = "13900139000"


def _minor(api):
    minor = UserFactory()
    guardian = {"name": "王大明", "mobile": GUARDIAN_PHONE, "relation": "父亲", "consent": True}
    response = api.as_user(minor).put(
        "/volunteer/profile", payload(f.id_number(years_ago(14)), guardian=guardian)
    )
    assert response.status_code == 200, response.content
    return minor


def test_the_guardian_on_their_own_phone_consents_and_the_minor_may_then_sign_up(api, settings):
    guardian = UserFactory(phone=GUARDIAN_PHONE)
    minor = _minor(api)
    assert Notification.objects.filter(user=guardian, kind="guardian.consent_requested").exists()
    shift = f.shift(capacity=3)
    body = assert_error(api.as_user(minor).post(f"/shifts/{shift.pk}/signups"), 409, "requirements_not_met")
    assert {"requirement": "guardian_consent"} in body["details"]["reasons"]
    requests = api.as_user(guardian).get("/me/guardian-requests").json()["items"]
    assert len(requests) == 1 and requests[0]["minor_name_masked"] == "王*明"
    assert requests[0]["consent_version"] is None and requests[0]["current_version"] == "2026-01"
    path = f"/me/guardian-requests/{requests[0]['profile_id']}/consent"
    stale = assert_error(api.as_user(guardian).post(path, {"version": "2020-01"}), 422, "validation_error")
    assert stale["details"]["errors"][0]["current"] == "2026-01"
    given = api.as_user(guardian).post(path, {"version": "2026-01"})
    assert given.status_code == 200 and given.json()["consent_version"] == "2026-01"
    consent = VolunteerConsent.objects.get(profile__user=minor, kind="guardian")
    assert (consent.given_by_id, consent.version) == (guardian.pk, "2026-01") and consent.accepted_at
    assert api.as_user(minor).post(f"/shifts/{shift.pk}/signups").json()["status"] == "confirmed"


def test_only_the_named_guardian_sees_and_answers_the_request(api):
    minor = _minor(api)
    stranger = UserFactory()
    assert api.as_user(stranger).get("/me/guardian-requests").json()["items"] == []
    profile_id = minor.volunteer_profile.pk
    path = f"/me/guardian-requests/{profile_id}/consent"
    assert_error(api.as_user(stranger).post(path, {"version": "2026-01"}), 404, "not_found")
    assert_error(
        api.as_user(minor).post(path, {"version": "2026-01"}), 404, "not_found"
    )  # not for themselves
    assert not VolunteerConsent.objects.filter(kind="guardian").exists()


def test_the_guardian_withdraws_and_the_minors_places_ahead_go(api):
    guardian = UserFactory(phone=GUARDIAN_PHONE)
    minor = _minor(api)
    path = f"/me/guardian-requests/{minor.volunteer_profile.pk}/consent"
    api.as_user(guardian).post(path, {"version": "2026-01"})
    shift = f.shift(capacity=3)
    signup = api.as_user(minor).post(f"/shifts/{shift.pk}/signups").json()
    withdrawn = api.as_user(guardian).delete(path)
    assert withdrawn.status_code == 200 and withdrawn.json()["consent_version"] is None
    assert api.as_user(minor).get("/me/signups").json()["items"][0]["status"] == "cancelled"
    assert signup["status"] == "confirmed"
    assert_error(api.as_user(minor).post(f"/shifts/{shift.pk}/signups"), 409, "requirements_not_met")
