from __future__ import annotations

import io

import pytest

from backend.accounts.demo import DEMO_STREET, demo_user
from backend.rivers import demo
from backend.rivers.models import Patrol, River, RiverIssue, StewardAssignment
from tests.rivers import factories as f

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_gives_the_volunteer_a_valid_patrol():
    f.divisions()
    assert DEMO_STREET == f.STREET
    volunteer = demo_user("volunteer")
    # The volunteers demo registers the demo volunteer; do the same here.
    from backend.volunteers.models import VolunteerProfile

    if not VolunteerProfile.objects.filter(user=volunteer).exists():
        profile_user = f.volunteer()
        VolunteerProfile.objects.filter(user=profile_user).update(user=volunteer)
    for _ in range(2):
        demo.seed(io.StringIO())
    assert River.objects.filter(name=demo.DEMO_RIVER).count() == 1
    assert StewardAssignment.objects.filter(user=volunteer).count() == 1
    patrol = Patrol.objects.get(user=volunteer)
    assert patrol.is_valid is True and patrol.service_record_id
    assert RiverIssue.objects.count() == 1
