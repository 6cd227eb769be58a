"""Pass holders are reminded before their event starts, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.checkin import services
from backend.checkin.jobs import remind_event_starting
from backend.notifications.models import Notification
from tests.checkin import factories as cf
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_holder_is_reminded_once_before_the_event():
    event = cf.event(starts_at=timezone.now() + timedelta(minutes=50), venue="民治党群服务中心")
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    assert remind_event_starting() == {"reminded": 1}
    assert remind_event_starting() == {"reminded": 0}
    notice = Notification.objects.get(user=holder, kind="checkin.event_starting")
    assert notice.data["object_id"] == str(pass_obj.pk)
    assert "民治党群服务中心" in notice.body and event.title in notice.title


def test_far_future_past_and_voided_passes_are_not_reminded():
    later = cf.event(starts_at=timezone.now() + timedelta(hours=5))
    cf.attendee(later, holder=UserFactory())
    started = cf.event(starts_at=timezone.now() - timedelta(minutes=5))
    cf.attendee(started, holder=UserFactory())
    soon = cf.event(starts_at=timezone.now() + timedelta(minutes=30))
    voided = cf.attendee(soon, holder=UserFactory())
    services.pass_void(pass_obj=voided, by=None, reason="test")
    cf.attendee(soon, name="无账号参与者")  # no user to tell
    assert remind_event_starting() == {"reminded": 0}
    assert not Notification.objects.filter(kind="checkin.event_starting").exists()
