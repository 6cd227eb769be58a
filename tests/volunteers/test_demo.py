"""The demo seed runs twice without duplicating anything and leaves a usable demo."""

from __future__ import annotations

import io

import pytest

from backend.accounts.demo import demo_user
from backend.volunteers import demo
from backend.volunteers.models import Activity, ServiceRecord, Signup, VolunteerProfile
from tests.helpers import ApiClient
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_usable():
    f.divisions()
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    volunteer = demo_user("volunteer")
    assert VolunteerProfile.objects.filter(user=volunteer).count() == 1
    assert Activity.objects.filter(title=demo.DEMO_ACTIVITY).count() == 1
    assert Signup.objects.filter(user=volunteer, status="confirmed").count() == 1
    assert ServiceRecord.objects.filter(user=volunteer).count() == 2
    client = ApiClient(volunteer)
    assert client.get("/activities").json()["items"][0]["title"] == demo.DEMO_ACTIVITY
    assert client.get("/me/certificate").status_code == 200
    coordinator = demo_user("coordinator")
    assert ApiClient(coordinator).get("/volunteer/organisations").json()[0]["name"] == demo.DEMO_ORG_NAME
