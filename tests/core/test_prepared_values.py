"""Queries compiled once (backend.core.db.PreparedValues) answer what the ORM answers."""

from __future__ import annotations

import pytest
from django.db.models import Exists, OuterRef

from backend.accounts.models import AuthSession, User
from backend.core.db import PreparedValues
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_rows_match_the_orm_with_converted_values(django_assert_num_queries):
    user = UserFactory()
    session = AuthSession.objects.create(user=user, method="test")
    query = PreparedValues(
        lambda user_id: (
            AuthSession.objects.filter(user_id=user_id)
            .annotate(active=Exists(User.objects.filter(pk=OuterRef("user_id"), is_active=True)))
            .values_list("pk", "created_at", "active")
        ),
        "user_id",
    )
    with django_assert_num_queries(1):
        rows = query.rows(user.pk)
    assert rows == list(
        AuthSession.objects.filter(user_id=user.pk)
        .annotate(active=Exists(User.objects.filter(pk=OuterRef("user_id"), is_active=True)))
        .values_list("pk", "created_at", "active")
    )
    assert rows[0][0] == session.pk and rows[0][1] == session.created_at and rows[0][2] is True
    assert query.first(user.pk + 1000) is None


def test_the_sql_is_compiled_once_per_variant():
    built: list[int] = []
    variant = ["a"]

    def build(user_id):
        built.append(user_id)
        return User.objects.filter(pk=user_id).values_list("pk")

    query = PreparedValues(build, "user_id", vary_on=lambda: variant[0])
    users = [UserFactory() for _ in range(3)]
    assert [query.first(u.pk) for u in users] == [(u.pk,) for u in users]
    assert len(built) == 1
    variant[0] = "b"
    query.first(users[0].pk)
    assert len(built) == 2


def test_a_value_that_does_not_reach_the_sql_is_refused():
    query = PreparedValues(lambda user_id: User.objects.values_list("pk"), "user_id")
    with pytest.raises(ValueError, match="user_id"):
        query.rows(1)
