"""The PostgreSQL backend's pool check (``backend.runtime.postgresql``): a connection given back
a moment ago is handed out as it is; one idle longer, or broken, is checked, and a broken one is
replaced before the request sees it."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checks(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL (PostgreSQL)")
    from psycopg_pool import ConnectionPool

    from backend.runtime.postgresql import base

    assert connection.pool is not None and connection.pool.kwargs  # pooled, as settings make it
    seen: list[object] = []
    check = ConnectionPool.check_connection

    def counted(conn):
        seen.append(conn)
        return check(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    connection.close()
    return seen, base, monkeypatch


def _one_request() -> tuple[object, int]:
    """What a request does: a query on a pooled connection, then the connection given back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    raw = connection.connection
    connection.close()
    return raw, pid


def test_a_connection_given_back_a_moment_ago_is_not_checked_again(checks):
    seen, _base, _monkeypatch = checks
    handed = [_one_request()[0] for _ in range(4)]  # the pool's few connections, in turn
    assert set(map(id, seen)) <= set(map(id, handed))  # one not seen given back is checked
    assert len(seen) == len(set(map(id, seen)))  # and only then
    seen.clear()
    for _ in range(5):
        _one_request()
    assert seen == []  # handed out again within CHECK_AFTER: no empty statement


def test_an_idle_connection_is_checked_and_a_broken_one_replaced(checks):
    seen, base, monkeypatch = checks
    _raw, pid = _one_request()
    monkeypatch.setattr(base, "CHECK_AFTER", 0.0)  # as if every connection had sat idle a while
    count = len(seen)
    # The server ends every pooled connection's session, as a database restart would.
    other = connection.pool.getconn()
    try:
        other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        connection.pool.putconn(other)
    _raw, new_pid = _one_request()  # still answered: the broken ones were checked and dropped
    assert new_pid != pid and len(seen) > count
