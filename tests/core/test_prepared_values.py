"""Statements compiled once (backend.core.db: PreparedValues, PreparedUpdate, PreparedInsert) answer
and write what the ORM does."""

from __future__ import annotations

import pytest
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Concat

from backend.accounts.models import AuthSession, User
from backend.core.db import PreparedInsert, PreparedUpdate, PreparedValues
from backend.core.models import AuditLog
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


def test_a_prepared_update_changes_what_the_orm_would(django_assert_num_queries):
    users = [UserFactory(is_active=True) for _ in range(2)]
    deactivate = PreparedUpdate(
        lambda user_id: User.objects.filter(pk=user_id, is_active=True),
        "user_id",
        changes={"is_active": False},
    )
    with django_assert_num_queries(1):
        assert deactivate.run(users[0].pk) == 1
    assert deactivate.run(users[0].pk) == 0  # the filter no longer matches
    assert list(User.objects.order_by("pk").values_list("is_active", flat=True)) == [False, True]


def test_a_prepared_update_takes_expressions():
    user = UserFactory(display_name="张三")
    rename = PreparedUpdate(
        lambda user_id: User.objects.filter(pk=user_id),
        "user_id",
        changes={"display_name": Concat(F("display_name"), Value("%s 100%"))},
    )
    assert rename.run(user.pk) == 1
    user.refresh_from_db()
    assert user.display_name == "张三%s 100%"


def test_a_prepared_insert_writes_the_row_create_writes(django_assert_num_queries):
    """Every column as ``objects.create`` writes it: defaults, ``auto_now_add``, JSON, NULLs."""
    user = UserFactory()
    insert = PreparedInsert(AuditLog)
    values = dict(actor_id=user.pk, action="test.done", object_type="x", object_id="7", data={"a": [1, "二"]})
    with django_assert_num_queries(1):
        row = insert.create(**values)
    reference = AuditLog.objects.create(**values)
    assert row.pk is not None and row.pk != reference.pk and not row._state.adding
    written = AuditLog.objects.get(pk=row.pk)
    fields = [f.attname for f in AuditLog._meta.concrete_fields if f.attname not in ("id", "at")]
    assert [getattr(written, f) for f in fields] == [getattr(reference, f) for f in fields]
    assert written.data == {"a": [1, "二"]} and written.ip is None and written.reason == ""
    assert written.at == row.at and abs((reference.at - row.at).total_seconds()) < 60


def test_a_prepared_insert_raises_what_create_raises():
    """A constraint the row breaks: the same IntegrityError, and the transaction usable after."""
    from django.db import IntegrityError, transaction

    user = UserFactory()
    insert = PreparedInsert(User)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert.create(phone=user.phone, password="!")
    assert User.objects.filter(phone=user.phone).count() == 1


def test_a_prepared_insert_refuses_an_expression():
    insert = PreparedInsert(AuditLog)
    with pytest.raises(ValueError, match="plain values"):
        insert.create(action=Concat(Value("a"), Value("b")))


def test_a_prepared_add_writes_the_same_row_without_reading_its_key():
    """``add`` (an audit row nobody reads back): the row ``create`` writes, with no RETURNING."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    insert = PreparedInsert(AuditLog)
    values = dict(action="test.added", object_type="x", object_id="8", data={"b": "三"})
    with CaptureQueriesContext(connection) as captured:
        assert insert.add(**values) is None
    [query] = captured.captured_queries
    assert query["sql"].startswith("INSERT") and "RETURNING" not in query["sql"].upper()
    added = AuditLog.objects.get(action="test.added")
    assert (added.object_id, added.data, added.actor_id) == ("8", {"b": "三"}, None)
    assert insert.create(**values).pk > added.pk  # both variants compiled, each its own SQL
