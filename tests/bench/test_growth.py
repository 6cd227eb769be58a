"""The growth benchmark's data builder: copies of a row made inside the database, on both."""

from __future__ import annotations

import pytest

from backend.accounts.models import User
from backend.notifications.models import Notification
from bench.growth import READS, clone_rows, padded
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_copies_vary_the_unique_columns_and_get_consecutive_ids():
    from django.db import connection

    template = UserFactory(phone="13800000099")
    first, last = clone_rows(
        User, template.pk, 25, {"phone": padded(connection.vendor, "139", 8), "firebase_uid": "NULL"}
    )
    assert last - first + 1 == 25
    phones = list(User.objects.filter(pk__range=(first, last)).order_by("pk").values_list("phone", flat=True))
    assert phones[:2] == ["13900000001", "13900000002"] and phones[-1] == "13900000025"
    assert set(User.objects.filter(pk__range=(first, last)).values_list("display_name", flat=True)) == {
        template.display_name
    }


def test_a_copy_that_would_repeat_a_unique_column_is_refused_before_writing():
    template = UserFactory()
    with pytest.raises(ValueError, match="phone"):
        clone_rows(User, template.pk, 3, {})
    assert User.objects.count() == 1


def test_series_expressions_reach_every_copy():
    user = UserFactory()
    note = Notification.objects.create(user=user, kind="k", category="info", title="t", body="b")
    clone_rows(
        Notification,
        note.pk,
        10,
        {"read_at": "CASE WHEN g.n % 2 = 0 THEN NULL ELSE src.created_at END", "dedupe_key": "NULL"},
    )
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 1 + 5


def test_every_read_names_a_role_the_demo_has():
    from backend.accounts.demo import DEMO_PHONES

    assert {role for _, role, _ in READS if role} <= set(DEMO_PHONES)
    assert len({name for name, _, _ in READS}) == len(READS)
