"""The shared keyset pagination: opaque cursors, one query a page, every row exactly once."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.accounts.models import User
from backend.core.errors import ValidationFailed
from backend.core.pagination import cursor_decode, cursor_encode, keyset_page
from tests.factories import UserFactory
from tests.helpers import assert_error


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_cursor_round_trips(value):
    cursor = cursor_encode(value)
    assert cursor.isascii() and "=" not in cursor and str(value) != cursor
    assert cursor_decode(cursor) == value


@pytest.mark.parametrize("empty", [None, ""])
def test_no_cursor_is_the_first_page(empty):
    assert cursor_decode(empty) is None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "garbage",
    [
        "!!",
        "%%%",
        "a",  # not valid base64 length
        _b64("abc"),
        _b64("-5"),
        _b64("+5"),
        _b64(" 5"),
        _b64("1_000"),
        _b64("n12"),  # the old notifications form
        _b64("id:12"),  # the old volunteers form
        _b64(str(2**63)),  # would overflow a bigint column
        _b64("١٢"),  # non-ASCII digits
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_garbage_cursor_is_a_422_on_the_cursor_field(garbage):
    with pytest.raises(ValidationFailed) as exc:
        cursor_decode(garbage)
    err = exc.value
    assert err.status == 422 and err.error_code == "validation_error"
    [entry] = err.details["errors"]
    assert (entry["field"], entry["code"]) == ("cursor", "invalid_cursor")


def _walk(qs, *, limit, **kwargs) -> tuple[list[int], int]:
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = keyset_page(qs, cursor=cursor, limit=limit, **kwargs)
        pages += 1
        seen += [row.pk for row in rows]
        if cursor is None:
            return seen, pages
        assert pages < 100


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 4, 5, 6, 10])
def test_descending_walk_sees_every_row_once(count):
    ids = [UserFactory().pk for _ in range(count)]
    seen, pages = _walk(User.objects.filter(pk__in=ids), limit=5)
    assert seen == sorted(ids, reverse=True)
    # an exact multiple of the page size ends without an empty extra page
    assert pages == max(1, -(-count // 5))


@pytest.mark.django_db
def test_ascending_walk_and_a_custom_key():
    ids = [UserFactory().pk for _ in range(7)]
    qs = User.objects.filter(pk__in=ids)
    assert _walk(qs, limit=3, descending=False)[0] == sorted(ids)
    assert _walk(qs, limit=3, key="id")[0] == sorted(ids, reverse=True)


@pytest.mark.django_db
def test_next_cursor_names_the_last_row_and_ignores_queryset_ordering():
    ids = sorted(UserFactory().pk for _ in range(4))
    rows, cursor = keyset_page(
        User.objects.filter(pk__in=ids).order_by("-date_joined", "phone"), cursor=None, limit=2
    )
    assert [r.pk for r in rows] == ids[:1:-1] and cursor_decode(cursor) == ids[2]
    rows, cursor = keyset_page(User.objects.filter(pk__in=ids), cursor=cursor, limit=2)
    assert [r.pk for r in rows] == [ids[1], ids[0]] and cursor is None


@pytest.mark.django_db
@pytest.mark.parametrize(("limit", "expected"), [(0, 1), (-3, 1), (2, 2), (500, 4)])
def test_limit_is_clamped(limit, expected):
    ids = [UserFactory().pk for _ in range(6)]
    rows, _ = keyset_page(User.objects.filter(pk__in=ids), cursor=None, limit=limit, max_limit=4)
    assert len(rows) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_one_query_per_page(count, django_assert_num_queries):
    ids = [UserFactory().pk for _ in range(count)]
    qs = User.objects.filter(pk__in=ids)
    with django_assert_num_queries(1):
        keyset_page(qs, cursor=cursor_encode(10**9), limit=100)


def test_a_garbage_cursor_reaches_the_client_as_invalid_cursor(api, user):
    body = assert_error(
        api.as_user(user).get("/me/notifications", {"cursor": "!!!"}), 422, "validation_error"
    )
    assert [(e["field"], e["code"]) for e in body["details"]["errors"]] == [("cursor", "invalid_cursor")]
