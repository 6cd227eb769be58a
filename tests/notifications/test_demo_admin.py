"""Demo seed and admin pages of the notifications domain."""

from __future__ import annotations

import io

import pytest

from backend.notifications import demo
from backend.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent():
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    from backend.accounts.demo import DEMO_PHONES

    assert Notification.objects.filter(kind="system.welcome").count() == len(DEMO_PHONES)


def test_admin_lists_render(admin_client):
    demo.seed(io.StringIO())
    for model in ("notification", "device", "deliveryattempt", "preference", "scheduledjob"):
        response = admin_client.get(f"/admin/notifications/{model}/")
        assert response.status_code == 200, model
