"""A scan costs a fixed number of statements: the redeem is the hot path of every event door.

Counted inside the test's transaction, so ``atomic`` is a savepoint and its release (two of the
counts). SQLite writes a statement each; PostgreSQL writes everything in one statement.
"""

from __future__ import annotations

import pytest
from django.db import connection

from backend.checkin import services
from tests.checkin import factories as f

pytestmark = pytest.mark.django_db

# savepoint, lock, lists, (writes), release
QUERIES = {
    "sqlite": {
        "entry": 9,
        "already_redeemed": 7,
        "exit": 9,
        "replay": 4,
        "forged": 6,
        "voided": 6,
        "old_secret": 8,
    },
    "postgresql": {
        "entry": 5,
        "already_redeemed": 5,
        "exit": 5,
        "replay": 4,
        "forged": 5,
        "voided": 5,
        "old_secret": 7,
    },
}


def expected(case: str) -> int:
    return QUERIES[connection.vendor][case]


@pytest.fixture
def ev():
    ev = f.event()
    f.redeem(ev, f.attendee(ev).secret)  # the signing keys are loaded once per process
    return ev


def test_admitted_entry_and_exit(ev, django_assert_num_queries):
    p = f.attendee(ev)
    with django_assert_num_queries(expected("entry")):
        assert f.redeem(ev, p.secret).message()["status"] == "ok"
    with django_assert_num_queries(expected("already_redeemed")):
        assert f.redeem(ev, p.secret).message()["reason"] == "already_redeemed"
    with django_assert_num_queries(expected("exit")):
        assert f.redeem(ev, p.secret, kind="exit").message()["status"] == "ok"


def test_replayed_nonce(ev, django_assert_num_queries):
    p = f.attendee(ev)
    f.redeem(ev, p.secret, nonce="nonce-replay-1")
    with django_assert_num_queries(expected("replay")):
        assert f.redeem(ev, p.secret, nonce="nonce-replay-1").replayed


def test_refused_secrets(ev, django_assert_num_queries):
    with django_assert_num_queries(expected("forged")):
        assert f.redeem(ev, "not a pass at all").message()["reason"] == "invalid"
    voided = services.pass_void(pass_obj=f.attendee(ev))
    with django_assert_num_queries(expected("voided")):
        assert f.redeem(ev, voided.secret).message()["reason"] == "revoked"
    p = f.attendee(ev)
    old = p.secret
    services.pass_reissue(pass_obj=p)
    with django_assert_num_queries(expected("old_secret")):
        assert f.redeem(ev, old).message()["reason"] == "revoked"
