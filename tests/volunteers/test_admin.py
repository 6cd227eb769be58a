"""Staff pages: lists load with masked ID numbers; approving hours goes through the service."""

from __future__ import annotations

from datetime import date

import pytest

from backend.volunteers.models import ServiceRecord
from backend.volunteers.services import service_record_create
from tests.factories import UserFactory
from tests.helpers import admin_client_for
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    return admin_client_for(UserFactory(is_staff=True, is_superuser=True))


def test_profile_list_shows_the_id_number_masked(staff_client):
    user = f.volunteer()
    profile = user.volunteer_profile
    from backend.core.crypto import unseal

    number = unseal(profile.id_number_sealed, purpose="volunteer.id_number")
    page = staff_client.get("/admin/volunteers/volunteerprofile/")
    assert page.status_code == 200
    text = page.content.decode()
    assert number not in text and number[0] + "*" * 16 + number[-1] in text
    detail = staff_client.get(f"/admin/volunteers/volunteerprofile/{profile.pk}/change/")
    assert detail.status_code == 200 and number not in detail.content.decode()


def test_approve_action_uses_the_service(staff_client):
    org, user = f.organisation(), f.volunteer()
    day = date(2026, 3, 7)
    service_record_create(
        user=user,
        organisation=org,
        source="checkin",
        started_at=f.at(day, 6),
        ended_at=f.at(day, 15),
        place="U站",
        content="值守",
        external_ref="admin:1",
    )
    record = ServiceRecord.objects.get()
    assert record.status == "pending"
    response = staff_client.post(
        "/admin/volunteers/servicerecord/", {"action": "approve_records", "_selected_action": [record.pk]}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "valid" and record.decided_by is not None
